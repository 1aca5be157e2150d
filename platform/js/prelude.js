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
  // Each JS timer has a host timer (an event on the scheduler). Timers due at one virtual instant
  // must fire in the order they were set (HTML; workerd), but the scheduler orders events of one
  // instant by a seeded draw. So a host timer that fires runs the earliest due JS timer, by (due
  // time, order set), and lends its own host timer, still pending at this instant, to the JS
  // timer it skipped.
  const timers = new Map();     // JS timer id -> {fn, args, interval, due, seq, hostId}
  const hostTimers = new Map(); // host timer id -> JS timer id
  let timerSeq = 0;
  function addTimer(fn, ms, args, interval) {
    if (typeof fn !== 'function') throw new TypeError('The callback argument must be a function');
    let delay = Math.trunc(Number(ms)) || 0;
    if (delay < 0) delay = 0;
    if (interval && delay < 1) delay = 1;  // an interval of 0 would spin at one virtual instant
    const hostId = host.setTimer(delay, 0);
    timers.set(hostId, {fn, args, interval: interval ? delay : 0, due: host.nowMs() + delay,
      seq: ++timerSeq, hostId});
    hostTimers.set(hostId, hostId);
    return hostId;
  }
  function clearTimer(id) {
    id = Number(id);
    const t = timers.get(id);
    if (t === undefined) return;
    timers.delete(id);
    hostTimers.delete(t.hostId);
    host.clearTimer(t.hostId);
  }
  define(g, 'setTimeout', function setTimeout(fn, ms, ...args) { return addTimer(fn, ms, args, false); });
  define(g, 'setInterval', function setInterval(fn, ms, ...args) { return addTimer(fn, ms, args, true); });
  define(g, 'clearTimeout', function clearTimeout(id) { clearTimer(id); });
  define(g, 'clearInterval', function clearInterval(id) { clearTimer(id); });
  function fireTimer(hostId) {
    const ownerId = hostTimers.get(hostId);
    if (ownerId === undefined) return;
    hostTimers.delete(hostId);
    const owner = timers.get(ownerId);
    const now = host.nowMs() + 1e-6;  // float slack: due times are sums of milliseconds
    let id = ownerId;
    let t = owner;
    for (const [otherId, other] of timers) {
      if (other.due <= now && (other.due < t.due || (other.due === t.due && other.seq < t.seq))) {
        id = otherId;
        t = other;
      }
    }
    if (t !== owner) {
      owner.hostId = t.hostId;
      hostTimers.set(owner.hostId, ownerId);
    }
    if (t.interval) {
      t.due = host.nowMs() + t.interval;
      t.seq = ++timerSeq;
      t.hostId = host.setTimer(t.interval, hostId);
      hostTimers.set(hostId, id);
    } else {
      timers.delete(id);
    }
    try {
      t.fn.apply(g, t.args);
    } catch (e) {
      host.reportError('timer', errorMessage(e), errorStack(e));
    }
  }
  // ---- Event, EventTarget, AbortController, AbortSignal --------------------------------------
  let eventDispatch;  // (event, target | null) -> marks the event as being dispatched to target
  let eventStopped;   // event -> stopImmediatePropagation() was called
  class Event {
    #type;
    #bubbles;
    #cancelable;
    #composed;
    #defaultPrevented = false;
    #stopImmediate = false;
    #target = null;
    #dispatching = false;
    #timeStamp;
    constructor(type, init = undefined) {
      if (arguments.length === 0) throw new TypeError('The "type" argument must be specified');
      if (init !== undefined && init !== null && typeof init !== 'object') {
        throw new TypeError('The "options" argument must be an object');
      }
      this.#type = String(type);
      this.#bubbles = Boolean(init && init.bubbles);
      this.#cancelable = Boolean(init && init.cancelable);
      this.#composed = Boolean(init && init.composed);
      this.#timeStamp = performance.now();
    }
    get type() { return this.#type; }
    get bubbles() { return this.#bubbles; }
    get cancelable() { return this.#cancelable; }
    get composed() { return this.#composed; }
    get defaultPrevented() { return this.#defaultPrevented; }
    get returnValue() { return !this.#defaultPrevented; }
    get target() { return this.#target; }
    get srcElement() { return this.#target; }
    get currentTarget() { return this.#dispatching ? this.#target : null; }
    get eventPhase() { return this.#dispatching ? 2 : 0; }
    get isTrusted() { return false; }
    get timeStamp() { return this.#timeStamp; }
    get cancelBubble() { return this.#stopImmediate; }
    set cancelBubble(v) { if (v) this.#stopImmediate = true; }
    preventDefault() { if (this.#cancelable) this.#defaultPrevented = true; }
    stopPropagation() {}
    stopImmediatePropagation() { this.#stopImmediate = true; }
    composedPath() { return this.#dispatching ? [this.#target] : []; }
    static {
      eventDispatch = (event, target) => {
        if (target !== null) {
          if (event.#dispatching) {
            throw new DOMException('The event is already being dispatched.', 'InvalidStateError');
          }
          event.#target = target;
          event.#stopImmediate = false;
        }
        event.#dispatching = target !== null;
      };
      eventStopped = (event) => event.#stopImmediate;
    }
    get [Symbol.toStringTag]() { return 'Event'; }
  }
  for (const [name, value] of [['NONE', 0], ['CAPTURING_PHASE', 1], ['AT_TARGET', 2], ['BUBBLING_PHASE', 3]]) {
    Object.defineProperty(Event, name, {value, enumerable: true});
    Object.defineProperty(Event.prototype, name, {value, enumerable: true});
  }
  define(g, 'Event', Event);
  class CustomEvent extends Event {
    #detail;
    constructor(type, init = undefined) {
      super(type, init);
      this.#detail = init && init.detail !== undefined ? init.detail : null;
    }
    get detail() { return this.#detail; }
  }
  define(g, 'CustomEvent', CustomEvent);

  function listenerOptions(options) {
    if (typeof options === 'boolean') return {capture: options, once: false, signal: undefined};
    if (options === undefined || options === null) return {capture: false, once: false, signal: undefined};
    return {capture: Boolean(options.capture), once: Boolean(options.once), signal: options.signal};
  }
  function reportListenerError(e) {
    host.reportError('event', errorMessage(e), errorStack(e));
  }
  class EventTarget {
    #listeners = new Map();  // type -> [{callback, capture, once, removed}], in order added
    addEventListener(type, callback, options = undefined) {
      if (arguments.length < 2) throw new TypeError('addEventListener requires 2 arguments');
      if (callback === null || callback === undefined) return;
      if (typeof callback !== 'function' && typeof callback !== 'object') {
        throw new TypeError('The "listener" argument must be a function or an object with handleEvent');
      }
      type = String(type);
      const {capture, once, signal} = listenerOptions(options);
      if (signal !== undefined && !(signal instanceof AbortSignal)) {
        throw new TypeError('The "signal" option must be an AbortSignal');
      }
      if (signal && signal.aborted) return;
      let list = this.#listeners.get(type);
      if (list === undefined) this.#listeners.set(type, list = []);
      if (list.some((l) => l.callback === callback && l.capture === capture)) return;
      list.push({callback, capture, once, removed: false});
      if (signal) signal.addEventListener('abort', () => this.removeEventListener(type, callback, {capture}));
    }
    removeEventListener(type, callback, options = undefined) {
      type = String(type);
      const {capture} = listenerOptions(options);
      const list = this.#listeners.get(type);
      if (list === undefined) return;
      const i = list.findIndex((l) => l.callback === callback && l.capture === capture);
      if (i < 0) return;
      list[i].removed = true;
      list.splice(i, 1);
    }
    dispatchEvent(event) {
      if (!(event instanceof Event)) throw new TypeError('The "event" argument must be an instance of Event');
      eventDispatch(event, this);
      try {
        for (const l of (this.#listeners.get(event.type) || []).slice()) {
          if (l.removed) continue;
          if (l.once) this.removeEventListener(event.type, l.callback, {capture: l.capture});
          try {
            if (typeof l.callback === 'function') {
              l.callback.call(this, event);
            } else if (typeof l.callback.handleEvent === 'function') {
              l.callback.handleEvent(event);
            }
          } catch (e) {
            reportListenerError(e);
          }
          if (eventStopped(event)) break;
        }
      } finally {
        eventDispatch(event, null);
      }
      return !event.defaultPrevented;
    }
    get [Symbol.toStringTag]() { return 'EventTarget'; }
  }
  define(g, 'EventTarget', EventTarget);

  const SIGNAL_KEY = Symbol('AbortSignal');
  let newSignal;       // () -> AbortSignal
  let abortSignal;     // (signal, reason) -> aborts it (reason undefined: an AbortError)
  let onSignalAbort;   // (signal, fn) -> runs fn (before the abort event) when it aborts; -> undo
  class AbortSignal extends EventTarget {
    #aborted = false;
    #reason = undefined;
    #onabort = null;
    #algorithms = new Set();
    constructor(key = undefined) {
      if (key !== SIGNAL_KEY) throw new TypeError('Illegal constructor');
      super();
    }
    get aborted() { return this.#aborted; }
    get reason() { return this.#reason; }
    throwIfAborted() { if (this.#aborted) throw this.#reason; }
    get onabort() { return this.#onabort; }
    set onabort(fn) {
      const first = this.#onabort === null;
      this.#onabort = typeof fn === 'function' || (typeof fn === 'object' && fn !== null) ? fn : null;
      // As an HTML event handler: a listener of its own, in the order it was first set.
      if (first && this.#onabort !== null) {
        this.addEventListener('abort', (e) => {
          const h = this.#onabort;
          if (typeof h === 'function') h.call(this, e);
        });
      }
    }
    static abort(reason = undefined) {
      const s = newSignal();
      abortSignal(s, reason);
      return s;
    }
    static timeout(ms) {
      const delay = Number(ms);
      if (!Number.isFinite(delay) || delay < 0 || delay > Number.MAX_SAFE_INTEGER) {
        throw new TypeError(`The "milliseconds" argument must be a non-negative finite number (got ${ms})`);
      }
      const s = newSignal();
      addTimer(() => abortSignal(s, new DOMException('The operation was aborted due to timeout',
          'TimeoutError')), delay, [], false);
      return s;
    }
    static any(signals) {
      const s = newSignal();
      const list = [...signals];
      for (const x of list) {
        if (!(x instanceof AbortSignal)) throw new TypeError('AbortSignal.any() takes AbortSignals');
      }
      const done = list.find((x) => x.aborted);
      if (done !== undefined) {
        abortSignal(s, done.reason);
        return s;
      }
      for (const x of list) onSignalAbort(x, () => abortSignal(s, x.reason));
      return s;
    }
    static {
      newSignal = () => new AbortSignal(SIGNAL_KEY);
      abortSignal = (s, reason) => {
        if (s.#aborted) return;
        s.#aborted = true;
        s.#reason = reason !== undefined ? reason :
            new DOMException('The operation was aborted', 'AbortError');
        const algorithms = [...s.#algorithms];
        s.#algorithms.clear();
        for (const fn of algorithms) fn();
        s.dispatchEvent(new Event('abort'));
      };
      onSignalAbort = (s, fn) => {
        s.#algorithms.add(fn);
        return () => s.#algorithms.delete(fn);
      };
    }
    get [Symbol.toStringTag]() { return 'AbortSignal'; }
  }
  define(g, 'AbortSignal', AbortSignal);
  class AbortController {
    #signal = newSignal();
    get signal() { return this.#signal; }
    abort(reason = undefined) { abortSignal(this.#signal, reason); }
    get [Symbol.toStringTag]() { return 'AbortController'; }
  }
  define(g, 'AbortController', AbortController);
  define(g, 'queueMicrotask', function queueMicrotask(fn) {
    if (typeof fn !== 'function') throw new TypeError('The callback argument must be a function');
    Promise.resolve().then(() => fn());
  });
  define(g, 'structuredClone', function structuredClone(value, options = undefined) {
    if (arguments.length === 0) throw new TypeError('structuredClone requires 1 argument');
    try {
      return host.clone(value);
    } catch (e) {
      // V8's serializer throws a plain Error; the standard says DataCloneError.
      if (e instanceof Error && !(e instanceof DOMException) && /could not be cloned/.test(e.message)) {
        throw new DOMException(e.message, 'DataCloneError');
      }
      throw e;
    }
  });

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
  // Where an incomplete UTF-8 sequence starts at the end of `bytes` (bytes.length if none).
  function incompleteTail(bytes) {
    const n = bytes.length;
    for (let i = n - 1; i >= 0 && i >= n - 3; i--) {
      const b = bytes[i];
      if ((b & 0xc0) === 0x80) continue;
      if (b < 0xc0 || b >= 0xf8) return n;
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return n - i < need ? i : n;
    }
    return n;
  }
  class TextDecoder {
    #fatal;
    #ignoreBOM;
    #pending = null;    // stream mode: the bytes of a sequence split across calls
    #bomSeen = false;   // stream mode: bytes went out already, a later U+FEFF is content
    constructor(label = 'utf-8', options = {}) {
      if (!UTF8_LABELS.includes(String(label).trim().toLowerCase())) {
        throw new RangeError(`The "${label}" encoding is not supported`);
      }
      options = options || {};
      this.#fatal = Boolean(options.fatal);
      this.#ignoreBOM = Boolean(options.ignoreBOM);
    }
    get encoding() { return 'utf-8'; }
    get fatal() { return this.#fatal; }
    get ignoreBOM() { return this.#ignoreBOM; }
    decode(input = undefined, options = undefined) {
      const stream = Boolean(options && options.stream);
      let bytes = input === undefined ? new Uint8Array(0) : toBytes(input, 'TextDecoder.decode');
      if (this.#pending !== null) {
        const joined = new Uint8Array(this.#pending.length + bytes.length);
        joined.set(this.#pending);
        joined.set(bytes, this.#pending.length);
        bytes = joined;
        this.#pending = null;
      }
      if (stream) {
        const cut = incompleteTail(bytes);
        if (cut < bytes.length) {
          this.#pending = bytes.slice(cut);
          bytes = bytes.subarray(0, cut);
        }
      }
      const s = host.utf8Decode(bytes, this.#fatal);
      const bomSeen = this.#bomSeen;
      this.#bomSeen = stream && (bomSeen || bytes.length > 0);
      if (s === null) {
        this.#pending = null;
        this.#bomSeen = false;
        throw new TypeError('The encoded data was not valid utf-8');
      }
      return !this.#ignoreBOM && !bomSeen && s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
    }
    get [Symbol.toStringTag]() { return 'TextDecoder'; }
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
  let setHeadersGuard;  // (headers, 'none' | 'immutable')
  let headersGuard;     // headers -> its guard
  class Headers {
    #map = new Map();  // lower-case name -> [values]
    #guard = 'none';   // 'immutable': headers of fetched responses and of incoming requests
    static {
      setHeadersGuard = (h, guard) => { h.#guard = guard; };
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
      if (vs) vs.push(v); else this.#map.set(k, [v]);
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

  // ---- bytes helpers -------------------------------------------------------------------------
  const EMPTY = () => new Uint8Array(0);
  function concatBytes(chunks) {
    let n = 0;
    for (const c of chunks) n += c.byteLength;
    const out = new Uint8Array(n);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }
  // A copy of the bytes of a BufferSource, or null when it is none.
  function copyBufferSource(v) {
    if (v instanceof ArrayBuffer) return new Uint8Array(v.slice(0));
    if (ArrayBuffer.isView(v)) {
      return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
    }
    return null;
  }
  // UTF-8 decode (the Encoding standard's, which drops a leading BOM), as Body.text() uses.
  function utf8DecodeText(bytes) {
    const s = host.utf8Decode(bytes, false);
    return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
  }
  function bufferOf(bytes) {
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  }
  // Bytes as a string of char codes 0-255 (for searching multipart bodies), and back.
  function bytesToBinary(bytes) {
    let s = '';
    for (let i = 0; i < bytes.length; i += 8192) {
      s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
    }
    return s;
  }
  function binaryToBytes(s) {
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }

  // ---- Blob, File ----------------------------------------------------------------------------
  let blobBytes;  // blob -> its bytes (not a copy: never mutate)
  function normalizeBlobType(type) {
    if (type === undefined) return '';
    const t = String(type);
    return /[^\u0020-\u007e]/.test(t) ? '' : t.toLowerCase();
  }
  class Blob {
    #bytes;
    #type;
    constructor(parts = undefined, options = undefined) {
      const chunks = [];
      if (parts !== undefined && parts !== null) {
        if (typeof parts !== 'object' || typeof parts[Symbol.iterator] !== 'function') {
          throw new TypeError('The "blobParts" argument must be a sequence');
        }
        for (const p of parts) {
          if (p instanceof Blob) {
            chunks.push(p.#bytes);
          } else {
            chunks.push(copyBufferSource(p) || host.utf8Encode(String(p)));
          }
        }
      } else if (parts === null) {
        throw new TypeError('The "blobParts" argument must be a sequence');
      }
      this.#bytes = concatBytes(chunks);
      this.#type = normalizeBlobType(options && options.type);
    }
    get size() { return this.#bytes.byteLength; }
    get type() { return this.#type; }
    slice(start = undefined, end = undefined, contentType = undefined) {
      const size = this.#bytes.byteLength;
      const clamp = (v, dflt) => {
        if (v === undefined) return dflt;
        const n = Math.trunc(Number(v)) || 0;
        return n < 0 ? Math.max(size + n, 0) : Math.min(n, size);
      };
      const from = clamp(start, 0);
      const to = clamp(end, size);
      const b = new Blob([], {type: contentType});
      b.#bytes = this.#bytes.slice(from, Math.max(from, to));
      return b;
    }
    async text() { return utf8DecodeText(this.#bytes); }
    async arrayBuffer() { return bufferOf(this.#bytes); }
    async bytes() { return new Uint8Array(bufferOf(this.#bytes)); }
    stream() { return streamOfBytes(this.#bytes); }
    static { blobBytes = (b) => b.#bytes; }
    get [Symbol.toStringTag]() { return 'Blob'; }
  }
  define(g, 'Blob', Blob);
  class File extends Blob {
    #name;
    #lastModified;
    constructor(bits, name, options = undefined) {
      if (arguments.length < 2) throw new TypeError('File requires 2 arguments');
      super(bits, options);
      this.#name = String(name);
      this.#lastModified = options && options.lastModified !== undefined ?
          Math.trunc(Number(options.lastModified)) || 0 : Date.now();
    }
    get name() { return this.#name; }
    get lastModified() { return this.#lastModified; }
    get [Symbol.toStringTag]() { return 'File'; }
  }
  define(g, 'File', File);

  // ---- FormData ------------------------------------------------------------------------------
  function formEntry(args, name, value, filename) {
    if (args < 2) throw new TypeError('FormData: 2 arguments required');
    name = String(name);
    if (value instanceof Blob) {
      if (!(value instanceof File) || filename !== undefined) {
        value = new File([value], filename !== undefined ? String(filename) :
            (value instanceof File ? value.name : 'blob'), {type: value.type});
      }
    } else {
      if (args > 2) throw new TypeError('FormData: a filename may only be given with a Blob value');
      value = String(value);
    }
    return [name, value];
  }
  class FormData {
    #list = [];
    constructor(form = undefined) {
      if (form !== undefined) throw new TypeError('FormData: there are no form elements here');
    }
    append(name, value, filename = undefined) {
      this.#list.push(formEntry(arguments.length, name, value, filename));
    }
    set(name, value, filename = undefined) {
      const e = formEntry(arguments.length, name, value, filename);
      const i = this.#list.findIndex(([k]) => k === e[0]);
      if (i < 0) {
        this.#list.push(e);
      } else {
        this.#list[i] = e;
        this.#list = this.#list.filter(([k], j) => j <= i || k !== e[0]);
      }
    }
    delete(name) { name = String(name); this.#list = this.#list.filter(([k]) => k !== name); }
    get(name) {
      name = String(name);
      const e = this.#list.find(([k]) => k === name);
      return e ? e[1] : null;
    }
    getAll(name) { name = String(name); return this.#list.filter(([k]) => k === name).map(([, v]) => v); }
    has(name) { name = String(name); return this.#list.some(([k]) => k === name); }
    forEach(fn, thisArg) { for (const [k, v] of this.#list) fn.call(thisArg, v, k, this); }
    *entries() { for (const [k, v] of this.#list) yield [k, v]; }
    *keys() { for (const [k] of this.#list) yield k; }
    *values() { for (const [, v] of this.#list) yield v; }
    [Symbol.iterator]() { return this.entries(); }
    get [Symbol.toStringTag]() { return 'FormData'; }
  }
  define(g, 'FormData', FormData);

  // multipart/form-data (RFC 7578 as HTML writes it). The boundary comes from the isolate's RNG.
  function escapeFormName(s) {
    return s.replace(/\r\n|\r|\n/g, '\r\n').replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
  }
  function encodeMultipart(form) {
    const b = crypto.getRandomValues(new Uint8Array(12));
    const boundary = `----edgesim${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
    const chunks = [];
    for (const [name, value] of form) {
      let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeFormName(name)}"`;
      if (typeof value === 'string') {
        chunks.push(host.utf8Encode(`${head}\r\n\r\n${value.replace(/\r\n|\r|\n/g, '\r\n')}\r\n`));
      } else {
        head += `; filename="${escapeFormName(value.name)}"\r\nContent-Type: ` +
            `${value.type || 'application/octet-stream'}\r\n\r\n`;
        chunks.push(host.utf8Encode(head), blobBytes(value), host.utf8Encode('\r\n'));
      }
    }
    chunks.push(host.utf8Encode(`--${boundary}--\r\n`));
    return [concatBytes(chunks), `multipart/form-data; boundary=${boundary}`];
  }
  function mimeParam(contentType, param) {
    const re = new RegExp(`;\\s*${param}\\s*=\\s*("([^"]*)"|[^;\\s]*)`, 'i');
    const m = re.exec(contentType);
    return m ? (m[2] !== undefined ? m[2] : m[1]) : null;
  }
  function parseMultipart(bytes, boundary) {
    const fail = () => new TypeError('Failed to parse the body as multipart/form-data');
    const s = bytesToBinary(bytes);
    const delim = `--${boundary}`;
    const form = new FormData();
    let at = s.indexOf(delim);
    if (at < 0) throw fail();
    for (;;) {
      at += delim.length;
      if (s.startsWith('--', at)) return form;
      if (!s.startsWith('\r\n', at)) throw fail();
      at += 2;
      const headEnd = s.indexOf('\r\n\r\n', at);
      if (headEnd < 0) throw fail();
      const heads = s.slice(at, headEnd).split('\r\n');
      const next = s.indexOf(`\r\n${delim}`, headEnd + 4);
      if (next < 0) throw fail();
      const content = s.slice(headEnd + 4, next);
      let name = null;
      let filename = null;
      let type = '';
      for (const h of heads) {
        const colon = h.indexOf(':');
        const key = h.slice(0, colon).trim().toLowerCase();
        const value = utf8DecodeText(binaryToBytes(h.slice(colon + 1).trim()));
        if (key === 'content-disposition') {
          name = mimeParam(value, 'name');
          filename = mimeParam(value, 'filename');
        } else if (key === 'content-type') {
          type = value;
        }
      }
      if (name === null) throw fail();
      if (filename !== null) {
        form.append(name, new File([binaryToBytes(content)], filename, {type}));
      } else {
        form.append(name, utf8DecodeText(binaryToBytes(content)));
      }
      at = next + 2;
    }
  }

  // ---- ReadableStream (WHATWG Streams, default readers; enough for bodies) -------------------
  const STREAM_KEY = Symbol('stream');
  let streamDisturbed;  // stream -> it was ever read or cancelled
  let streamAttach;     // (stream, reader | null)
  let streamRead;       // stream -> Promise<{value, done}>
  let streamCancel;     // (stream, reason) -> Promise<undefined>
  let controllerOf;     // stream -> its controller
  let streamState;      // stream -> [state, stored error]
  function deferred() {
    let resolve;
    let reject;
    const promise = new Promise((a, b) => { resolve = a; reject = b; });
    return {promise, resolve, reject};
  }
  class ReadableStreamDefaultController {
    #stream;
    #enqueue;
    #close;
    #error;
    #desired;
    constructor(key = undefined, stream = undefined, ops = undefined) {
      if (key !== STREAM_KEY) throw new TypeError('Illegal constructor');
      this.#stream = stream;
      ({enqueue: this.#enqueue, close: this.#close, error: this.#error, desired: this.#desired} = ops);
    }
    get desiredSize() { return this.#desired(); }
    get byobRequest() { return null; }
    enqueue(chunk = undefined) { this.#enqueue(chunk); }
    close() { this.#close(); }
    error(e = undefined) { this.#error(e); }
    get [Symbol.toStringTag]() { return 'ReadableStreamDefaultController'; }
  }
  define(g, 'ReadableStreamDefaultController', ReadableStreamDefaultController);

  class ReadableStream {
    #state = 'readable';  // 'closed', 'errored'
    #queue = [];          // [chunk, size]
    #queueSize = 0;
    #highWaterMark;
    #size;
    #source;
    #controller;
    #started = false;
    #pulling = false;
    #pullAgain = false;
    #closeRequested = false;
    #disturbed = false;
    #storedError = undefined;
    #reader = null;
    #reads = [];          // pending read requests: deferreds, in order

    constructor(source = undefined, strategy = undefined) {
      if (source === null) throw new TypeError('The "underlyingSource" argument must be an object');
      source = source || {};
      strategy = strategy || {};
      if (source.type !== undefined && String(source.type) !== 'bytes') {
        throw new RangeError(`Invalid stream type: ${source.type}`);
      }
      this.#source = source;
      const hwm = strategy.highWaterMark === undefined ? (source.type === 'bytes' ? 0 : 1) :
          Number(strategy.highWaterMark);
      if (Number.isNaN(hwm) || hwm < 0) throw new RangeError('Invalid highWaterMark');
      this.#highWaterMark = hwm;
      this.#size = typeof strategy.size === 'function' ? strategy.size : null;
      this.#controller = new ReadableStreamDefaultController(STREAM_KEY, this, {
        enqueue: (chunk) => this.#enqueue(chunk),
        close: () => this.#requestClose(),
        error: (e) => this.#error(e),
        desired: () => this.#desiredSize(),
      });
      let started;
      try {
        started = typeof source.start === 'function' ? source.start.call(source, this.#controller) :
            undefined;
      } catch (e) {
        this.#error(e);
        return;
      }
      Promise.resolve(started).then(() => {
        this.#started = true;
        this.#pullIfNeeded();
      }, (e) => this.#error(e));
    }

    #desiredSize() {
      if (this.#state === 'errored') return null;
      if (this.#state === 'closed') return 0;
      return this.#highWaterMark - this.#queueSize;
    }
    #enqueue(chunk) {
      if (this.#closeRequested || this.#state !== 'readable') {
        throw new TypeError('Cannot enqueue to a closed or errored stream');
      }
      if (this.#reads.length > 0) {
        this.#reads.shift().resolve({value: chunk, done: false});
      } else {
        let size = 1;
        if (this.#size !== null) {
          try {
            size = Number(this.#size(chunk));
          } catch (e) {
            this.#error(e);
            throw e;
          }
        }
        this.#queue.push([chunk, size]);
        this.#queueSize += size;
      }
      this.#pullIfNeeded();
    }
    #requestClose() {
      if (this.#closeRequested || this.#state !== 'readable') {
        throw new TypeError('Cannot close a closed or errored stream');
      }
      this.#closeRequested = true;
      if (this.#queue.length === 0) this.#finishClose();
    }
    #finishClose() {
      this.#state = 'closed';
      for (const r of this.#reads.splice(0)) r.resolve({value: undefined, done: true});
      if (this.#reader !== null) readerClosed(this.#reader, null);
    }
    #error(e) {
      if (this.#state !== 'readable') return;
      this.#state = 'errored';
      this.#storedError = e;
      this.#queue = [];
      this.#queueSize = 0;
      for (const r of this.#reads.splice(0)) r.reject(e);
      if (this.#reader !== null) readerClosed(this.#reader, {error: e});
    }
    #pullIfNeeded() {
      if (this.#state !== 'readable' || this.#closeRequested || !this.#started) return;
      if (this.#reads.length === 0 && !(this.#desiredSize() > 0)) return;
      if (this.#pulling) {
        this.#pullAgain = true;
        return;
      }
      this.#pulling = true;
      let pulled;
      try {
        pulled = typeof this.#source.pull === 'function' ?
            this.#source.pull.call(this.#source, this.#controller) : undefined;
      } catch (e) {
        this.#error(e);
        return;
      }
      Promise.resolve(pulled).then(() => {
        this.#pulling = false;
        if (this.#pullAgain) {
          this.#pullAgain = false;
          this.#pullIfNeeded();
        }
      }, (e) => this.#error(e));
    }
    #read() {
      this.#disturbed = true;
      if (this.#state === 'closed') return Promise.resolve({value: undefined, done: true});
      if (this.#state === 'errored') return Promise.reject(this.#storedError);
      if (this.#queue.length > 0) {
        const [chunk, size] = this.#queue.shift();
        this.#queueSize -= size;
        if (this.#queue.length === 0) this.#queueSize = 0;
        if (this.#closeRequested && this.#queue.length === 0) {
          this.#finishClose();
        } else {
          this.#pullIfNeeded();
        }
        return Promise.resolve({value: chunk, done: false});
      }
      const d = deferred();
      this.#reads.push(d);
      this.#pullIfNeeded();
      return d.promise;
    }
    #cancel(reason) {
      this.#disturbed = true;
      if (this.#state === 'closed') return Promise.resolve();
      if (this.#state === 'errored') return Promise.reject(this.#storedError);
      this.#queue = [];
      this.#queueSize = 0;
      this.#finishClose();
      let r;
      try {
        r = typeof this.#source.cancel === 'function' ?
            this.#source.cancel.call(this.#source, reason) : undefined;
      } catch (e) {
        return Promise.reject(e);
      }
      return Promise.resolve(r).then(() => undefined);
    }
    static {
      streamDisturbed = (s) => s.#disturbed;
      streamAttach = (s, reader) => {
        s.#reader = reader;
        if (reader === null && s.#reads.length > 0) {  // perf: no error when no read waits
          const e = new TypeError('The reader was released');
          for (const r of s.#reads.splice(0)) r.reject(e);
        }
      };
      streamRead = (s) => s.#read();
      streamCancel = (s, reason) => s.#cancel(reason);
      controllerOf = (s) => s.#controller;
      streamState = (s) => [s.#state, s.#storedError];
    }

    get locked() { return this.#reader !== null; }
    cancel(reason = undefined) {
      if (this.#reader !== null) return Promise.reject(new TypeError('The stream is locked to a reader'));
      return this.#cancel(reason);
    }
    getReader(options = undefined) {
      const mode = options && options.mode;
      if (mode !== undefined) {
        if (String(mode) === 'byob') return new ReadableStreamBYOBReader(this);
        throw new RangeError(`Invalid reader mode: ${mode}`);
      }
      return new ReadableStreamDefaultReader(this);
    }
    // Reads to the end, writing every chunk to `dest` (one at a time), then closes it. An error
    // on either side aborts the other (unless preventAbort / preventCancel).
    async pipeTo(dest, options = undefined) {
      if (!(dest instanceof WritableStream)) throw new TypeError('pipeTo() expects a WritableStream');
      if (this.locked) throw new TypeError('The ReadableStream is locked');
      if (dest.locked) throw new TypeError('The WritableStream is locked');
      const o = options ?? {};
      const reader = this.getReader();
      const writer = dest.getWriter();
      try {
        for (;;) {
          if (o.signal?.aborted) throw o.signal.reason ?? new DOMException('aborted', 'AbortError');
          const {value, done} = await reader.read();
          if (done) break;
          await writer.write(value);
        }
        if (!o.preventClose) await writer.close();
      } catch (e) {
        if (!o.preventAbort) await writer.abort(e).catch(() => {});
        if (!o.preventCancel) await reader.cancel(e).catch(() => {});
        throw e;
      } finally {
        reader.releaseLock();
        writer.releaseLock();
      }
    }
    pipeThrough(transform, options = undefined) {
      if (transform === null || typeof transform !== 'object' ||
          !(transform.writable instanceof WritableStream) ||
          !(transform.readable instanceof ReadableStream)) {
        throw new TypeError('pipeThrough() expects {writable, readable}');
      }
      if (this.locked) throw new TypeError('The ReadableStream is locked');
      this.pipeTo(transform.writable, options).catch(() => {});
      return transform.readable;
    }
    tee() {
      const reader = this.getReader();
      let reading = false;
      const canceled = [false, false];
      const reasons = [undefined, undefined];
      const controllers = [null, null];
      const cancelDone = deferred();
      const pull = () => {
        if (reading) return Promise.resolve();
        reading = true;
        reader.read().then(({value, done}) => {
          reading = false;
          for (let i = 0; i < 2; i++) {
            if (canceled[i]) continue;
            if (done) controllers[i].close(); else controllers[i].enqueue(value);
          }
          if (done) cancelDone.resolve();
        }, (e) => {
          reading = false;
          for (const c of controllers) c.error(e);
          cancelDone.resolve();
        });
        return Promise.resolve();
      };
      const branch = (i) => new ReadableStream({
        start(c) { controllers[i] = c; },
        pull,
        cancel(reason) {
          canceled[i] = true;
          reasons[i] = reason;
          if (canceled[1 - i]) cancelDone.resolve(reader.cancel(reasons));
          return cancelDone.promise;
        },
      });
      return [branch(0), branch(1)];
    }
    values(options = undefined) {
      const reader = this.getReader();
      const preventCancel = Boolean(options && options.preventCancel);
      let finished = false;
      return {
        async next() {
          if (finished) return {value: undefined, done: true};
          try {
            const r = await reader.read();
            if (r.done) {
              finished = true;
              reader.releaseLock();
            }
            return r;
          } catch (e) {
            finished = true;
            reader.releaseLock();
            throw e;
          }
        },
        async return(value) {
          if (!finished) {
            finished = true;
            if (!preventCancel) {
              const p = reader.cancel(value);
              reader.releaseLock();
              await p;
            } else {
              reader.releaseLock();
            }
          }
          return {value, done: true};
        },
        [Symbol.asyncIterator]() { return this; },
      };
    }
    [Symbol.asyncIterator](options = undefined) { return this.values(options); }
    static from(iterable) {
      const it = typeof iterable[Symbol.asyncIterator] === 'function' ?
          iterable[Symbol.asyncIterator]() : iterable[Symbol.iterator]();
      return new ReadableStream({
        async pull(c) {
          const r = await it.next();
          if (r.done) c.close(); else c.enqueue(await r.value);
        },
        async cancel(reason) {
          if (typeof it.return === 'function') await it.return(reason);
        },
      }, {highWaterMark: 0});
    }
    get [Symbol.toStringTag]() { return 'ReadableStream'; }
  }
  define(g, 'ReadableStream', ReadableStream);

  let readerClosed;  // (reader, null | {error}) -> settles reader.closed
  class ReadableStreamDefaultReader {
    #stream;
    #closed = deferred();
    constructor(stream) {
      if (!(stream instanceof ReadableStream)) throw new TypeError('The argument must be a ReadableStream');
      if (stream.locked) throw new TypeError('This ReadableStream is currently locked to a reader');
      this.#stream = stream;
      this.#closed.promise.catch(() => {});
      streamAttach(stream, this);
      const [state, error] = streamState(stream);
      if (state === 'closed') this.#closed.resolve();
      if (state === 'errored') this.#closed.reject(error);
    }
    get closed() { return this.#closed.promise; }
    read() {
      if (this.#stream === null) return Promise.reject(new TypeError('The reader was released'));
      return streamRead(this.#stream);
    }
    cancel(reason = undefined) {
      if (this.#stream === null) return Promise.reject(new TypeError('The reader was released'));
      return streamCancel(this.#stream, reason);
    }
    releaseLock() {
      if (this.#stream === null) return;
      streamAttach(this.#stream, null);
      this.#stream = null;
      // perf (runtime::Pop bench): no stack for this error. Capturing one (materializing
      // optimized frames) was a third of a hello-world request: reading a body releases a reader.
      // A limit that is not a number turns capturing off (0 still summarizes the top frame).
      const stackTraceLimit = Error.stackTraceLimit;
      Error.stackTraceLimit = undefined;
      const e = new TypeError('The reader was released');
      Error.stackTraceLimit = stackTraceLimit;
      this.#closed.reject(e);
      this.#closed = deferred();
      this.#closed.promise.catch(() => {});
      this.#closed.reject(e);
    }
    static {
      readerClosed = (reader, outcome) => {
        if (outcome === null) reader.#closed.resolve(); else reader.#closed.reject(outcome.error);
      };
    }
    get [Symbol.toStringTag]() { return 'ReadableStreamDefaultReader'; }
  }
  define(g, 'ReadableStreamDefaultReader', ReadableStreamDefaultReader);

  // A stream of one chunk (a copy of `bytes`), like a body made from bytes.
  function streamOfBytes(bytes) {
    return new ReadableStream({
      pull(c) {
        if (bytes.byteLength > 0) c.enqueue(new Uint8Array(bytes));
        c.close();
      },
    }, {highWaterMark: 0});
  }
  // All the bytes of a body stream. Chunks must be bytes, as in workerd.
  async function readAllBytes(stream) {
    const reader = stream.getReader();
    const chunks = [];
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      if (value instanceof Uint8Array) {
        chunks.push(value);
      } else if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
        chunks.push(copyBufferSource(value));
      } else {
        reader.releaseLock();
        throw new TypeError('This ReadableStream did not return bytes.');
      }
    }
    reader.releaseLock();
    return concatBytes(chunks);
  }

  // ---- TransformStream / WritableStream (identity only: a pipe from a writer to a stream) ----
  // A reader that fills the caller's buffer ("bring your own buffer"). Any stream of bytes
  // (ArrayBuffer or views) will do, as in workerd for body streams. read(view, {min}) fills at
  // least `min` elements (default 1) unless the stream ends; readAtLeast(minBytes, view) is
  // workerd's form. The view is not detached (V8 10.2 has no ArrayBuffer transfer): the result
  // is a new view of the same memory. Bytes read past the end of a view wait for the next
  // read(); they are dropped by releaseLock().
  class ReadableStreamBYOBReader {
    #reader;
    #pending = null;  // bytes read from the stream, not yet handed out
    constructor(stream) {
      this.#reader = new ReadableStreamDefaultReader(stream);
    }
    get closed() { return this.#reader.closed; }
    async read(view, options = undefined) {
      if (!ArrayBuffer.isView(view)) throw new TypeError('read() expects an ArrayBufferView');
      if (view.byteLength === 0) throw new TypeError('read() expects a view with a non-zero byteLength');
      const elem = view.BYTES_PER_ELEMENT ?? 1;
      const min = options?.min === undefined ? 1 : Number(options.min);
      if (!(min >= 1) || min * elem > view.byteLength) {
        throw new RangeError(`options.min must be between 1 and ${view.byteLength / elem}`);
      }
      const target = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      const want = min * elem;
      let filled = 0;
      let ended = false;
      while (filled < want) {
        if (this.#pending === null) {
          const {value, done} = await this.#reader.read();
          if (done) {
            ended = true;
            break;
          }
          if (value instanceof ArrayBuffer) {
            this.#pending = new Uint8Array(value);
          } else if (ArrayBuffer.isView(value)) {
            this.#pending = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
          } else {
            throw new TypeError('This ReadableStream did not return bytes.');
          }
          if (this.#pending.byteLength === 0) this.#pending = null;
          continue;
        }
        const n = Math.min(this.#pending.byteLength, target.byteLength - filled);
        target.set(this.#pending.subarray(0, n), filled);
        filled += n;
        this.#pending = n < this.#pending.byteLength ? this.#pending.subarray(n) : null;
      }
      // Whole elements only: a partial element waits for the next read.
      const whole = filled - (filled % elem);
      if (whole < filled) {
        const rest = target.slice(whole, filled);
        this.#pending = this.#pending === null ? rest : concatBytes([rest, this.#pending]);
      }
      const Ctor = view.constructor;
      const out = Ctor === DataView ? new DataView(view.buffer, view.byteOffset, whole)
          : new Ctor(view.buffer, view.byteOffset, whole / elem);
      return {value: out, done: ended && whole === 0};
    }
    readAtLeast(minBytes, view) {
      const elem = view?.BYTES_PER_ELEMENT ?? 1;
      return this.read(view, {min: Math.max(1, Math.ceil(Number(minBytes) / elem))});
    }
    cancel(reason = undefined) {
      this.#pending = null;
      return this.#reader.cancel(reason);
    }
    releaseLock() {
      this.#pending = null;
      this.#reader.releaseLock();
    }
    get [Symbol.toStringTag]() { return 'ReadableStreamBYOBReader'; }
  }
  define(g, 'ReadableStreamBYOBReader', ReadableStreamBYOBReader);

  class WritableStreamDefaultWriter {
    #sink;
    #released = false;
    constructor(sink) { this.#sink = sink; }
    get ready() { return Promise.resolve(); }
    get closed() { return this.#sink.closed; }
    get desiredSize() { return this.#sink.errored ? null : 1; }
    #check() {
      if (this.#released) throw new TypeError('The writer was released');
    }
    write(chunk = undefined) {
      try {
        this.#check();
        this.#sink.write(chunk);
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(e);
      }
    }
    close() {
      try {
        this.#check();
        this.#sink.close();
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(e);
      }
    }
    abort(reason = undefined) {
      if (this.#released) return Promise.reject(new TypeError('The writer was released'));
      this.#sink.abort(reason);
      return Promise.resolve();
    }
    releaseLock() {
      this.#released = true;
      this.#sink.locked = false;
    }
    get [Symbol.toStringTag]() { return 'WritableStreamDefaultWriter'; }
  }
  class WritableStream {
    #sink;
    constructor(sink = undefined, key = undefined) {
      if (key !== STREAM_KEY) {
        // A sink of user code: write/close/abort callbacks, called one at a time.
        const user = sink || {};
        let chain = Promise.resolve();
        const closed = deferred();
        closed.promise.catch(() => {});
        const s = {locked: false, errored: false, closed: closed.promise};
        const step = (fn) => {
          chain = chain.then(fn).catch((e) => {
            s.errored = true;
            closed.reject(e);
          });
        };
        if (typeof user.start === 'function') step(() => user.start({error: () => {}}));
        s.write = (chunk) => {
          if (s.closing) throw new TypeError('The stream is closing or closed');
          step(() => (typeof user.write === 'function' ? user.write(chunk, {}) : undefined));
        };
        s.close = () => {
          if (s.closing) throw new TypeError('The stream is closing or closed');
          s.closing = true;
          step(() => (typeof user.close === 'function' ? user.close() : undefined));
          step(() => closed.resolve());
        };
        s.abort = (reason) => {
          s.closing = true;
          step(() => (typeof user.abort === 'function' ? user.abort(reason) : undefined));
          step(() => closed.reject(reason));
        };
        sink = s;
      }
      this.#sink = sink;
    }
    get locked() { return this.#sink.locked; }
    getWriter() {
      if (this.#sink.locked) throw new TypeError('This WritableStream is currently locked to a writer');
      this.#sink.locked = true;
      return new WritableStreamDefaultWriter(this.#sink);
    }
    async close() { return this.getWriter().close(); }
    async abort(reason = undefined) { return this.getWriter().abort(reason); }
    get [Symbol.toStringTag]() { return 'WritableStream'; }
  }
  define(g, 'WritableStream', WritableStream);
  define(g, 'WritableStreamDefaultWriter', WritableStreamDefaultWriter);
  class TransformStream {
    #readable;
    #writable;
    constructor(transformer = undefined) {
      const t = transformer ?? {};
      if (typeof t.transform === 'function' || typeof t.flush === 'function' ||
          typeof t.start === 'function') {
        this.#init(t);
        return;
      }
      let controller;
      this.#readable = new ReadableStream({start(c) { controller = c; }}, {highWaterMark: 0});
      const closed = deferred();
      closed.promise.catch(() => {});
      this.#writable = new WritableStream({
        locked: false,
        errored: false,
        closed: closed.promise,
        write(chunk) { controller.enqueue(chunk); },
        close() { controller.close(); closed.resolve(); },
        abort(reason) { controller.error(reason); closed.reject(reason); this.errored = true; },
      }, STREAM_KEY);
    }
    // A transformer: start(controller), transform(chunk, controller), flush(controller), run one
    // at a time in order; what they enqueue comes out of the readable side. A transformer that
    // throws errors both sides.
    #init(t) {
      let rc;
      let terminated = false;
      this.#readable = new ReadableStream({
        start(c) { rc = c; },
        cancel(reason) {
          terminated = true;
          fail(reason);
          if (typeof t.cancel === 'function') return t.cancel(reason);
        },
      }, {highWaterMark: 0});
      const closed = deferred();
      closed.promise.catch(() => {});
      const sink = {locked: false, errored: false, closing: false, closed: closed.promise};
      const fail = (e) => {
        if (sink.errored) return;
        sink.errored = true;
        terminated = true;
        try { rc.error(e); } catch {}
        closed.reject(e);
      };
      const controller = {
        enqueue(chunk = undefined) {
          if (terminated) throw new TypeError('The TransformStream was terminated');
          rc.enqueue(chunk);
        },
        error(reason = undefined) { fail(reason); },
        terminate() {
          if (terminated) return;
          terminated = true;
          try { rc.close(); } catch {}
        },
        get desiredSize() { return terminated ? null : (rc.desiredSize ?? 0); },
        get [Symbol.toStringTag]() { return 'TransformStreamDefaultController'; },
      };
      let chain = Promise.resolve().then(() => (typeof t.start === 'function' ? t.start(controller) : undefined));
      chain.catch(fail);
      const step = (fn) => {
        chain = chain.then(() => (sink.errored ? undefined : fn())).catch(fail);
      };
      sink.write = (chunk) => {
        if (sink.closing || sink.errored) throw new TypeError('The stream is closing or closed');
        step(() => (typeof t.transform === 'function' ? t.transform(chunk, controller)
                                                      : controller.enqueue(chunk)));
      };
      sink.close = () => {
        if (sink.closing || sink.errored) throw new TypeError('The stream is closing or closed');
        sink.closing = true;
        step(async () => {
          if (typeof t.flush === 'function') await t.flush(controller);
          if (!terminated) {
            terminated = true;
            rc.close();
          }
          closed.resolve();
        });
      };
      sink.abort = (reason) => {
        sink.closing = true;
        fail(reason);
      };
      this.#writable = new WritableStream(sink, STREAM_KEY);
    }
    get readable() { return this.#readable; }
    get writable() { return this.#writable; }
    get [Symbol.toStringTag]() { return 'TransformStream'; }
  }
  define(g, 'TransformStream', TransformStream);
  // Cloudflare's name for the byte-only identity transform.
  define(g, 'IdentityTransformStream', class IdentityTransformStream extends TransformStream {
    constructor() { super(); }
  });

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
      init = init || {};
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
      init = init || {};
      const status = init.status === undefined ? 200 : Number(init.status);
      const webSocket = init.webSocket ?? null;
      if (webSocket !== null && !(webSocket instanceof WebSocket)) {
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
        this.#headers.set(SOCKET_HEADER, socketIdOf(webSocket));
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
      return new Response(text, {...(init || {}), headers});
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
        if (status === 101 && r.#headers.has(SOCKET_HEADER)) {
          r.#webSocket = relayedSocket(r.#headers.get(SOCKET_HEADER));
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

  // ---- fetch (over the simulated network, to the origins of the scenario) --------------------
  // host.fetch() starts a request (an effect of this run); the reply settles it in a later run
  // through settleFetch(). Redirects are followed here, one network request per hop.
  const pendingFetches = new Map();  // fetch id -> {resolve, reject, undo}
  const REDIRECTS_MAX = 20;
  function send(method, url, flat, bytes, signal) {
    return new Promise((resolve, reject) => {
      const id = host.fetch(method, url, flat, bytes);
      const entry = {resolve, reject, undo: () => {}};
      pendingFetches.set(id, entry);
      entry.undo = onSignalAbort(signal, () => {
        // The request is already on its way; its reply will find no one waiting.
        if (pendingFetches.delete(id)) reject(signal.reason);
      });
    });
  }
  function settleFetch(id, status, flat, body, error) {
    const entry = pendingFetches.get(id);
    if (entry === undefined) return;
    pendingFetches.delete(id);
    entry.undo();
    if (error !== undefined) {
      entry.reject(new TypeError(error));
    } else {
      entry.resolve({status, flat, body});
    }
  }
  async function runFetch(request) {
    const signal = request.signal;
    signal.throwIfAborted();
    let url = request.url;
    let method = request.method;
    const protocol = new URL(url).protocol;
    if (protocol !== 'http:' && protocol !== 'https:') {
      throw new TypeError(`Fetch API cannot load: ${url}`);
    }
    let headers = [...request.headers];
    let bytes = await request._readAll();
    signal.throwIfAborted();
    for (let hops = 0; ; hops++) {
      signal.throwIfAborted();
      const flat = [];
      for (const [k, v] of headers) flat.push(k, v);
      const reply = await send(method, url, flat, bytes, signal);
      let location = null;
      for (let i = 0; i + 1 < reply.flat.length; i += 2) {
        if (reply.flat[i].toLowerCase() === 'location') location = reply.flat[i + 1];
      }
      if (REDIRECT_STATUS.includes(reply.status) && location !== null && request.redirect !== 'manual') {
        if (request.redirect === 'error') {
          throw new TypeError(`Fetch to ${url} was redirected, but redirect is set to "error"`);
        }
        if (hops >= REDIRECTS_MAX) throw new TypeError('Too many redirects.');
        try {
          url = new URL(location, url).href;
        } catch {
          throw new TypeError(`Invalid redirect location: ${location}`);
        }
        if ((reply.status === 303 && method !== 'HEAD') ||
            ((reply.status === 301 || reply.status === 302) && method === 'POST')) {
          method = 'GET';
          bytes = null;
          headers = headers.filter(([k]) => !['content-type', 'content-length', 'content-encoding',
            'content-language', 'content-location'].includes(k));
        }
        continue;
      }
      const nullBody = method === 'HEAD' || NULL_BODY_STATUS.includes(reply.status);
      return makeFetchedResponse(reply.status, reply.flat, nullBody ? null : reply.body, url, hops > 0);
    }
  }
  define(g, 'fetch', function fetch(input, init = undefined) {
    try {
      if (arguments.length === 0) throw new TypeError('fetch requires 1 argument');
      return runFetch(new Request(input, init));
    } catch (e) {
      return Promise.reject(e);
    }
  });

  // ---- crypto.subtle -------------------------------------------------------------------------
  const DIGESTS = {'sha-1': 'SHA-1', 'sha-256': 'SHA-256', 'sha-384': 'SHA-384', 'sha-512': 'SHA-512'};
  const SUBTLE_KEY = Symbol('SubtleCrypto');
  class SubtleCrypto {
    constructor(key = undefined) {
      if (key !== SUBTLE_KEY) throw new TypeError('Illegal constructor');
    }
    digest(algorithm, data) {
      try {
        if (arguments.length < 2) throw new TypeError('digest requires 2 arguments');
        const name = typeof algorithm === 'string' ? algorithm :
            (algorithm !== null && typeof algorithm === 'object' ? algorithm.name : undefined);
        if (name === undefined) throw new TypeError('The algorithm must name a digest');
        const canonical = DIGESTS[String(name).toLowerCase()];
        if (canonical === undefined) {
          throw new DOMException(`Unrecognized name.`, 'NotSupportedError');
        }
        const bytes = copyBufferSource(data);
        if (bytes === null) throw new TypeError('The data must be an ArrayBuffer or ArrayBufferView');
        return Promise.resolve(host.digest(canonical, bytes));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    timingSafeEqual(a, b) {
      const x = copyBufferSource(a);
      const y = copyBufferSource(b);
      if (x === null || y === null) throw new TypeError('timingSafeEqual takes ArrayBuffers or views');
      if (x.byteLength !== y.byteLength) throw new TypeError('Input buffers must have the same byte length');
      let diff = 0;
      for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
      return diff === 0;
    }
    get [Symbol.toStringTag]() { return 'SubtleCrypto'; }
  }
  define(g, 'SubtleCrypto', SubtleCrypto);
  const subtle = new SubtleCrypto(SUBTLE_KEY);
  Object.defineProperty(crypto, 'subtle', {get: () => subtle, configurable: true, enumerable: true});

  // ---- bindings: Durable Objects and KV ------------------------------------------------------
  // The env objects of service bindings (the embedder's set_env makes them with bindings.make),
  // and the state and storage of Durable Object instances. They talk to the platform through
  // host.call(target, method, json, bytes) -> Promise<[json, ArrayBuffer|null]> and
  // host.callSync(...) (DO storage answers at once). Values that cross isolates or go to storage
  // are structured clones (host.serialize / host.deserialize).
  const BINDING_KEY = Symbol('binding');
  const BLOCKED = Symbol('blocked');
  const HEX_ID = /^[0-9a-f]{64}$/;
  const utf8 = (s) => new TextEncoder().encode(String(s));
  function toHex(buffer) {
    const bytes = new Uint8Array(buffer);
    let out = '';
    for (let i = 0; i < bytes.length; i++) out += bytes[i].toString(16).padStart(2, '0');
    return out;
  }
  // Concatenates byte arrays: the bytes of a call carrying several values.
  function concatBytes(parts) {
    let n = 0;
    for (const p of parts) n += p.byteLength;
    const out = new Uint8Array(n);
    let at = 0;
    for (const p of parts) {
      out.set(new Uint8Array(p), at);
      at += p.byteLength;
    }
    return out;
  }
  // [[key, offset, length], ...] over `bytes` -> Map of key -> deserialized value
  function valuesMap(list, bytes) {
    const out = new Map();
    for (const [key, offset, length] of list) {
      out.set(key, host.deserialize(new Uint8Array(bytes, offset, length)));
    }
    return out;
  }
  function bytesOfValue(value) {
    if (typeof value === 'string') return utf8(value);
    const copy = copyBufferSource(value);
    if (copy !== null) return copy;
    throw new TypeError('KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.');
  }

  class DurableObjectId {
    #hex; #name;
    constructor(key, hex, name) {
      if (key !== BINDING_KEY) throw new TypeError('Illegal constructor');
      this.#hex = hex;
      this.#name = name;
    }
    toString() { return this.#hex; }
    equals(other) { return other instanceof DurableObjectId && other.#hex === this.#hex; }
    get name() { return this.#name; }
    get [Symbol.toStringTag]() { return 'DurableObjectId'; }
  }

  async function stubFetch(target, id, request) {
    const bytes = await request._readAll();
    const flat = [];
    for (const [k, v] of request.headers) flat.push(k, v);
    const [meta, body] = await host.call(target, 'fetch',
        JSON.stringify({id: id.toString(), name: id.name ?? '', method: request.method,
          url: request.url, headers: flat}), bytes);
    const headers = new Headers();
    for (let i = 0; i + 1 < meta.headers.length; i += 2) headers.append(meta.headers[i], meta.headers[i + 1]);
    if (meta.status === 101) return makeFetchedResponse(101, meta.headers, null, request.url, false);
    const nullBody = request.method === 'HEAD' || NULL_BODY_STATUS.includes(meta.status);
    return new Response(nullBody ? null : body, {status: meta.status, headers});
  }
  function makeStub(target, id) {
    const base = {
      get id() { return id; },
      get name() { return id.name; },
      fetch(input, init = undefined) {
        try {
          return stubFetch(target, id, new Request(input, init));
        } catch (e) {
          return Promise.reject(e);
        }
      },
    };
    return new Proxy(base, {
      get(t, prop) {
        if (prop in t) return t[prop];
        // Not thenable: `await stub` must give the stub.
        if (typeof prop === 'symbol' || prop === 'then') return undefined;
        return (...args) => {
          try {
            const bytes = host.serialize(args);
            return host.call(target, 'rpc',
                JSON.stringify({id: id.toString(), name: id.name ?? '', method: prop}), bytes)
                .then(([, result]) => host.deserialize(result));
          } catch (e) {
            return Promise.reject(e);
          }
        };
      },
    });
  }

  class DurableObjectNamespace {
    #target; #className;
    constructor(key, name, className) {
      if (key !== BINDING_KEY) throw new TypeError('Illegal constructor');
      this.#target = `do:${name}`;
      this.#className = className;
    }
    idFromName(name) {
      if (arguments.length === 0) throw new TypeError('idFromName requires 1 argument');
      name = String(name);
      const digest = host.digest('SHA-256', utf8(`${this.#className}\u0000${name}`));
      return new DurableObjectId(BINDING_KEY, toHex(digest), name);
    }
    newUniqueId(options = undefined) {
      const bytes = new Uint8Array(32);
      crypto.getRandomValues(bytes);
      return new DurableObjectId(BINDING_KEY, toHex(bytes), undefined);
    }
    idFromString(hex) {
      hex = String(hex);
      if (!HEX_ID.test(hex)) throw new TypeError('Invalid Durable Object ID: must be 64 hex digits');
      return new DurableObjectId(BINDING_KEY, hex, undefined);
    }
    get(id, options = undefined) {
      if (!(id instanceof DurableObjectId)) throw new TypeError('get() takes a DurableObjectId');
      return makeStub(this.#target, id);
    }
    getByName(name, options = undefined) { return this.get(this.idFromName(name), options); }
    jurisdiction(name) { return this; }
    get [Symbol.toStringTag]() { return 'DurableObjectNamespace'; }
  }

  // ---- Durable Object storage (KV and SQL APIs) over SQLite on the object's host ----
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
      host.callSync('storage', method, JSON.stringify(args ?? null), bytes);
  const settled = (fn) => {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(e);
    }
  };

  class SqlCursor {
    #columns; #rows; #at = 0; #read; #written;
    constructor(key, result) {
      if (key !== BINDING_KEY) throw new TypeError('Illegal constructor');
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
      for (const row of this) out.push(row);
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
          for (const r of this) out.push(r);
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
    constructor(key) { if (key !== BINDING_KEY) throw new TypeError('Illegal constructor'); }
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
      return new SqlCursor(BINDING_KEY, result);
    }
    get databaseSize() { return store('dbsize')[0].size; }
  }

  class DurableObjectStorage {
    #sql = new SqlStorage(BINDING_KEY);
    #inTxn;
    constructor(key, inTxn = false) {
      if (key !== BINDING_KEY) throw new TypeError('Illegal constructor');
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
          index.push([storageKey(k), bytes.byteLength]);
          parts.push(bytes);
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
      const txn = new DurableObjectStorage(BINDING_KEY, true);
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
    sync() { return host.call('storage', 'sync', 'null').then(() => undefined); }
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

  // ---- WebSockets: the server end lives in a Durable Object (hibernation API) -----------------
  const SOCKET_KEY = Symbol('socket');
  const SOCKETS = Symbol('sockets');
  const SOCKET_FOR = Symbol('socketFor');
  const SOCKET_HEADER = 'sec-edgesim-websocket';
  let socketBind, socketIdOf, socketRelayed, relayedSocket, socketClose, pairSockets;
  const NOT_MODELLED = 'edgesim models the hibernation API only: accept the server end with ' +
      'this.ctx.acceptWebSocket(ws) and handle webSocketMessage()/webSocketClose().';
  class WebSocket {
    #id = null;      // the host's socket id, once accepted
    #peer = null;    // the other end of its WebSocketPair
    #relayed = false;  // an end that arrived in a 101 response: it can only be returned
    #closed = false;
    constructor(url) {
      if (url !== SOCKET_KEY) {
        throw new Error('edgesim: outbound WebSockets (new WebSocket(url)) are not modelled.');
      }
    }
    static get CONNECTING() { return 0; }
    static get OPEN() { return 1; }
    static get CLOSING() { return 2; }
    static get CLOSED() { return 3; }
    #server() {
      if (this.#relayed) throw new TypeError('This WebSocket was relayed in a response; it can only be returned.');
      if (this.#id === null) throw new TypeError('The WebSocket was not accepted (this.ctx.acceptWebSocket).');
      return this.#id;
    }
    get readyState() {
      if (this.#id === null || this.#relayed) return this.#closed ? 3 : 0;
      if (this.#closed) return 3;
      return host.callSync('ws', 'state', JSON.stringify({id: this.#id}))[0].state;
    }
    get url() { return null; }
    get protocol() { return ''; }
    get extensions() { return ''; }
    accept() { throw new Error(NOT_MODELLED); }
    addEventListener() { throw new Error(NOT_MODELLED); }
    send(message) {
      const id = this.#server();
      if (typeof message === 'string') {
        host.callSync('ws', 'send', JSON.stringify({id, text: true}), utf8(message));
      } else if (message instanceof ArrayBuffer || ArrayBuffer.isView(message)) {
        const bytes = message instanceof ArrayBuffer ? new Uint8Array(message)
            : new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
        host.callSync('ws', 'send', JSON.stringify({id, text: false}), bytes.slice());
      } else {
        host.callSync('ws', 'send', JSON.stringify({id, text: true}), utf8(String(message)));
      }
    }
    close(code = 1000, reason = '') {
      const id = this.#server();
      if (this.#closed) return;  // e.g. reciprocating the client's close in webSocketClose()
      host.callSync('ws', 'close', JSON.stringify({id, code: Number(code), reason: String(reason)}));
      this.#closed = true;
    }
    serializeAttachment(value) {
      const id = this.#server();
      host.callSync('ws', 'setAttachment', JSON.stringify({id}), host.serialize(value));
    }
    deserializeAttachment() {
      const id = this.#server();
      const [r, bytes] = host.callSync('ws', 'getAttachment', JSON.stringify({id}));
      return r.found ? host.deserialize(bytes) : null;
    }
    get [Symbol.toStringTag]() { return 'WebSocket'; }
    static {
      socketBind = (ws, sid) => {
        ws.#id = sid;
        if (ws.#peer !== null) {
          // Either end of a pair may be accepted; the other one goes back in the 101 response.
          ws.#peer.#id = sid;
          ws.#peer.#relayed = true;
        }
      };
      socketIdOf = (ws, quiet = false) => {
        if (ws.#id === null && !quiet) {
          throw new TypeError('The server end of this WebSocketPair was not accepted (this.ctx.acceptWebSocket).');
        }
        return ws.#id;
      };
      socketRelayed = (ws) => ws.#relayed;
      relayedSocket = (sid) => {
        const ws = new WebSocket(SOCKET_KEY);
        ws.#id = sid;
        ws.#relayed = true;
        return ws;
      };
      socketClose = (ws) => { ws.#closed = true; };
      pairSockets = (a, b) => {
        a.#peer = b;
        b.#peer = a;
      };
    }
  }
  class WebSocketPair {
    constructor() {
      const client = new WebSocket(SOCKET_KEY);
      const server = new WebSocket(SOCKET_KEY);
      pairSockets(client, server);
      this[0] = client;
      this[1] = server;
    }
    *[Symbol.iterator]() { yield this[0]; yield this[1]; }
    get [Symbol.toStringTag]() { return 'WebSocketPair'; }
  }
  define(g, 'WebSocket', WebSocket);
  define(g, 'WebSocketPair', WebSocketPair);

  class DurableObjectState {
    #id; #storage = new DurableObjectStorage(BINDING_KEY);
    [SOCKETS] = new Map();  // socket id -> the WebSocket object this instance handed out
    constructor(key, id) {
      if (key !== BINDING_KEY) throw new TypeError('Illegal constructor');
      this.#id = id;
    }
    get id() { return this.#id; }
    get storage() { return this.#storage; }
    waitUntil(promise) { Promise.resolve(promise).catch(() => {}); }
    // The input gate stays closed until fn settles; if fn throws, the object is reset.
    blockConcurrencyWhile(fn) {
      host.callSync('actor', 'block', 'null');
      const done = settled(fn).then((v) => {
        host.callSync('actor', 'unblock', 'null');
        return v;
      }, (e) => {
        host.callSync('actor', 'reset', JSON.stringify({message: errorMessage(e)}));
        throw e;
      });
      // An event already delivered (the one whose constructor called this) waits too.
      const blocked = done.then(() => {}, () => {});
      this[BLOCKED] = blocked;
      blocked.then(() => { if (this[BLOCKED] === blocked) this[BLOCKED] = null; });
      return done;
    }
    // WebSockets, hibernation API (runtime/websockets.h): the host keeps the sockets, so they
    // outlive this instance; getWebSockets() finds them again after the constructor reran.
    acceptWebSocket(ws, tags = undefined) {
      if (!(ws instanceof WebSocket)) throw new TypeError('acceptWebSocket() expects a WebSocket.');
      if (socketIdOf(ws, true) !== null) throw new TypeError('This WebSocket was already accepted.');
      if (socketRelayed(ws)) throw new TypeError('Only the server end of a WebSocketPair can be accepted.');
      const list = tags === undefined ? [] : Array.from(tags, String);
      const [r] = host.callSync('ws', 'accept', JSON.stringify({tags: list}));
      socketBind(ws, r.id);
      this[SOCKETS].set(r.id, ws);
    }
    getWebSockets(tag = undefined) {
      const [ids] = host.callSync('ws', 'list', JSON.stringify({tag: tag === undefined ? '' : String(tag)}));
      return ids.map((sid) => this[SOCKET_FOR](sid));
    }
    getTags(ws) {
      const sid = socketIdOf(ws, true);
      if (sid === null) throw new TypeError('getTags() expects an accepted WebSocket.');
      return host.callSync('ws', 'tags', JSON.stringify({id: sid}))[0];
    }
    setWebSocketAutoResponse() {
      throw new Error('edgesim: setWebSocketAutoResponse() is not modelled yet.');
    }
    [SOCKET_FOR](sid) {
      let ws = this[SOCKETS].get(sid);
      if (ws === undefined) {
        ws = new WebSocket(SOCKET_KEY);
        socketBind(ws, sid);
        this[SOCKETS].set(sid, ws);
      }
      return ws;
    }
    abort(reason = undefined) {
      host.callSync('actor', 'reset', JSON.stringify({message: String(reason ?? 'aborted')}));
    }
    get [Symbol.toStringTag]() { return 'DurableObjectState'; }
  }

  // ---- KV ----
  class KVNamespace {
    #target;
    constructor(key, name) {
      if (key !== BINDING_KEY) throw new TypeError('Illegal constructor');
      this.#target = `kv:${name}`;
    }
    async #get(key, options, withMetadata) {
      const o = typeof options === 'string' ? {type: options} : (options ?? {});
      const type = o.type ?? 'text';
      if (!['text', 'json', 'arrayBuffer', 'stream'].includes(type)) {
        throw new TypeError(`Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".`);
      }
      const args = {key: String(key)};
      if (o.cacheTtl !== undefined) args.cacheTtl = Number(o.cacheTtl);
      const [r, bytes] = await host.call(this.#target, 'get', JSON.stringify(args));
      let value = null;
      if (r.found) {
        if (type === 'arrayBuffer') value = bytes;
        else if (type === 'stream') value = new Response(bytes).body;
        else {
          const text = new TextDecoder().decode(bytes);
          value = type === 'json' ? JSON.parse(text) : text;
        }
      }
      return withMetadata ? {value, metadata: r.found ? (r.metadata ?? null) : null, cacheStatus: null} : value;
    }
    get(key, options = undefined) { return this.#get(key, options, false); }
    getWithMetadata(key, options = undefined) { return this.#get(key, options, true); }
    async put(key, value, options = undefined) {
      const o = options ?? {};
      if (value instanceof ReadableStream) value = await new Response(value).arrayBuffer();
      const bytes = bytesOfValue(value);
      const args = {key: String(key)};
      if (o.expiration !== undefined) args.expiration = Number(o.expiration);
      if (o.expirationTtl !== undefined) args.expirationTtl = Number(o.expirationTtl);
      if (o.metadata !== undefined) args.metadata = o.metadata;
      await host.call(this.#target, 'put', JSON.stringify(args), bytes);
    }
    async delete(key) { await host.call(this.#target, 'delete', JSON.stringify({key: String(key)})); }
    async list(options = undefined) {
      const o = options ?? {};
      const args = {};
      if (o.prefix !== undefined && o.prefix !== null) args.prefix = String(o.prefix);
      if (o.limit !== undefined) args.limit = Number(o.limit);
      if (o.cursor !== undefined && o.cursor !== null) args.cursor = String(o.cursor);
      const [r] = await host.call(this.#target, 'list', JSON.stringify(args));
      return r;
    }
    get [Symbol.toStringTag]() { return 'KVNamespace'; }
  }

  const bindings = {
    make(name, descriptor) {
      switch (descriptor?.type) {
        case 'durable_object_namespace':
          return new DurableObjectNamespace(BINDING_KEY, name, String(descriptor.class_name));
        case 'kv_namespace':
          return new KVNamespace(BINDING_KEY, name);
        case 'client':  // a client script's history recorder (scenarios/folder.cc)
          return Object.freeze({
            invoke: (kind, object, key, input) => host.callSync(`client:${name}`, 'invoke',
                JSON.stringify({kind, object, key, input}))[0].id,
            complete: (id, status, output) => {
              host.callSync(`client:${name}`, 'complete', JSON.stringify({id, status, output}));
            },
            // WebSockets of a simulated client (ClientSockets): wsOpen, wsSend, wsReceive, wsClose.
            ws: (method, args, bytes = undefined) => bytes === undefined
                ? host.call(`client:${name}`, method, JSON.stringify(args))
                : host.call(`client:${name}`, method, JSON.stringify(args), bytes),
          });
        default:
          throw new TypeError(`env.${name}: unknown binding type "${descriptor?.type}"`);
      }
    },
    makeState(idHex, name) {
      return new DurableObjectState(BINDING_KEY,
          new DurableObjectId(BINDING_KEY, idHex, name === '' ? undefined : name));
    },
    serialize: (v) => host.serialize(v),
    deserialize: (bytes) => host.deserialize(bytes),
    // The blockConcurrencyWhile() in progress on this state, or null.
    blocked: (state) => state[BLOCKED] ?? null,
    // The WebSocket an event names (the same object for the life of the instance).
    socketFor: (state, sid) => state[SOCKET_FOR](sid),
    socketClosed: (ws) => socketClose(ws),
  };

  // ---- for the embedder (its handler dispatcher lives in isolate.cc) ---------------------------
  function errorMessage(e) {
    if (e instanceof Error) return `${e.name}: ${e.message}`;
    try {
      return `Uncaught ${inspect(e, 0, [])}`;
    } catch {
      return 'Uncaught exception';
    }
  }
  function errorStack(e) { return e instanceof Error && typeof e.stack === 'string' ? e.stack : ''; }

  define(g, '__edgesim_init', function (natives) {
    host = natives;
    delete g.__edgesim_init;
    return {fireTimer, settleFetch, errorMessage, errorStack, setHeadersGuard, bindings};
  });
})();
