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

