// The D1 binding (bindings/d1_binding.h is the C++ half): env.DB with prepare(), batch(),
// exec() and withSession(); a session's prepare(), batch() and getBookmark(); prepared
// statements with bind(), first(), all(), run() and raw(). Values are checked and converted as
// the runtime does (numbers and strings as they are, booleans as 1 and 0, null, ArrayBuffers and
// views as arrays of bytes; anything else is a D1_TYPE_ERROR); failures are Errors
// "D1_ERROR: <SQLite's message>: <code>".
//
// An extension of the prelude (js::EngineOptions::extensions), run once in the snapshot.
(function (internal) {
  'use strict';
  const {JSON, Object, Array, ArrayBuffer, Uint8Array, Number, String, Symbol, Error, TypeError} =
      globalThis;
  const host = internal.host;
  const {arrayAppend} = internal;
  const KEY = Symbol('d1-binding');
  const FIRST_PRIMARY = 'first-primary';
  const FIRST_UNCONSTRAINED = 'first-unconstrained';

  function convert(value) {
    const type = typeof value;
    if (type === 'number' || type === 'string') return value;
    if (type === 'boolean') return value ? 1 : 0;
    if (value === null) return null;
    if (type === 'object') {
      if (Array.isArray(value) && value.every((b) => typeof b === 'number' && b >= 0 && b < 256)) {
        return value;
      }
      if (value instanceof ArrayBuffer) return Array.from(new Uint8Array(value));
      if (ArrayBuffer.isView(value)) {
        return Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      }
    }
    throw new Error(`D1_TYPE_ERROR: Type '${type}' not supported for value '${String(value)}'`);
  }

  function meta(answer, r) {
    return {
      served_by: answer.served_by,
      served_by_region: answer.served_by_region,
      served_by_primary: answer.served_by_primary,
      timings: {sql_duration_ms: r.duration},
      duration: r.duration,
      changes: r.changes,
      last_row_id: r.last_row_id,
      changed_db: answer.changed_db,
      size_after: answer.size_after,
      rows_read: r.rows_read,
      rows_written: r.rows_written,
    };
  }

  function objects(r) {
    return r.rows.map((row) => {
      const o = {};
      for (let i = 0; i < r.columns.length; i++) {
        Object.defineProperty(o, r.columns[i],
            {value: row[i], writable: true, enumerable: true, configurable: true});
      }
      return o;
    });
  }

  // A session: where queries go ("" always the primary) and the newest bookmark seen.
  class Route {
    constructor(target, session) { this.target = target; this.session = session; }
    bookmark() {
      return this.session === '' || this.session === FIRST_PRIMARY ||
          this.session === FIRST_UNCONSTRAINED ? null : this.session;
    }
    async send(statements, exec = false) {
      const [answer] = await host.call(this.target, 'query',
          JSON.stringify({session: this.session, exec, statements}), null);
      // Keep the newest bookmark (they sort as they grow); the always-primary route keeps none.
      if (this.session !== '' && answer.bookmark &&
          (this.bookmark() === null || this.session < answer.bookmark)) {
        this.session = answer.bookmark;
      }
      return answer;
    }
    async sendOrThrow(statements) {
      const answer = await this.send(statements);
      const failed = answer.results.find((r) => !r.ok);
      if (failed !== undefined) throw new Error(`D1_ERROR: ${failed.error}`);
      return answer;
    }
  }

  class D1PreparedStatement {
    #route; #sql; #params;
    constructor(key, route, sql, params) {
      if (key !== KEY) throw new TypeError('Illegal constructor');
      this.#route = route;
      this.#sql = String(sql);
      this.#params = params;
    }
    get statement() { return this.#sql; }
    get params() { return this.#params; }
    bind(...values) {
      return new D1PreparedStatement(KEY, this.#route, this.#sql, values.map(convert));
    }
    // What batch() sends for this statement.
    static wire(s) { return {sql: s.#sql, params: s.#params}; }
    static route(s) { return s.#route; }
    async #one() {
      const answer = await this.#route.sendOrThrow([{sql: this.#sql, params: this.#params}]);
      return [answer, answer.results[0]];
    }
    async all() {
      const [answer, r] = await this.#one();
      return {success: true, meta: meta(answer, r), results: objects(r)};
    }
    async run() {
      const [answer, r] = await this.#one();
      return {success: true, meta: meta(answer, r), results: objects(r)};
    }
    async first(column = undefined) {
      const [, r] = await this.#one();
      if (r.rows.length === 0) return null;
      const row = objects(r)[0];
      if (column === undefined) return row;
      if (row[column] === undefined) throw new Error(`D1_COLUMN_NOTFOUND: Column not found (${column})`);
      return row[column];
    }
    async raw(options = undefined) {
      const [, r] = await this.#one();
      const out = options?.columnNames ? [r.columns.slice()] : [];
      for (const row of r.rows) arrayAppend(out, row);
      return out;
    }
    get [Symbol.toStringTag]() { return 'D1PreparedStatement'; }
  }

  async function batch(route, statements) {
    if (!Array.isArray(statements)) throw new TypeError('batch() takes an array of prepared statements');
    const wire = statements.map((s) => {
      if (!(s instanceof D1PreparedStatement)) throw new TypeError('batch() takes prepared statements');
      return D1PreparedStatement.wire(s);
    });
    if (wire.length === 0) return [];
    const answer = await route.sendOrThrow(wire);
    return answer.results.map((r) => ({success: true, meta: meta(answer, r), results: objects(r)}));
  }

  class D1DatabaseSession {
    #route;
    constructor(key, route) {
      if (key !== KEY) throw new TypeError('Illegal constructor');
      this.#route = route;
    }
    prepare(sql) { return new D1PreparedStatement(KEY, this.#route, sql, []); }
    batch(statements) { return batch(this.#route, statements); }
    getBookmark() { return this.#route.bookmark(); }
    get [Symbol.toStringTag]() { return 'D1DatabaseSession'; }
  }

  class D1Database {
    #target; #primary;
    constructor(key, target) {
      if (key !== KEY) throw new TypeError('Illegal constructor');
      this.#target = target;
      this.#primary = new Route(target, '');
    }
    prepare(sql) { return new D1PreparedStatement(KEY, this.#primary, sql, []); }
    batch(statements) { return batch(this.#primary, statements); }
    // Each line is a statement (as the runtime splits it); the first failure is reported.
    async exec(sql) {
      const lines = String(sql).trim().split('\n');
      const answer = await this.#primary.send(lines.map((line) => ({sql: line, params: []})), true);
      const bad = answer.results.findIndex((r) => !r.ok);
      if (bad !== -1) {
        throw new Error(`D1_EXEC_ERROR: Error in line ${bad + 1}: ${lines[bad]}: ${answer.results[bad].error}`);
      }
      return {count: answer.results.length,
        duration: answer.results.reduce((n, r) => n + r.duration, 0)};
    }
    withSession(constraintOrBookmark = undefined) {
      let start = constraintOrBookmark === undefined || constraintOrBookmark === null ? '' :
          String(constraintOrBookmark).trim();
      if (start === '') start = FIRST_UNCONSTRAINED;
      return new D1DatabaseSession(KEY, new Route(this.#target, start));
    }
    async dump() {
      throw new Error('D1_DUMP_ERROR: dump() is not supported by this build of edgesim');
    }
    get [Symbol.toStringTag]() { return 'D1Database'; }
  }

  internal.bindingTypes.set('d1', (name, d) => new D1Database(KEY, Number(d.target)));
})
