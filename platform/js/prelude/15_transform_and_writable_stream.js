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

