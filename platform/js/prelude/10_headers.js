  // ---- Headers -------------------------------------------------------------------------------
  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  function headerName(name) {
    name = String(name);
    if (!TOKEN.test(name)) throw new TypeError(`Invalid header name: "${name}"`);
    return name.toLowerCase();
  }
  function headerValue(value) {
    value = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
    if (/[\0\n\r]/.test(value)) throw new TypeError(`Invalid header value: "${value}"`);
    return value;
  }
  let setHeadersGuard;  // (headers, 'none' | 'immutable')
  // The Map of lower-case name -> [values] itself, for the embedder's respond(): C++ reads it with
  // no JS running (iterating and appending in JS could meet a Worker's prototype setters).
  let headersMap;
  let headersGuard;     // headers -> its guard
  class Headers {
    #map = new Map();  // lower-case name -> [values]
    #guard = 'none';   // 'immutable': headers of fetched responses and of incoming requests
    static {
      setHeadersGuard = (h, guard) => { h.#guard = guard; };
      headersMap = (h) => h.#map;
      headersGuard = (h) => h.#guard;
    }
    #check() {
      if (this.#guard === 'immutable') throw new TypeError("Can't modify immutable headers.");
    }
    constructor(init = undefined) {
      if (init === undefined || init === null) return;
      if (init instanceof Headers) {
        for (const [k, vs] of init.#map) this.#map.set(k, vs.slice());
      } else if (typeof init[Symbol.iterator] === 'function') {
        for (const pair of init) {
          const p = [...pair];
          if (p.length !== 2) throw new TypeError('Each header pair must be an iterable [name, value] tuple');
          this.append(p[0], p[1]);
        }
      } else if (typeof init === 'object') {
        for (const k of Object.keys(init)) this.append(k, init[k]);
      } else {
        throw new TypeError('Failed to construct Headers: invalid init');
      }
    }
    append(name, value) {
      this.#check();
      const k = headerName(name);
      const v = headerValue(value);
      const vs = this.#map.get(k);
      if (vs) arrayAppend(vs, v); else this.#map.set(k, [v]);
    }
    set(name, value) {
      this.#check();
      this.#map.set(headerName(name), [headerValue(value)]);
    }
    delete(name) {
      this.#check();
      this.#map.delete(headerName(name));
    }
    get(name) {
      const vs = this.#map.get(headerName(name));
      return vs ? vs.join(', ') : null;
    }
    getAll(name) {
      const k = headerName(name);
      if (k !== 'set-cookie') throw new TypeError('getAll() can only be used with the header name "Set-Cookie".');
      return (this.#map.get(k) || []).slice();
    }
    getSetCookie() { return (this.#map.get('set-cookie') || []).slice(); }
    has(name) { return this.#map.has(headerName(name)); }
    forEach(fn, thisArg) { for (const [k, v] of this) fn.call(thisArg, v, k, this); }
    *entries() {
      for (const k of [...this.#map.keys()].sort()) {
        const vs = this.#map.get(k);
        if (vs === undefined) continue;
        if (k === 'set-cookie') {
          for (const v of vs) yield [k, v];
        } else {
          yield [k, vs.join(', ')];
        }
      }
    }
    *keys() { for (const [k] of this.entries()) yield k; }
    *values() { for (const [, v] of this.entries()) yield v; }
    [Symbol.iterator]() { return this.entries(); }
    get [Symbol.toStringTag]() { return 'Headers'; }
  }
  define(g, 'Headers', Headers);

