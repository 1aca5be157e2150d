// The Durable Object namespace binding (bindings/do_binding.h is the C++ half): env.MY_DO as a
// DurableObjectNamespace (idFromName, newUniqueId, idFromString, get, getByName) and its stubs
// (fetch, and RPC through a Proxy). A stub's call goes to the platform through
// host.call(target, 'fetch' | 'rpc', json, bytes), where `target` is the binding's route (its
// descriptor's "target", given by the Worker's binding table); RPC arguments and results travel as
// structured clones.
//
// An extension of the prelude (js::EngineOptions::extensions), run once in the snapshot.
(function (internal) {
  'use strict';
  // The intrinsics this file uses, captured before any Worker code runs (a Worker may replace
  // the globals; the platform's code must not notice).
  const {Promise, JSON, Object, Array, ArrayBuffer, Uint8Array, Number, String, Symbol, Error, TypeError,
    RangeError, Map, Set} = globalThis;
  const host = internal.host;
  const {utf8, toHex, arrayAppend} = internal;
  const KEY = Symbol('do-binding');
  const HEX_ID = /^[0-9a-f]{64}$/;
  const objects = () => internal.objects;

  async function stubFetch(target, id, request) {
    const bytes = await request._readAll();
    const flat = [];
    for (const [k, v] of request.headers) arrayAppend(flat, k, v);
    const [meta, body] = await host.call(target, 'fetch',
        JSON.stringify({id: id.toString(), name: id.name ?? '', method: request.method,
          url: request.url, headers: flat}), bytes);
    const headers = new Headers();
    for (let i = 0; i + 1 < meta.headers.length; i += 2) headers.append(meta.headers[i], meta.headers[i + 1]);
    if (meta.status === 101) return internal.makeFetchedResponse(101, meta.headers, null, request.url, false);
    const nullBody = request.method === 'HEAD' || internal.NULL_BODY_STATUS.includes(meta.status);
    return new Response(nullBody ? null : body, {status: meta.status, headers});
  }
  function makeStub(target, id) {
    const base = {
      get id() { return id; },
      get name() { return id.name; },
      fetch(input, init = undefined) {
        try {
          return stubFetch(target, id, new Request(input, init));
        } catch (e) {
          return Promise.reject(e);
        }
      },
    };
    return new Proxy(base, {
      get(t, prop) {
        if (prop in t) return t[prop];
        // Not thenable: `await stub` must give the stub.
        if (typeof prop === 'symbol' || prop === 'then') return undefined;
        return (...args) => {
          try {
            const bytes = host.serialize(args);
            return host.call(target, 'rpc',
                JSON.stringify({id: id.toString(), name: id.name ?? '', method: prop}), bytes)
                .then(([, result]) => host.deserialize(result));
          } catch (e) {
            return Promise.reject(e);
          }
        };
      },
    });
  }


  class DurableObjectNamespace {
    #target; #className;
    constructor(key, target, className) {
      if (key !== KEY) throw new TypeError('Illegal constructor');
      this.#target = target;
      this.#className = className;
    }
    idFromName(name) {
      if (arguments.length === 0) throw new TypeError('idFromName requires 1 argument');
      name = String(name);
      const digest = host.digest('SHA-256', utf8(`${this.#className}\u0000${name}`));
      return objects().newId(toHex(digest), name);
    }
    newUniqueId(options = undefined) {
      const bytes = new Uint8Array(32);
      crypto.getRandomValues(bytes);
      return objects().newId(toHex(bytes), undefined);
    }
    idFromString(hex) {
      hex = String(hex);
      if (!HEX_ID.test(hex)) throw new TypeError('Invalid Durable Object ID: must be 64 hex digits');
      return objects().newId(hex, undefined);
    }
    get(id, options = undefined) {
      if (!objects().isId(id)) throw new TypeError('get() takes a DurableObjectId');
      return makeStub(this.#target, id);
    }
    getByName(name, options = undefined) { return this.get(this.idFromName(name), options); }
    jurisdiction(name) { return this; }
    get [Symbol.toStringTag]() { return 'DurableObjectNamespace'; }
  }

  internal.bindingTypes.set('durable_object_namespace', (name, d) =>
      new DurableObjectNamespace(KEY, Number(d.target), String(d.class_name)));
})
