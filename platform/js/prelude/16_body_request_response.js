  // ---- Body, Request, Response ---------------------------------------------------------------
  // A body is null, bytes (a Uint8Array never handed out, so never mutated), or a ReadableStream.
  // The stream of a bytes body is made when JS first asks for `body`. bodyUsed is "the stream was
  // read or cancelled" (or the bytes were consumed).
  function extractBody(body) {
    // -> [bytes | null, stream | null, content type | null]
    if (body === undefined || body === null) return [null, null, null];
    if (typeof body === 'string') return [host.utf8Encode(body), null, 'text/plain;charset=UTF-8'];
    if (body instanceof ReadableStream) {
      if (body.locked || streamDisturbed(body)) {
        throw new TypeError('The ReadableStream has already been read or is locked');
      }
      return [null, body, null];
    }
    if (body instanceof URLSearchParams) {
      return [host.utf8Encode(body.toString()), null, 'application/x-www-form-urlencoded;charset=UTF-8'];
    }
    if (body instanceof Blob) return [blobBytes(body), null, body.type || null];
    if (body instanceof FormData) {
      const [bytes, type] = encodeMultipart(body);
      return [bytes, null, type];
    }
    const copy = copyBufferSource(body);
    if (copy !== null) return [copy, null, null];
    return [host.utf8Encode(String(body)), null, 'text/plain;charset=UTF-8'];
  }
  const USED = 'Body has already been used. It can only be used once. Use tee() first if you need to read it twice.';
  let bodyTake;   // body -> {bytes, stream}: moves the body out (the source becomes used)
  let bodyPeek;   // body -> {bytes, stream, has}
  let bodySet;    // (body, bytes, stream)
  class Body {
    #has = false;
    #bytes = null;
    #stream = null;
    #used = false;
    _initBody(body, headers) {
      const [bytes, stream, type] = extractBody(body);
      this.#has = bytes !== null || stream !== null;
      this.#bytes = bytes;
      this.#stream = stream;
      if (type !== null && !headers.has('content-type')) headers.set('content-type', type);
    }
    get body() {
      if (!this.#has) return null;
      if (this.#stream === null) {
        this.#stream = streamOfBytes(this.#used ? EMPTY() : this.#bytes);
        this.#bytes = null;
        if (this.#used) {
          // Consumed already: a disturbed, closed stream.
          streamRead(this.#stream).catch(() => {});
        }
      }
      return this.#stream;
    }
    get bodyUsed() {
      return this.#used || (this.#stream !== null && streamDisturbed(this.#stream));
    }
    async #consume() {
      if (this.bodyUsed) throw new TypeError(USED);
      if (!this.#has) return EMPTY();
      if (this.#stream === null) {
        this.#used = true;
        const b = this.#bytes;
        this.#bytes = null;
        return b;
      }
      if (this.#stream.locked) throw new TypeError('The body stream is locked to a reader');
      return readAllBytes(this.#stream);
    }
    static {
      bodyTake = (b) => {
        const out = {bytes: b.#bytes, stream: b.#stream};
        if (b.#has) {
          b.#used = true;
          b.#bytes = null;
          b.#stream = null;
        }
        return out;
      };
      bodyPeek = (b) => ({bytes: b.#bytes, stream: b.#stream, has: b.#has});
      bodySet = (b, bytes, stream) => {
        b.#has = bytes !== null || stream !== null;
        b.#bytes = bytes;
        b.#stream = stream;
        b.#used = false;
      };
    }
    // The whole body as bytes (null for no body), consuming it: what goes over the wire.
    async _readAll() {
      if (!this.#has) return null;
      return this.#consume();
    }
    async arrayBuffer() { return bufferOf(await this.#consume()); }
    async bytes() { return new Uint8Array(bufferOf(await this.#consume())); }
    async text() { return utf8DecodeText(await this.#consume()); }
    async json() { return JSON.parse(await this.text()); }
    async blob() {
      const bytes = await this.#consume();
      const b = new Blob([bytes], {type: this.headers.get('content-type') || ''});
      return b;
    }
    async formData() {
      const type = this.headers.get('content-type') || '';
      const essence = type.split(';')[0].trim().toLowerCase();
      if (essence === 'multipart/form-data') {
        const boundary = mimeParam(type, 'boundary');
        if (!boundary) throw new TypeError('The multipart/form-data Content-Type has no boundary');
        return parseMultipart(await this.#consume(), boundary);
      }
      if (essence === 'application/x-www-form-urlencoded') {
        const form = new FormData();
        for (const [k, v] of new URLSearchParams(await this.text())) form.append(k, v);
        return form;
      }
      throw new TypeError('Unrecognized Content-Type header value. FormData can only parse the ' +
          'following MIME types: multipart/form-data, application/x-www-form-urlencoded');
    }
  }
  // A copy of a body for clone(): bytes are shared (never mutated), a stream is tee'd.
  function cloneBody(from, to) {
    const {bytes, stream} = bodyPeek(from);
    if (stream !== null) {
      const [a, b] = stream.tee();
      bodySet(from, null, a);
      bodySet(to, null, b);
    } else {
      bodySet(to, bytes, null);
    }
  }

  const INTERNAL = Symbol('internal');
  let makeFetchedResponse;  // (status, headers, bytes, url, redirected) -> Response
  const NORMALIZED_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH'];
  const REDIRECT_MODES = ['follow', 'manual', 'error'];
  // perf: the normalized href of the URLs Requests were made from. Parsing a URL was a fifth of a
  // warm hello-world request, and the requests of a Worker mostly repeat a few URLs. A pure
  // function of the text (only valid, credential-free URLs are kept), bounded.
  const REQUEST_HREFS = new Map();
  class Request extends Body {
    #method;
    #url;
    #headers;
    #redirect;
    #signal;
    constructor(input, init = undefined) {
      super();
      if (input === INTERNAL) return;  // clone(): the caller fills it in
      if (arguments.length === 0) throw new TypeError('Request requires 1 argument');
      if (init !== undefined && init !== null && typeof init !== 'object') {
        throw new TypeError('The "init" argument must be an object');
      }
      init = init || NO_INIT;
      const from = input instanceof Request ? input : null;
      if (from !== null) {
        this.#url = from.url;
      } else {
        const text = String(input);
        let href = REQUEST_HREFS.get(text);
        if (href === undefined) {
          let url;
          try {
            url = new URL(text);
          } catch {
            throw new TypeError(`Invalid URL: ${text}`);
          }
          if (url.username || url.password) {
            throw new TypeError('Request cannot be constructed from a URL that includes credentials');
          }
          href = url.href;
          if (REQUEST_HREFS.size >= 256) REQUEST_HREFS.clear();
          REQUEST_HREFS.set(text, href);
        }
        this.#url = href;
      }
      let method = init.method !== undefined ? String(init.method) : (from ? from.method : 'GET');
      if (!TOKEN.test(method)) throw new TypeError(`Invalid HTTP method: ${method}`);
      if (NORMALIZED_METHODS.includes(method.toUpperCase())) method = method.toUpperCase();
      this.#method = method;
      this.#headers = new Headers(init.headers !== undefined ? init.headers : (from ? from.headers : undefined));
      const redirect = init.redirect !== undefined ? String(init.redirect) : (from ? from.redirect : 'follow');
      if (!REDIRECT_MODES.includes(redirect)) throw new TypeError(`Invalid redirect value: ${redirect}`);
      this.#redirect = redirect;
      if (init.signal !== undefined && init.signal !== null && !(init.signal instanceof AbortSignal)) {
        throw new TypeError('The "signal" option must be an AbortSignal');
      }
      this.#signal = init.signal !== undefined ? (init.signal || newSignal()) :
          (from ? from.signal : newSignal());
      const initBody = init.body !== undefined && init.body !== null;
      const fromHas = from !== null && bodyPeek(from).has;
      if ((initBody || (fromHas && init.body === undefined)) && (method === 'GET' || method === 'HEAD')) {
        throw new TypeError('Request with a GET or HEAD method cannot have a body.');
      }
      if (initBody) {
        this._initBody(init.body, this.#headers);
      } else if (fromHas && init.body === undefined) {
        if (from.bodyUsed) {
          throw new TypeError('Cannot construct a Request with a Request object that has already been used.');
        }
        const {bytes, stream} = bodyTake(from);
        bodySet(this, bytes, stream);
      }
    }
    get method() { return this.#method; }
    get url() { return this.#url; }
    get headers() { return this.#headers; }
    get redirect() { return this.#redirect; }
    get signal() { return this.#signal; }
    get cf() { return undefined; }
    get integrity() { return ''; }
    get keepalive() { return false; }
    clone() {
      if (this.bodyUsed) throw new TypeError('Cannot clone a Request whose body has been used.');
      const r = new Request(INTERNAL);
      r.#method = this.#method;
      r.#url = this.#url;
      r.#headers = new Headers(this.#headers);
      r.#redirect = this.#redirect;
      r.#signal = this.#signal;
      cloneBody(this, r);
      return r;
    }
    get [Symbol.toStringTag]() { return 'Request'; }
  }
  define(g, 'Request', Request);

  const NULL_BODY_STATUS = [101, 204, 205, 304];
  // The header that carries a WebSocket's id in a 101 response between nodes (objects/websockets.js
  // owns WebSockets; `internal.sockets` are its hooks).
  const SOCKET_HEADER = 'sec-edgesim-websocket';
  const REDIRECT_STATUS = [301, 302, 303, 307, 308];
  const REASON = {
    100: 'Continue', 101: 'Switching Protocols', 200: 'OK', 201: 'Created', 202: 'Accepted',
    203: 'Non-Authoritative Information', 204: 'No Content', 205: 'Reset Content',
    206: 'Partial Content', 300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found',
    303: 'See Other', 304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
    400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden',
    404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable', 408: 'Request Timeout',
    409: 'Conflict', 410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed',
    413: 'Payload Too Large', 414: 'URI Too Long', 415: 'Unsupported Media Type',
    416: 'Range Not Satisfiable', 417: 'Expectation Failed', 418: "I'm a teapot",
    422: 'Unprocessable Entity', 425: 'Too Early', 426: 'Upgrade Required', 428: 'Precondition Required',
    429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error',
    501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
    505: 'HTTP Version Not Supported',
  };
  class Response extends Body {
    #status;
    #statusText;
    #headers;
    #type = 'default';
    #url = '';
    #redirected = false;
    #webSocket = null;
    constructor(body = null, init = undefined) {
      super();
      if (body === INTERNAL) return;  // made by fetch() or clone(), which fill it in
      if (init !== undefined && init !== null && typeof init !== 'object') {
        throw new TypeError('The "init" argument must be an object');
      }
      init = init || NO_INIT;
      const status = init.status === undefined ? 200 : Number(init.status);
      const webSocket = init.webSocket ?? null;
      if (webSocket !== null && !(internal.sockets?.isSocket(webSocket))) {
        throw new TypeError('Failed to construct \'Response\': init.webSocket must be a WebSocket.');
      }
      if (status === 101 && webSocket === null) {
        throw new RangeError('Responses with status 101 must carry a webSocket.');
      }
      if (!Number.isInteger(status) || ((status < 200 || status > 599) && status !== 101)) {
        throw new RangeError(`Responses may only be constructed with status codes in the range 200 to 599, inclusive (got ${init.status}).`);
      }
      const statusText = init.statusText === undefined ? '' : String(init.statusText);
      if (!/^[\t\u0020-\u007e\u0080-\u00ff]*$/.test(statusText)) {
        throw new TypeError(`Invalid statusText: "${statusText}"`);
      }
      if (body !== null && body !== undefined && NULL_BODY_STATUS.includes(status)) {
        throw new TypeError(`Response with null body status (${status}) cannot have a body.`);
      }
      this.#status = status;
      this.#statusText = statusText;
      this.#headers = new Headers(init.headers);
      if (webSocket !== null) {
        this.#headers.set(SOCKET_HEADER, internal.sockets.idOf(webSocket));
        this.#webSocket = webSocket;
      }
      this._initBody(body, this.#headers);
    }
    get webSocket() { return this.#webSocket; }
    static json(data, init = undefined) {
      const text = JSON.stringify(data);
      if (text === undefined) throw new TypeError('Value is not JSON serializable');
      const headers = new Headers(init && init.headers);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      return new Response(text, Object.assign(ObjectCreate(null), init, {headers}));
    }
    static redirect(url, status = 302) {
      let href;
      try {
        href = new URL(String(url)).href;
      } catch {
        throw new TypeError(`Invalid URL: ${String(url)}`);
      }
      status = Number(status);
      if (!REDIRECT_STATUS.includes(status)) throw new RangeError(`Invalid redirect status: ${status}`);
      const r = new Response(INTERNAL);
      r.#status = status;
      r.#statusText = '';
      r.#headers = new Headers({location: href});
      setHeadersGuard(r.#headers, 'immutable');
      return r;
    }
    static error() {
      const r = new Response(INTERNAL);
      r.#status = 0;
      r.#statusText = '';
      r.#type = 'error';
      r.#headers = new Headers();
      setHeadersGuard(r.#headers, 'immutable');
      return r;
    }
    static {
      // A response that came over the network: immutable headers, as in workerd.
      makeFetchedResponse = (status, flat, bytes, url, redirected) => {
        const r = new Response(INTERNAL);
        r.#status = status;
        r.#statusText = REASON[status] || '';
        r.#headers = new Headers();
        for (let i = 0; i + 1 < flat.length; i += 2) r.#headers.append(flat[i], flat[i + 1]);
        setHeadersGuard(r.#headers, 'immutable');
        r.#url = url.replace(/#.*$/, '');
        r.#redirected = redirected;
        if (bytes !== null) bodySet(r, bytes, null);
        // An upgraded connection relayed from a Durable Object (or a Worker behind this one).
        if (status === 101 && r.#headers.has(SOCKET_HEADER) && internal.sockets !== null) {
          r.#webSocket = internal.sockets.relayed(r.#headers.get(SOCKET_HEADER));
        }
        return r;
      };
    }
    get status() { return this.#status; }
    get statusText() { return this.#statusText; }
    get ok() { return this.#status >= 200 && this.#status <= 299; }
    get headers() { return this.#headers; }
    get redirected() { return this.#redirected; }
    get type() { return this.#type; }
    get url() { return this.#url; }
    get cf() { return undefined; }
    clone() {
      if (this.bodyUsed) throw new TypeError('Cannot clone a Response whose body has been used.');
      const r = new Response(INTERNAL);
      r.#status = this.#status;
      r.#statusText = this.#statusText;
      r.#headers = new Headers(this.#headers);
      setHeadersGuard(r.#headers, headersGuard(this.#headers));
      r.#type = this.#type;
      r.#url = this.#url;
      r.#redirected = this.#redirected;
      r.#webSocket = this.#webSocket;
      cloneBody(this, r);
      return r;
    }
    get [Symbol.toStringTag]() { return 'Response'; }
  }
  define(g, 'Response', Response);

