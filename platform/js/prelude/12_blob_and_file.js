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
            arrayAppend(chunks, p.#bytes);
          } else {
            arrayAppend(chunks, copyBufferSource(p) || host.utf8Encode(String(p)));
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

