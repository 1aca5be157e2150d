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

