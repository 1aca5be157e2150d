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

