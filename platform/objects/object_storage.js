// Durable Object storage, the KV and SQL APIs (objects/object_storage.h is the C++ half): what
// this.ctx.storage is. Every operation answers within the JS run that issues it, through
// host.callSync(STORAGE, method, json, bytes): the working copy is SQLite in the host's memory, and
// the object's writes become durable when the run ends (objects/object_instance.h).
//
// An extension of the prelude (js::EngineOptions::extensions), run once in the snapshot.
(function (internal) {
  'use strict';
  // The intrinsics this file uses, captured before any Worker code runs (a Worker may replace
  // the globals; the platform's code must not notice).
  const {Promise, JSON, Object, Array, ArrayBuffer, Uint8Array, Number, String, Symbol, Error, TypeError,
    RangeError, Map, Set} = globalThis;
  const host = internal.host;
  const {utf8, concatBytes, valuesMap, settled, copyBufferSource, arrayAppend} = internal;
  const STORAGE = 1;  // objects::InstanceTarget::kStorage
  const KEY = Symbol('storage');
  const KEY_BYTES_MAX = 2048;
  const VALUE_BYTES_MAX = 128 * 1024;
  const BATCH_KEYS_MAX = 128;
  function storageKey(key) {
    if (typeof key !== 'string') key = String(key);
    if (utf8(key).byteLength > KEY_BYTES_MAX) throw new RangeError(`Keys cannot be larger than ${KEY_BYTES_MAX} bytes.`);
    return key;
  }
  function keyList(keys) {
    if (keys.length > BATCH_KEYS_MAX) throw new RangeError(`Maximum number of keys is ${BATCH_KEYS_MAX}.`);
    return keys.map(storageKey);
  }
  const store = (method, args, bytes = undefined) =>
      host.callSync(STORAGE, method, JSON.stringify(args ?? null), bytes);

  class SqlCursor {
    #columns; #rows; #at = 0; #read; #written;
    constructor(key, result) {
      if (key !== KEY) throw new TypeError('Illegal constructor');
      this.#columns = result.columns;
      this.#rows = result.rows.map((row) => row.map((v) =>
          v !== null && typeof v === 'object' && '$blob' in v ? Uint8Array.from(atob(v.$blob), (c) => c.charCodeAt(0)).buffer : v));
      this.#read = result.rowsRead;
      this.#written = result.rowsWritten;
    }
    #object(row) {
      const o = {};
      for (let i = 0; i < this.#columns.length; i++) o[this.#columns[i]] = row[i];
      return o;
    }
    next() {
      if (this.#at >= this.#rows.length) return {done: true, value: undefined};
      return {done: false, value: this.#object(this.#rows[this.#at++])};
    }
    [Symbol.iterator]() { return this; }
    toArray() {
      const out = [];
      for (const row of this) arrayAppend(out, row);
      return out;
    }
    one() {
      const rest = this.#rows.length - this.#at;
      if (rest === 0) throw new Error('Expected exactly one result from SQL query, but got no results.');
      if (rest > 1) throw new Error('Expected exactly one result from SQL query, but got multiple results.');
      return this.next().value;
    }
    raw() {
      const rows = this.#rows;
      const self = this;
      return {
        next() {
          if (self.#at >= rows.length) return {done: true, value: undefined};
          return {done: false, value: rows[self.#at++].slice()};
        },
        toArray() {
          const out = [];
          for (const r of this) arrayAppend(out, r);
          return out;
        },
        [Symbol.iterator]() { return this; },
      };
    }
    get columnNames() { return this.#columns.slice(); }
    get rowsRead() { return this.#read; }
    get rowsWritten() { return this.#written; }
  }
  class SqlStorage {
    constructor(key) { if (key !== KEY) throw new TypeError('Illegal constructor'); }
    exec(query, ...bindings) {
      const encoded = bindings.map((b) => {
        if (b === undefined) throw new TypeError('SQL bindings cannot be undefined');
        if (typeof b === 'boolean') return b ? 1 : 0;
        if (typeof b === 'bigint') return Number(b);
        const bytes = copyBufferSource(b);
        if (bytes !== null) {
          let s = '';
          for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
          return {$blob: btoa(s)};
        }
        return b;
      });
      const [result] = store('sql', {query: String(query), bindings: encoded});
      return new SqlCursor(KEY, result);
    }
    get databaseSize() { return store('dbsize')[0].size; }
  }

  class DurableObjectStorage {
    #sql = new SqlStorage(KEY);
    #inTxn;
    constructor(key, inTxn = false) {
      if (key !== KEY) throw new TypeError('Illegal constructor');
      this.#inTxn = inTxn;
    }
    get(keys, options = undefined) {
      return settled(() => {
        if (Array.isArray(keys)) {
          const [r, bytes] = store('get', {keys: keyList(keys)});
          return valuesMap(r.values, bytes);
        }
        const key = storageKey(keys);
        const [r, bytes] = store('get', {keys: [key]});
        return r.values.length === 0 ? undefined : valuesMap(r.values, bytes).get(key);
      });
    }
    put(keyOrEntries, value = undefined, options = undefined) {
      return settled(() => {
        const entries = typeof keyOrEntries === 'object' && keyOrEntries !== null
            ? Object.entries(keyOrEntries) : [[keyOrEntries, value]];
        if (entries.length > BATCH_KEYS_MAX) throw new RangeError(`Maximum number of pairs is ${BATCH_KEYS_MAX}.`);
        const index = [];
        const parts = [];
        for (const [k, v] of entries) {
          if (v === undefined) throw new TypeError('put() requires a value');
          const bytes = host.serialize(v);
          if (bytes.byteLength > VALUE_BYTES_MAX) {
            throw new RangeError(`Values cannot be larger than ${VALUE_BYTES_MAX} bytes.`);
          }
          arrayAppend(index, [storageKey(k), bytes.byteLength]);
          arrayAppend(parts, bytes);
        }
        store('put', {entries: index}, concatBytes(parts));
      });
    }
    delete(keys, options = undefined) {
      return settled(() => {
        if (Array.isArray(keys)) return store('delete', {keys: keyList(keys)})[0].deleted;
        return store('delete', {keys: [storageKey(keys)]})[0].deleted > 0;
      });
    }
    list(options = {}) {
      return settled(() => {
        const o = options ?? {};
        const args = {};
        for (const k of ['start', 'startAfter', 'end', 'prefix']) {
          if (o[k] !== undefined) args[k] = String(o[k]);
        }
        if (o.reverse) args.reverse = true;
        if (o.limit !== undefined) {
          const limit = Number(o.limit);
          if (!(limit > 0)) throw new TypeError('List limit must be positive.');
          args.limit = Math.floor(limit);
        }
        const [r, bytes] = store('list', args);
        return valuesMap(r.values, bytes);
      });
    }
    deleteAll(options = undefined) { return settled(() => { store('deleteAll'); }); }
    async transaction(closure) {
      if (this.#inTxn) return closure(this);
      store('begin');
      const txn = new DurableObjectStorage(KEY, true);
      let rolledBack = false;
      txn.rollback = () => {
        if (!rolledBack) store('rollback');
        rolledBack = true;
      };
      try {
        const result = await closure(txn);
        if (!rolledBack) store('release');
        return result;
      } catch (e) {
        if (!rolledBack) store('rollback');
        throw e;
      }
    }
    transactionSync(closure) {
      store('begin');
      try {
        const result = closure();
        store('release');
        return result;
      } catch (e) {
        store('rollback');
        throw e;
      }
    }
    sync() { return host.call(STORAGE, 'sync', 'null').then(() => undefined); }
    getAlarm(options = undefined) { return settled(() => store('getAlarm')[0].time); }
    setAlarm(time, options = undefined) {
      return settled(() => {
        const ms = time instanceof Date ? time.getTime() : Number(time);
        if (!Number.isFinite(ms)) throw new TypeError('setAlarm() requires a Date or a number of milliseconds');
        store('setAlarm', {time: ms});
      });
    }
    deleteAlarm(options = undefined) { return settled(() => { store('deleteAlarm'); }); }
    get sql() { return this.#sql; }
    get [Symbol.toStringTag]() { return 'DurableObjectStorage'; }
  }

  internal.objects = internal.objects ?? {};
  internal.objects.newStorage = () => new DurableObjectStorage(KEY);
})
