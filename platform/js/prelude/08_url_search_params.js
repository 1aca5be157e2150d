  // ---- URLSearchParams -----------------------------------------------------------------------
  function formDecode(s) {
    s = s.replace(/\+/g, ' ');
    try {
      return decodeURIComponent(s);
    } catch {
      return s.replace(/%([0-9A-Fa-f]{2})/g, (m, h) => String.fromCharCode(parseInt(h, 16)));
    }
  }
  function formEncode(s) {
    return encodeURIComponent(s).replace(/[!'()~]/g, (c) =>
        `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');
  }
  let attachParams;
  let reparseParams;
  let setUrlQuery;
  class URLSearchParams {
    #list = [];
    #url = null;  // the URL whose query this is, kept in sync
    constructor(init = '') {
      if (init instanceof URLSearchParams) {
        this.#list = init.#list.map(([k, v]) => [k, v]);
      } else if (typeof init === 'object' && init !== null) {
        if (typeof init[Symbol.iterator] === 'function') {
          for (const pair of init) {
            const p = [...pair];
            if (p.length !== 2) throw new TypeError('Each query pair must be an iterable [name, value] tuple');
            arrayAppend(this.#list, [String(p[0]), String(p[1])]);
          }
        } else {
          for (const k of Object.keys(init)) arrayAppend(this.#list, [k, String(init[k])]);
        }
      } else {
        this.#parse(String(init));
      }
    }
    #parse(s) {
      if (s.startsWith('?')) s = s.slice(1);
      this.#list = [];
      for (const part of s.split('&')) {
        if (part === '') continue;
        const eq = part.indexOf('=');
        arrayAppend(this.#list, eq < 0 ? [formDecode(part), ''] :
            [formDecode(part.slice(0, eq)), formDecode(part.slice(eq + 1))]);
      }
    }
    static {
      attachParams = (params, url, query) => {
        params.#url = url;
        params.#parse(query);
      };
      reparseParams = (params, query) => params.#parse(query);
    }
    #update() { if (this.#url) setUrlQuery(this.#url, this.toString()); }
    get size() { return this.#list.length; }
    append(name, value) { arrayAppend(this.#list, [String(name), String(value)]); this.#update(); }
    delete(name, value) {
      name = String(name);
      this.#list = this.#list.filter(([k, v]) => k !== name || (value !== undefined && v !== String(value)));
      this.#update();
    }
    get(name) {
      name = String(name);
      const e = this.#list.find(([k]) => k === name);
      return e ? e[1] : null;
    }
    getAll(name) { name = String(name); return this.#list.filter(([k]) => k === name).map(([, v]) => v); }
    has(name, value) {
      name = String(name);
      return this.#list.some(([k, v]) => k === name && (value === undefined || v === String(value)));
    }
    set(name, value) {
      name = String(name);
      value = String(value);
      const i = this.#list.findIndex(([k]) => k === name);
      if (i < 0) {
        arrayAppend(this.#list, [name, value]);
      } else {
        this.#list[i][1] = value;
        this.#list = this.#list.filter(([k], j) => j <= i || k !== name);
      }
      this.#update();
    }
    sort() {
      // Stable, by UTF-16 code units, as the standard says.
      this.#list = this.#list.map((e, i) => [e, i]).sort((a, b) =>
          (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1])).map(([e]) => e);
      this.#update();
    }
    forEach(fn, thisArg) { for (const [k, v] of this.#list) fn.call(thisArg, v, k, this); }
    *entries() { for (const [k, v] of this.#list) yield [k, v]; }
    *keys() { for (const [k] of this.#list) yield k; }
    *values() { for (const [, v] of this.#list) yield v; }
    [Symbol.iterator]() { return this.entries(); }
    toString() { return this.#list.map(([k, v]) => `${formEncode(k)}=${formEncode(v)}`).join('&'); }
    get [Symbol.toStringTag]() { return 'URLSearchParams'; }
  }
  define(g, 'URLSearchParams', URLSearchParams);

