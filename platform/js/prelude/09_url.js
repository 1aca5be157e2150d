  // ---- URL (WHATWG, compact: no IDNA, no IPv4 number normalization) ---------------------------
  const SPECIAL = {'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443', 'ftp:': '21', 'file:': ''};
  const isSpecial = (p) => Object.prototype.hasOwnProperty.call(SPECIAL, p);
  const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
  function pctEncode(s, extra) {
    let out = '';
    for (const ch of s.replace(LONE_SURROGATE, '\uFFFD')) {
      const c = ch.codePointAt(0);
      if (c < 0x21 || c > 0x7e || extra.includes(ch)) {
        // encodeURIComponent leaves !'()*~ alone; the URL sets may include them.
        out += c < 0x80 ? `%${c.toString(16).toUpperCase().padStart(2, '0')}` : encodeURIComponent(ch);
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
        if (last) arrayAppend(out, '');
      } else if (dot) {
        if (last) arrayAppend(out, '');
      } else {
        arrayAppend(out, pctEncode(seg, PATH_SET));
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

