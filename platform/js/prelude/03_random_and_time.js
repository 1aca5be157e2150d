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

