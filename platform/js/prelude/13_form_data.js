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
      arrayAppend(this.#list, formEntry(arguments.length, name, value, filename));
    }
    set(name, value, filename = undefined) {
      const e = formEntry(arguments.length, name, value, filename);
      const i = this.#list.findIndex(([k]) => k === e[0]);
      if (i < 0) {
        arrayAppend(this.#list, e);
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
        arrayAppend(chunks, host.utf8Encode(`${head}\r\n\r\n${value.replace(/\r\n|\r|\n/g, '\r\n')}\r\n`));
      } else {
        head += `; filename="${escapeFormName(value.name)}"\r\nContent-Type: ` +
            `${value.type || 'application/octet-stream'}\r\n\r\n`;
        arrayAppend(chunks, host.utf8Encode(head), blobBytes(value));
        arrayAppend(chunks, host.utf8Encode('\r\n'));
      }
    }
    arrayAppend(chunks, host.utf8Encode(`--${boundary}--\r\n`));
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

