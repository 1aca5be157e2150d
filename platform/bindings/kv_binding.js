// The Workers KV binding (bindings/kv_binding.h is the C++ half): env.MY_KV as a KVNamespace (get,
// getWithMetadata, put, delete, list). Every call goes to the PoP's KV client through
// host.call(target, method, json, bytes); values travel as bytes, options as JSON.
//
// An extension of the prelude (js::EngineOptions::extensions), run once in the snapshot.
(function (internal) {
  'use strict';
  // The intrinsics this file uses, captured before any Worker code runs (a Worker may replace
  // the globals; the platform's code must not notice).
  const {Promise, JSON, Object, Array, ArrayBuffer, Uint8Array, Number, String, Symbol, Error, TypeError,
    RangeError, Map, Set} = globalThis;
  const host = internal.host;
  const {utf8, copyBufferSource} = internal;
  const KEY = Symbol('kv-binding');
  function bytesOfValue(value) {
    if (typeof value === 'string') return utf8(value);
    const copy = copyBufferSource(value);
    if (copy !== null) return copy;
    throw new TypeError('KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.');
  }

  class KVNamespace {
    #target;
    constructor(key, target) {
      if (key !== KEY) throw new TypeError('Illegal constructor');
      this.#target = target;
    }
    async #get(key, options, withMetadata) {
      const o = typeof options === 'string' ? {type: options} : (options ?? {});
      const type = o.type ?? 'text';
      if (!['text', 'json', 'arrayBuffer', 'stream'].includes(type)) {
        throw new TypeError(`Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".`);
      }
      const args = {key: String(key)};
      if (o.cacheTtl !== undefined) args.cacheTtl = Number(o.cacheTtl);
      const [r, bytes] = await host.call(this.#target, 'get', JSON.stringify(args));
      let value = null;
      if (r.found) {
        if (type === 'arrayBuffer') value = bytes;
        else if (type === 'stream') value = new Response(bytes).body;
        else {
          const text = new TextDecoder().decode(bytes);
          value = type === 'json' ? JSON.parse(text) : text;
        }
      }
      return withMetadata ? {value, metadata: r.found ? (r.metadata ?? null) : null, cacheStatus: null} : value;
    }
    get(key, options = undefined) { return this.#get(key, options, false); }
    getWithMetadata(key, options = undefined) { return this.#get(key, options, true); }
    async put(key, value, options = undefined) {
      const o = options ?? {};
      if (value instanceof ReadableStream) value = await new Response(value).arrayBuffer();
      const bytes = bytesOfValue(value);
      const args = {key: String(key)};
      if (o.expiration !== undefined) args.expiration = Number(o.expiration);
      if (o.expirationTtl !== undefined) args.expirationTtl = Number(o.expirationTtl);
      if (o.metadata !== undefined) args.metadata = o.metadata;
      await host.call(this.#target, 'put', JSON.stringify(args), bytes);
    }
    async delete(key) { await host.call(this.#target, 'delete', JSON.stringify({key: String(key)})); }
    async list(options = undefined) {
      const o = options ?? {};
      const args = {};
      if (o.prefix !== undefined && o.prefix !== null) args.prefix = String(o.prefix);
      if (o.limit !== undefined) args.limit = Number(o.limit);
      if (o.cursor !== undefined && o.cursor !== null) args.cursor = String(o.cursor);
      const [r] = await host.call(this.#target, 'list', JSON.stringify(args));
      return r;
    }
    get [Symbol.toStringTag]() { return 'KVNamespace'; }
  }

  internal.bindingTypes.set('kv_namespace', (name, d) => new KVNamespace(KEY, Number(d.target)));
})
