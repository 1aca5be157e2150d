  // ---- for the extensions and the embedder ---------------------------------------------------
  // Both survive any thrown value: a Proxy whose traps throw, an Error whose `name`, `message` or
  // `stack` getter throws. The dispatcher's catch blocks call them, so they must never throw.
  function errorMessage(e) {
    try {
      if (e instanceof Error) return `${e.name}: ${e.message}`;
    } catch {
      // fall through: describe it as a value
    }
    try {
      return `Uncaught ${inspect(e, 0, [])}`;
    } catch {
      return 'Uncaught exception';
    }
  }
  function errorStack(e) {
    try {
      const stack = e instanceof Error ? e.stack : undefined;
      return typeof stack === 'string' ? stack : '';
    } catch {
      return '';
    }
  }
  const utf8 = (s) => new TextEncoder().encode(String(s));
  function toHex(buffer) {
    const bytes = new Uint8Array(buffer);
    let out = '';
    for (let i = 0; i < bytes.length; i++) out += bytes[i].toString(16).padStart(2, '0');
    return out;
  }
  // Concatenates byte arrays: the bytes of a call carrying several values.
  function concatBytes(parts) {
    let n = 0;
    for (const p of parts) n += p.byteLength;
    const out = new Uint8Array(n);
    let at = 0;
    for (const p of parts) {
      out.set(new Uint8Array(p), at);
      at += p.byteLength;
    }
    return out;
  }
  // [[key, offset, length], ...] over `bytes` -> Map of key -> deserialized value
  function valuesMap(list, bytes) {
    const out = new Map();
    for (const [key, offset, length] of list) {
      out.set(key, host.deserialize(new Uint8Array(bytes, offset, length)));
    }
    return out;
  }
  // A promise of fn's result, or of its exception.
  const settled = (fn) => {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(e);
    }
  };
  Object.assign(internal, {
    errorMessage, errorStack, inspect, utf8, toHex, concatBytes, valuesMap, settled, arrayAppend,
    copyBufferSource, setHeadersGuard, headersMap, makeFetchedResponse: (...a) => makeFetchedResponse(...a),
    NULL_BODY_STATUS, SOCKET_HEADER,
    // The natives the extensions use, forwarded (they are set per isolate, after the snapshot).
    host: {
      call: (...a) => host.call(...a),
      callSync: (...a) => host.callSync(...a),
      serialize: (v) => host.serialize(v),
      deserialize: (b) => host.deserialize(b),
      digest: (algorithm, bytes) => host.digest(algorithm, bytes),
      respond: (...a) => host.respond(...a),
      signal: (...a) => host.signal(...a),
    },
  });

  // A dynamic import(): the namespace once the module's evaluation settles.
  const afterEvaluation = (evaluation, namespace) => Promise.resolve(evaluation).then(() => namespace);

  define(g, '__edgesim_init', function (natives) {
    host = natives;
    delete g.__edgesim_init;
    delete g.__edgesim_internal;
    return {fireTimer, settleFetch, afterEvaluation, entries: internal.entries,
      builtins: internal.builtins};
  });
})();
