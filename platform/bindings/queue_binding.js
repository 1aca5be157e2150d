// The Queues producer binding (bindings/queue_binding.h is the C++ half): env.MY_QUEUE with
// send(body, {contentType, delaySeconds}) and sendBatch(messages, {delaySeconds}). Bodies are
// serialized here, as workerd does: "json" with JSON.stringify, "text" a string, "bytes" an
// ArrayBufferView, "v8" a structured clone; the bytes go to C++ in one host.call.
//
// An extension of the prelude (js::EngineOptions::extensions), run once in the snapshot.
(function (internal) {
  'use strict';
  // The intrinsics this file uses, captured before any Worker code runs (a Worker may replace
  // the globals; the platform's code must not notice).
  const {Promise, JSON, Object, Array, ArrayBuffer, Uint8Array, Number, String, Symbol, Error, TypeError,
    RangeError, Map, Set} = globalThis;
  const host = internal.host;
  const {utf8, arrayAppend} = internal;
  const KEY = Symbol('queue-binding');
  const TYPES = ['text', 'bytes', 'json', 'v8'];

  // delaySeconds as the runtime converts it: NaN and infinities are 0, fractions truncated.
  function delay(value) {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n)) return 0;
    if (n < -2147483648 || n > 2147483647) {
      throw new TypeError('Value out of range. Must be between -2147483648 and 2147483647 (inclusive).');
    }
    return Math.trunc(n);
  }

  function serialize(body, type) {
    switch (type) {
      case 'text':
        if (typeof body !== 'string') {
          throw new TypeError(`Content Type "text" requires a value of type string, but received: ${typeof body}`);
        }
        return utf8(body);
      case 'bytes':
        if (!ArrayBuffer.isView(body)) {
          throw new TypeError(`Content Type "bytes" requires a value of type ArrayBufferView, but received: ${typeof body}`);
        }
        return new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
      case 'json':
        return utf8(JSON.stringify(body));
      case 'v8':
        return new Uint8Array(host.serialize(body));
      default:
        throw new TypeError(`Unsupported queue message content type: ${type}`);
    }
  }

  function concat(parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }

  function result(r) {
    const metrics = {backlogCount: r.metrics.backlogCount, backlogBytes: r.metrics.backlogBytes};
    const oldest = r.metrics.oldestMessageTimestamp;
    metrics.oldestMessageTimestamp = oldest ? new Date(oldest) : undefined;
    return {metadata: {metrics}};
  }

  class WorkerQueue {
    #target; #defaultType;
    constructor(key, target, defaultType) {
      if (key !== KEY) throw new TypeError('Illegal constructor');
      this.#target = target;
      this.#defaultType = defaultType;
    }
    async send(body, options = undefined) {
      if (body === undefined) throw new TypeError('Message body cannot be undefined');
      const given = options?.contentType;
      // send() accepts the content type in any case.
      const type = given === undefined ? this.#defaultType : String(given).toLowerCase();
      if (!TYPES.includes(type)) throw new TypeError(`Unsupported queue message content type: ${given}`);
      const bytes = serialize(body, type);
      const message = {type, size: bytes.byteLength};
      const d = delay(options?.delaySeconds);
      if (d !== undefined) message.delay = d;
      const [r] = await host.call(this.#target, 'send', JSON.stringify({messages: [message]}), bytes);
      return result(r);
    }
    async sendBatch(messages, options = undefined) {
      if (messages === null || messages === undefined || typeof messages[Symbol.iterator] !== 'function') {
        throw new TypeError('sendBatch() requires an iterable of messages');
      }
      const list = [...messages];
      if (list.length === 0) throw new TypeError('sendBatch() requires at least one message');
      const batchDelay = delay(options?.delaySeconds);
      const parts = [];
      const described = list.map((m) => {
        if (m?.body === undefined) throw new TypeError('Message body cannot be undefined');
        const given = m.contentType;
        // Validated in any case, but serialized as written: only lower case works (as in workerd).
        if (given !== undefined && !TYPES.includes(String(given).toLowerCase())) {
          throw new TypeError(`Unsupported queue message content type: ${given}`);
        }
        const type = given === undefined ? this.#defaultType : String(given);
        const bytes = serialize(m.body, type);
        arrayAppend(parts, bytes);
        const out = {type, size: bytes.byteLength};
        const d = delay(m.delaySeconds) ?? batchDelay;
        if (d !== undefined) out.delay = d;
        return out;
      });
      const [r] = await host.call(this.#target, 'sendBatch', JSON.stringify({messages: described}),
          concat(parts));
      return result(r);
    }
    get [Symbol.toStringTag]() { return 'WorkerQueue'; }
  }

  internal.bindingTypes.set('queue',
      (name, d) => new WorkerQueue(KEY, Number(d.target), d.defaultContentType));
})
