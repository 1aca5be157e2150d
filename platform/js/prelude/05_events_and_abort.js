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
      arrayAppend(list, {callback, capture, once, removed: false});
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

