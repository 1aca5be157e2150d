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
        arrayAppend(this.#queue, [chunk, size]);
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
      arrayAppend(this.#reads, d);
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
        arrayAppend(chunks, value);
      } else if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
        arrayAppend(chunks, copyBufferSource(value));
      } else {
        reader.releaseLock();
        throw new TypeError('This ReadableStream did not return bytes.');
      }
    }
    reader.releaseLock();
    return concatBytes(chunks);
  }

