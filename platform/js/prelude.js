// The prelude: Web APIs that V8 lacks, written in JS. Runs once per isolate before any Worker code
// (baked into the startup snapshot when there is one). Native helpers come later, through
// globalThis.__edgesim_init(host), which the embedder calls once per isolate and then deletes:
// nothing here may call `host` while the prelude itself runs (the snapshot has no natives).
//
// Keep it deterministic: no host time or randomness except through `host`, which reads the World.
(function () {
  'use strict';
  let host = null;  // natives, set by __edgesim_init
  const g = globalThis;
  const define = (obj, name, value) =>
      Object.defineProperty(obj, name, {value, writable: true, configurable: true, enumerable: false});

  // ---- DOMException --------------------------------------------------------------------------
  const DOM_CODES = {IndexSizeError: 1, NotFoundError: 8, NotSupportedError: 9,
    InvalidStateError: 11, SyntaxError: 12, InvalidCharacterError: 5, TypeMismatchError: 17,
    AbortError: 20, TimeoutError: 23, DataCloneError: 25, QuotaExceededError: 22};
  class DOMException extends Error {
    #name;
    constructor(message = '', name = 'Error') {
      super(message);
      this.#name = String(name);
    }
    get name() { return this.#name; }
    get code() { return DOM_CODES[this.#name] || 0; }
  }
  define(g, 'DOMException', DOMException);

  // ---- console -------------------------------------------------------------------------------
  function inspect(v, depth, seen) {
    switch (typeof v) {
      case 'string': return depth === 0 ? v : `'${v}'`;
      case 'number': return Object.is(v, -0) ? '-0' : String(v);
      case 'bigint': return `${v}n`;
      case 'symbol': return v.toString();
      case 'undefined': return 'undefined';
      case 'function': return `[Function: ${v.name || '(anonymous)'}]`;
      case 'boolean': return String(v);
    }
    if (v === null) return 'null';
    if (v instanceof Error) return v.stack || String(v);
    if (seen.includes(v)) return '[Circular]';
    if (depth > 2) return Array.isArray(v) ? '[Array]' : '[Object]';
    seen = seen.concat([v]);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[ ${v.map((x) => inspect(x, depth + 1, seen)).join(', ')} ]`;
    }
    if (v instanceof Date) return v.toISOString();
    if (v instanceof Map) {
      return `Map(${v.size}) { ${[...v].map(([k, x]) =>
          `${inspect(k, depth + 1, seen)} => ${inspect(x, depth + 1, seen)}`).join(', ')} }`;
    }
    if (v instanceof Set) {
      return `Set(${v.size}) { ${[...v].map((x) => inspect(x, depth + 1, seen)).join(', ')} }`;
    }
    if (typeof v.then === 'function') return 'Promise { <pending> }';
    const keys = Object.keys(v);
    const ctor = v.constructor && v.constructor !== Object ? `${v.constructor.name} ` : '';
    if (keys.length === 0) return `${ctor}{}`;
    const key = (k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : `'${k}'`);
    return `${ctor}{ ${keys.map((k) => `${key(k)}: ${inspect(v[k], depth + 1, seen)}`).join(', ')} }`;
  }
  function format(args) {
    return Array.prototype.map.call(args, (a) => inspect(a, 0, [])).join(' ');
  }
  const console = {};
  for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
    define(console, level, function (...args) { host.console(level, format(args)); });
  }
  define(console, 'trace', function (...args) {
    host.console('debug', `Trace: ${format(args)}\n${(new Error().stack || '').split('\n').slice(2).join('\n')}`);
  });
  define(g, 'console', console);

  // ---- randomness and time -------------------------------------------------------------------
  // Math.random draws from the isolate's RNG stream, in batches to keep the native calls few.
  // Made on first use: the startup snapshot holds no array buffers.
  let randomBatch = null;
  let randomNext = 0;
  define(Math, 'random', function random() {
    if (randomBatch === null) randomBatch = new Float64Array(64);
    if (randomNext === 0 || randomNext === randomBatch.length) {
      host.fillRandom(randomBatch);
      randomNext = 0;
    }
    return randomBatch[randomNext++];
  });
  const INTEGER_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array,
    Int32Array, Uint32Array, BigInt64Array, BigUint64Array];
  const crypto = {};
  define(crypto, 'getRandomValues', function getRandomValues(array) {
    if (!INTEGER_ARRAYS.some((T) => array instanceof T)) {
      throw new DOMException('The data argument must be an integer-type TypedArray',
          'TypeMismatchError');
    }
    if (array.byteLength > 65536) {
      throw new DOMException(`The ArrayBufferView's byte length (${array.byteLength}) exceeds the ` +
          'number of bytes of entropy available via this API (65536)', 'QuotaExceededError');
    }
    host.randomBytes(array);
    return array;
  });
  define(crypto, 'randomUUID', function randomUUID() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  });
  define(g, 'crypto', crypto);
  const performance = {};
  define(performance, 'now', function now() { return host.nowMs() - performance.timeOrigin; });
  Object.defineProperty(performance, 'timeOrigin', {get: () => 0, configurable: true});
  define(g, 'performance', performance);
  define(g, 'navigator', Object.freeze({userAgent: 'Cloudflare-Workers'}));
  define(g, 'self', g);

  // ---- timers and microtasks -----------------------------------------------------------------
  const timers = new Map();  // id -> {fn, args, interval}
  function addTimer(fn, ms, args, interval) {
    if (typeof fn !== 'function') throw new TypeError('The callback argument must be a function');
    let delay = Number(ms) || 0;
    if (delay < 0) delay = 0;
    if (interval && delay < 1) delay = 1;  // an interval of 0 would spin at one virtual instant
    const id = host.setTimer(delay, 0);
    timers.set(id, {fn, args, interval: interval ? delay : 0});
    return id;
  }
  function clearTimer(id) {
    id = Number(id);
    if (timers.delete(id)) host.clearTimer(id);
  }
  define(g, 'setTimeout', function setTimeout(fn, ms, ...args) { return addTimer(fn, ms, args, false); });
  define(g, 'setInterval', function setInterval(fn, ms, ...args) { return addTimer(fn, ms, args, true); });
  define(g, 'clearTimeout', function clearTimeout(id) { clearTimer(id); });
  define(g, 'clearInterval', function clearInterval(id) { clearTimer(id); });
  function fireTimer(id) {
    const t = timers.get(id);
    if (t === undefined) return;
    if (t.interval) host.setTimer(t.interval, id); else timers.delete(id);
    try {
      t.fn.apply(g, t.args);
    } catch (e) {
      host.reportError('timer', errorMessage(e), errorStack(e));
    }
  }
  define(g, 'queueMicrotask', function queueMicrotask(fn) {
    if (typeof fn !== 'function') throw new TypeError('The callback argument must be a function');
    Promise.resolve().then(() => fn());
  });
  define(g, 'structuredClone', function structuredClone(value) { return host.clone(value); });

  // ---- base64 --------------------------------------------------------------------------------
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));
  define(g, 'btoa', function btoa(data) {
    if (arguments.length === 0) throw new TypeError('btoa requires 1 argument');
    const s = String(data);
    let out = '';
    for (let i = 0; i < s.length; i += 3) {
      const c = [s.charCodeAt(i), s.charCodeAt(i + 1), s.charCodeAt(i + 2)];
      for (const x of c) {
        if (x > 255) throw new DOMException('Invalid character', 'InvalidCharacterError');
      }
      const n = (c[0] << 16) | ((c[1] || 0) << 8) | (c[2] || 0);
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] +
          (i + 1 < s.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < s.length ? B64[n & 63] : '=');
    }
    return out;
  });
  define(g, 'atob', function atob(data) {
    if (arguments.length === 0) throw new TypeError('atob requires 1 argument');
    let s = String(data).replace(/[\t\n\f\r ]/g, '');
    if (s.length % 4 === 0) s = s.replace(/==?$/, '');
    if (s.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(s)) {
      throw new DOMException('The string to be decoded is not correctly encoded.',
          'InvalidCharacterError');
    }
    let out = '';
    let bits = 0;
    let acc = 0;
    for (const ch of s) {
      acc = (acc << 6) | B64_INDEX.get(ch);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out += String.fromCharCode((acc >> bits) & 255);
      }
    }
    return out;
  });

  // ---- TextEncoder / TextDecoder -------------------------------------------------------------
  class TextEncoder {
    get encoding() { return 'utf-8'; }
    encode(input = '') { return host.utf8Encode(String(input)); }
    encodeInto(source, destination) {
      const s = String(source);
      let read = 0;
      let written = 0;
      for (const ch of s) {
        const bytes = host.utf8Encode(ch);
        if (written + bytes.length > destination.length) break;
        destination.set(bytes, written);
        written += bytes.length;
        read += ch.length;
      }
      return {read, written};
    }
  }
  const UTF8_LABELS = ['utf-8', 'utf8', 'unicode-1-1-utf-8'];
  class TextDecoder {
    #fatal;
    #ignoreBOM;
    constructor(label = 'utf-8', options = {}) {
      if (!UTF8_LABELS.includes(String(label).trim().toLowerCase())) {
        throw new RangeError(`The "${label}" encoding is not supported`);
      }
      this.#fatal = Boolean(options.fatal);
      this.#ignoreBOM = Boolean(options.ignoreBOM);
    }
    get encoding() { return 'utf-8'; }
    get fatal() { return this.#fatal; }
    get ignoreBOM() { return this.#ignoreBOM; }
    decode(input = undefined) {
      if (input === undefined) return '';
      const bytes = toBytes(input, 'TextDecoder.decode');
      const s = host.utf8Decode(bytes, this.#fatal);
      if (s === null) throw new TypeError('The encoded data was not valid utf-8');
      return !this.#ignoreBOM && s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
    }
  }
  function toBytes(input, what) {
    if (input instanceof Uint8Array) return input;
    if (input instanceof ArrayBuffer) return new Uint8Array(input);
    if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    throw new TypeError(`${what}: expected an ArrayBuffer or ArrayBufferView`);
  }
  define(g, 'TextEncoder', TextEncoder);
  define(g, 'TextDecoder', TextDecoder);

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
            this.#list.push([String(p[0]), String(p[1])]);
          }
        } else {
          for (const k of Object.keys(init)) this.#list.push([k, String(init[k])]);
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
        this.#list.push(eq < 0 ? [formDecode(part), ''] :
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
    append(name, value) { this.#list.push([String(name), String(value)]); this.#update(); }
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
        this.#list.push([name, value]);
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

  // ---- URL (WHATWG, compact: no IDNA, no IPv4 number normalization) ---------------------------
  const SPECIAL = {'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443', 'ftp:': '21', 'file:': ''};
  const isSpecial = (p) => Object.prototype.hasOwnProperty.call(SPECIAL, p);
  const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
  function pctEncode(s, extra) {
    let out = '';
    for (const ch of s.replace(LONE_SURROGATE, '\uFFFD')) {
      const c = ch.codePointAt(0);
      if (c < 0x21 || c > 0x7e || extra.includes(ch)) {
        out += encodeURIComponent(ch);
      } else {
        out += ch;
      }
    }
    return out;
  }
  const PATH_SET = '"#<>?`{}';
  const QUERY_SET = '"#<>';
  const SPECIAL_QUERY_SET = '"#<>\'';
  const FRAGMENT_SET = '"<>`';
  const USERINFO_SET = '"#<>?`{}/:;=@[\\]^|';
  function normalizePath(path, special) {
    if (special) path = path.replace(/\\/g, '/');
    const segs = path.split('/');
    const out = [];
    for (let i = 1; i < segs.length; i++) {
      const seg = segs[i];
      const low = seg.toLowerCase();
      const dot = low === '.' || low === '%2e';
      const dotdot = ['..', '.%2e', '%2e.', '%2e%2e'].includes(low);
      const last = i === segs.length - 1;
      if (dotdot) {
        out.pop();
        if (last) out.push('');
      } else if (dot) {
        if (last) out.push('');
      } else {
        out.push(pctEncode(seg, PATH_SET));
      }
    }
    return `/${out.join('/')}`;
  }
  function splitTail(s) {
    // -> [beforeQueryAndHash, query ('' or '?...'), hash ('' or '#...')]
    let hash = '';
    const h = s.indexOf('#');
    if (h >= 0) { hash = s.slice(h); s = s.slice(0, h); }
    let query = '';
    const q = s.indexOf('?');
    if (q >= 0) { query = s.slice(q); s = s.slice(0, q); }
    return [s, query, hash];
  }
  function invalid(input) { return new TypeError(`Invalid URL: ${input}`); }

  class URL {
    #protocol = '';
    #username = '';
    #password = '';
    #hostname = '';
    #port = '';
    #hasAuthority = false;
    #pathname = '';
    #search = '';
    #hash = '';
    #params = null;

    constructor(url, base = undefined) {
      const input = String(url);
      const s = input.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '').replace(/[\t\n\r]/g, '');
      const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(s);
      if (m) {
        const protocol = m[1].toLowerCase() + ':';
        let rest = s.slice(m[0].length);
        if (base !== undefined && isSpecial(protocol)) {
          const b = base instanceof URL ? base : new URL(base);
          // "http:foo" relative to an http: base is a relative reference.
          if (b.#protocol === protocol && !/^[/\\]/.test(rest)) {
            this.#copyFrom(b);
            this.#resolve(rest, input);
            this.#finish();
            return;
          }
        }
        this.#protocol = protocol;
        this.#parseAfterScheme(rest, input);
      } else {
        if (base === undefined) throw invalid(input);
        const b = base instanceof URL ? base : new URL(base);
        this.#copyFrom(b);
        if (!b.#hasAuthority && !b.#pathname.startsWith('/') && !s.startsWith('#')) throw invalid(input);
        this.#resolve(s, input);
      }
      this.#finish();
    }
    #copyFrom(b) {
      this.#protocol = b.#protocol;
      this.#username = b.#username;
      this.#password = b.#password;
      this.#hostname = b.#hostname;
      this.#port = b.#port;
      this.#hasAuthority = b.#hasAuthority;
      this.#pathname = b.#pathname;
      this.#search = b.#search;
      this.#hash = '';
    }
    #parseAfterScheme(rest, input) {
      const special = isSpecial(this.#protocol);
      const slashes = special ? /^[/\\]*/.exec(rest)[0] : (rest.startsWith('//') ? '//' : '');
      if (special || slashes) {
        if (special && this.#protocol !== 'file:' && slashes.length === 0 && rest === '') throw invalid(input);
        rest = rest.slice(slashes.length);
        const end = rest.search(special ? /[/\\?#]/ : /[/?#]/);
        const authority = end < 0 ? rest : rest.slice(0, end);
        this.#parseAuthority(authority, input);
        this.#resolvePathAndTail(end < 0 ? '' : rest.slice(end), true);
      } else {
        const [path, query, hash] = splitTail(rest);
        this.#hasAuthority = false;
        this.#pathname = path.startsWith('/') ? normalizePath(path, false) : pctEncode(path, '');
        this.#search = query;
        this.#hash = hash;
      }
    }
    #parseAuthority(authority, input) {
      this.#hasAuthority = true;
      const at = authority.lastIndexOf('@');
      if (at >= 0) {
        const userinfo = authority.slice(0, at);
        authority = authority.slice(at + 1);
        const colon = userinfo.indexOf(':');
        this.#username = pctEncode(colon < 0 ? userinfo : userinfo.slice(0, colon), USERINFO_SET);
        this.#password = colon < 0 ? '' : pctEncode(userinfo.slice(colon + 1), USERINFO_SET);
      } else {
        this.#username = '';
        this.#password = '';
      }
      let host = authority;
      let port = '';
      const pm = /:([^:\]]*)$/.exec(authority);
      if (pm) {
        host = authority.slice(0, pm.index);
        port = pm[1];
      }
      if (port !== '') {
        if (!/^[0-9]+$/.test(port) || Number(port) > 65535) throw invalid(input);
        port = String(Number(port));
      }
      const special = isSpecial(this.#protocol);
      if (special) {
        if (host === '' && this.#protocol !== 'file:') throw invalid(input);
        try {
          host = decodeURIComponent(host).toLowerCase();
        } catch {
          throw invalid(input);
        }
        if (/[\u0000\t\n\r #/:<>?@[\\\]^|%]/.test(host.replace(/^\[[0-9a-f:.]+\]$/, ''))) {
          throw invalid(input);
        }
        if (port === SPECIAL[this.#protocol]) port = '';
      }
      this.#hostname = host;
      this.#port = port;
    }
    #resolvePathAndTail(s, fromAuthority) {
      const special = isSpecial(this.#protocol);
      const [path, query, hash] = splitTail(s);
      this.#pathname = path === '' ? (special ? '/' : '') : normalizePath(path, special);
      this.#search = query;
      this.#hash = hash;
    }
    #resolve(s, input) {
      const special = isSpecial(this.#protocol);
      if (special ? /^[/\\]{2}/.test(s) : s.startsWith('//')) {
        this.#parseAfterScheme(s, input);
        return;
      }
      if (s === '') return;
      if (s.startsWith('#')) { this.#hash = s; return; }
      const [path, query, hash] = splitTail(s);
      if (path === '') {
        if (query !== '') this.#search = query;
        this.#hash = hash;
        return;
      }
      let merged;
      if (/^[/\\]/.test(path) && (special || path.startsWith('/'))) {
        merged = path;
      } else {
        const base = this.#pathname;
        merged = base.slice(0, base.lastIndexOf('/') + 1) + path;
        if (!merged.startsWith('/')) merged = `/${merged}`;
      }
      this.#pathname = normalizePath(merged, special);
      this.#search = query;
      this.#hash = hash;
    }
    #finish() {
      const special = isSpecial(this.#protocol);
      if (this.#search === '?') this.#search = '';
      if (this.#hash === '#') this.#hash = '';
      if (this.#search) this.#search = '?' + pctEncode(this.#search.slice(1), special ? SPECIAL_QUERY_SET : QUERY_SET);
      if (this.#hash) this.#hash = '#' + pctEncode(this.#hash.slice(1), FRAGMENT_SET);
      if (this.#params) reparseParams(this.#params, this.#search);
    }
    static {
      setUrlQuery = (url, query) => { url.#search = query ? `?${query}` : ''; };
    }
    static canParse(url, base = undefined) {
      try {
        new URL(url, base);
        return true;
      } catch {
        return false;
      }
    }

    get href() {
      let auth = '';
      if (this.#hasAuthority) {
        const cred = this.#username || this.#password ?
            `${this.#username}${this.#password ? ':' + this.#password : ''}@` : '';
        auth = `//${cred}${this.host}`;
      }
      return `${this.#protocol}${auth}${this.#pathname}${this.#search}${this.#hash}`;
    }
    set href(v) {
      const u = new URL(v);
      this.#copyFrom(u);
      this.#hash = u.#hash;
      this.#finish();
    }
    get origin() {
      return isSpecial(this.#protocol) && this.#protocol !== 'file:' ?
          `${this.#protocol}//${this.host}` : 'null';
    }
    get protocol() { return this.#protocol; }
    set protocol(v) {
      const p = String(v).replace(/:.*$/, '').toLowerCase() + ':';
      if (/^[a-z][a-z0-9+.-]*:$/.test(p) && isSpecial(p) === isSpecial(this.#protocol)) {
        this.#protocol = p;
        if (this.#port === SPECIAL[p]) this.#port = '';
      }
    }
    get username() { return this.#username; }
    set username(v) { if (this.#hasAuthority) this.#username = pctEncode(String(v), USERINFO_SET); }
    get password() { return this.#password; }
    set password(v) { if (this.#hasAuthority) this.#password = pctEncode(String(v), USERINFO_SET); }
    get host() { return this.#port ? `${this.#hostname}:${this.#port}` : this.#hostname; }
    set host(v) {
      const t = new URL(`${this.#protocol}//${v}`);
      this.#hostname = t.#hostname;
      this.#port = t.#port;
    }
    get hostname() { return this.#hostname; }
    set hostname(v) { this.#hostname = new URL(`${this.#protocol}//${v}`).#hostname; }
    get port() { return this.#port; }
    set port(v) {
      const s = String(v);
      if (s === '') { this.#port = ''; return; }
      const m = /^[0-9]+/.exec(s);
      if (m && Number(m[0]) <= 65535) this.#port = String(Number(m[0])) === SPECIAL[this.#protocol] ? '' : String(Number(m[0]));
    }
    get pathname() { return this.#pathname; }
    set pathname(v) {
      if (!this.#hasAuthority && !this.#pathname.startsWith('/')) return;
      let p = String(v);
      if (!p.startsWith('/') && !(isSpecial(this.#protocol) && p.startsWith('\\'))) p = `/${p}`;
      this.#pathname = normalizePath(p.replace(/[?#]/g, (c) => encodeURIComponent(c)), isSpecial(this.#protocol));
    }
    get search() { return this.#search; }
    set search(v) {
      let s = String(v);
      if (s !== '' && !s.startsWith('?')) s = `?${s}`;
      this.#search = s;
      this.#finish();
    }
    get searchParams() {
      if (!this.#params) {
        this.#params = new URLSearchParams();
        attachParams(this.#params, this, this.#search);
      }
      return this.#params;
    }
    get hash() { return this.#hash; }
    set hash(v) {
      let s = String(v);
      if (s !== '' && !s.startsWith('#')) s = `#${s}`;
      this.#hash = s;
      this.#finish();
    }
    toString() { return this.href; }
    toJSON() { return this.href; }
    get [Symbol.toStringTag]() { return 'URL'; }
  }
  define(g, 'URL', URL);

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
  class Headers {
    #map = new Map();  // lower-case name -> [values]
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
      const k = headerName(name);
      const v = headerValue(value);
      const vs = this.#map.get(k);
      if (vs) vs.push(v); else this.#map.set(k, [v]);
    }
    set(name, value) { this.#map.set(headerName(name), [headerValue(value)]); }
    delete(name) { this.#map.delete(headerName(name)); }
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

  // ---- Body, Request, Response ---------------------------------------------------------------
  // Bodies are held as bytes (Uint8Array) or null.
  function extractBody(body) {
    if (body === undefined || body === null) return [null, null];
    if (typeof body === 'string') return [host.utf8Encode(body), 'text/plain;charset=UTF-8'];
    if (body instanceof URLSearchParams) {
      return [host.utf8Encode(body.toString()), 'application/x-www-form-urlencoded;charset=UTF-8'];
    }
    if (body instanceof ArrayBuffer) return [new Uint8Array(body.slice(0)), null];
    if (ArrayBuffer.isView(body)) {
      return [new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)), null];
    }
    return [host.utf8Encode(String(body)), 'text/plain;charset=UTF-8'];
  }
  class Body {
    #bytes = null;
    #used = false;
    _initBody(body, headers) {
      const [bytes, type] = extractBody(body);
      this.#bytes = bytes;
      if (type !== null && !headers.has('content-type')) headers.set('content-type', type);
    }
    _bytes() { return this.#bytes; }
    get bodyUsed() { return this.#used; }
    get body() { return this.#bytes === null ? null : new Uint8Array(this.#bytes); }  // TODO(soon): ReadableStream
    #consume() {
      if (this.#used) return Promise.reject(new TypeError('Body has already been used. It can only be used once.'));
      this.#used = true;
      return Promise.resolve(this.#bytes === null ? new Uint8Array(0) : this.#bytes);
    }
    async arrayBuffer() {
      const b = await this.#consume();
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    }
    async bytes() { return new Uint8Array(await this.arrayBuffer()); }
    async text() { return host.utf8Decode(await this.#consume(), false); }
    async json() { return JSON.parse(await this.text()); }
  }

  const NORMALIZED_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH'];
  class Request extends Body {
    #method;
    #url;
    #headers;
    #redirect;
    constructor(input, init = {}) {
      super();
      init = init || {};
      const from = input instanceof Request ? input : null;
      this.#url = from ? from.url : new URL(String(input)).href;
      let method = init.method !== undefined ? String(init.method) : (from ? from.method : 'GET');
      if (!TOKEN.test(method)) throw new TypeError(`Invalid HTTP method: ${method}`);
      if (NORMALIZED_METHODS.includes(method.toUpperCase())) method = method.toUpperCase();
      this.#method = method;
      this.#headers = new Headers(init.headers !== undefined ? init.headers : (from ? from.headers : undefined));
      this.#redirect = init.redirect || (from ? from.redirect : 'follow');
      let body = init.body !== undefined ? init.body : (from ? from._bytes() : null);
      if (body !== null && (method === 'GET' || method === 'HEAD')) {
        throw new TypeError('Request with a GET or HEAD method cannot have a body.');
      }
      this._initBody(body, this.#headers);
    }
    get method() { return this.#method; }
    get url() { return this.#url; }
    get headers() { return this.#headers; }
    get redirect() { return this.#redirect; }
    get cf() { return undefined; }
    clone() {
      if (this.bodyUsed) throw new TypeError('Cannot clone a Request whose body has been used.');
      return new Request(this);
    }
    get [Symbol.toStringTag]() { return 'Request'; }
  }
  define(g, 'Request', Request);

  const NULL_BODY_STATUS = [101, 204, 205, 304];
  const REDIRECT_STATUS = [301, 302, 303, 307, 308];
  class Response extends Body {
    #status;
    #statusText;
    #headers;
    constructor(body = null, init = {}) {
      super();
      init = init || {};
      const status = init.status === undefined ? 200 : Number(init.status);
      if (!Number.isInteger(status) || status < 200 || status > 599) {
        throw new RangeError(`Responses may only be constructed with status codes in the range 200 to 599, inclusive (got ${init.status}).`);
      }
      if (body !== null && body !== undefined && NULL_BODY_STATUS.includes(status)) {
        throw new TypeError(`Response with null body status (${status}) cannot have a body.`);
      }
      this.#status = status;
      this.#statusText = init.statusText === undefined ? '' : String(init.statusText);
      this.#headers = new Headers(init.headers);
      this._initBody(body, this.#headers);
    }
    static json(data, init = {}) {
      const text = JSON.stringify(data);
      if (text === undefined) throw new TypeError('Value is not JSON serializable');
      const headers = new Headers(init && init.headers);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      return new Response(text, {...init, headers});
    }
    static redirect(url, status = 302) {
      if (!REDIRECT_STATUS.includes(status)) throw new RangeError(`Invalid redirect status: ${status}`);
      return new Response(null, {status, headers: {location: new URL(String(url)).href}});
    }
    get status() { return this.#status; }
    get statusText() { return this.#statusText; }
    get ok() { return this.#status >= 200 && this.#status <= 299; }
    get headers() { return this.#headers; }
    get redirected() { return false; }
    get type() { return 'default'; }
    get url() { return ''; }
    get webSocket() { return null; }
    clone() {
      if (this.bodyUsed) throw new TypeError('Cannot clone a Response whose body has been used.');
      return new Response(this._bytes(), {status: this.#status, statusText: this.#statusText, headers: this.#headers});
    }
    get [Symbol.toStringTag]() { return 'Response'; }
  }
  define(g, 'Response', Response);

  // ---- dispatch (called by the embedder) -----------------------------------------------------
  function errorMessage(e) {
    if (e instanceof Error) return `${e.name}: ${e.message}`;
    try {
      return `Uncaught ${inspect(e, 0, [])}`;
    } catch {
      return 'Uncaught exception';
    }
  }
  function errorStack(e) { return e instanceof Error && typeof e.stack === 'string' ? e.stack : ''; }

  async function dispatchFetch(id, ns, method, url, flat, body) {
    try {
      const headers = new Headers();
      for (let i = 0; i + 1 < flat.length; i += 2) headers.append(flat[i], flat[i + 1]);
      const hasBody = body !== null && method !== 'GET' && method !== 'HEAD';
      const request = new Request(url, {method, headers, body: hasBody ? body : null});
      const handler = ns.default;
      if (handler === null || handler === undefined || typeof handler.fetch !== 'function') {
        throw new Error('Handler does not export a fetch() function.');
      }
      const env = {};
      const ctx = {waitUntil(promise) { Promise.resolve(promise).catch(() => {}); },
        passThroughOnException() {}};
      const response = await handler.fetch(request, env, ctx);
      if (!(response instanceof Response)) {
        throw new TypeError(`Incorrect type for Promise: the Promise did not resolve to 'Response'.`);
      }
      const bytes = response._bytes();
      const out = [];
      for (const [k, v] of response.headers) out.push(k, v);
      host.respond(id, response.status, out, bytes);
    } catch (e) {
      host.exception(id, errorMessage(e), errorStack(e));
    }
  }

  define(g, '__edgesim_init', function (natives) {
    host = natives;
    delete g.__edgesim_init;
    return {dispatchFetch, fireTimer, errorMessage, errorStack};
  });
})();
