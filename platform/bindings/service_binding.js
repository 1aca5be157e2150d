// A plain service binding: an object whose call(method, args, bytes) and callSync(method, args,
// bytes) reach a C++ service as they are (host.call / host.callSync with the binding's target;
// args as JSON). For code the platform itself puts in front of a Worker, such as a scenario's
// client scripts (their history recorder and WebSockets); Workers' own bindings have classes.
//
// An extension of the prelude (js::EngineOptions::extensions), run once in the snapshot.
(function (internal) {
  'use strict';
  // The intrinsics this file uses, captured before any Worker code runs (a Worker may replace
  // the globals; the platform's code must not notice).
  const {Promise, JSON, Object, Array, ArrayBuffer, Uint8Array, Number, String, Symbol, Error, TypeError,
    RangeError, Map, Set} = globalThis;
  const host = internal.host;
  internal.bindingTypes.set('service', (name, d) => {
    const target = Number(d.target);
    const args = (a) => JSON.stringify(a ?? null);
    return Object.freeze({
      call: (method, a = null, bytes = undefined) => bytes === undefined
          ? host.call(target, String(method), args(a))
          : host.call(target, String(method), args(a), bytes),
      callSync: (method, a = null, bytes = undefined) => bytes === undefined
          ? host.callSync(target, String(method), args(a))
          : host.callSync(target, String(method), args(a), bytes),
    });
  });
})
