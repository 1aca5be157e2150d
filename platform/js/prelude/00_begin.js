// The prelude: Web APIs that V8 lacks, written in JS. Runs once per isolate before any Worker code
// (baked into the startup snapshot when there is one). Native helpers come later, through
// globalThis.__edgesim_init(natives), which the embedder calls once per isolate and then deletes:
// nothing here may call `host` while the prelude itself runs (the snapshot has no natives).
//
// The build joins the files of platform/js/prelude/ in name order into one function (this file
// opens it, 99_end.js closes it), so they share its scope: one file per API, no module system.
// The platform's own scripts (the runtime's dispatcher, the objects' and bindings' JS halves) are
// extensions the engine runs after it (js::EngineOptions::extensions); they see only `internal`.
//
// Keep it deterministic: no host time or randomness except through `host`, which reads the World.
(function () {
  'use strict';
  let host = null;  // natives, set by __edgesim_init
  const g = globalThis;
  // Captured before any Worker code runs: a Worker may replace them or the prototypes' entries.
  const ObjectDefineProperty = Object.defineProperty;
  const ObjectCreate = Object.create;
  const define = (obj, name, value) =>
      ObjectDefineProperty(obj, name, {value, writable: true, configurable: true, enumerable: false});
  // Appends to an array without running Worker code: push() (captured) while Array.prototype and
  // Object.prototype have no indexed property (host.indexFree(), a cheap native check), else
  // defineProperty, so a setter a Worker put on Array.prototype[0] never runs (push would call
  // it). defineProperty on every append cost a tenth of a hello-world request.
  const push = Function.prototype.call.bind(Array.prototype.push);
  const arrayAppend = (array, value, second) => {
    if (host.indexFree()) {
      if (second === undefined) push(array, value); else push(array, value, second);
      return array;
    }
    ObjectDefineProperty(array, array.length,
        {value, writable: true, enumerable: true, configurable: true});
    if (second !== undefined) {
      ObjectDefineProperty(array, array.length,
          {value: second, writable: true, enumerable: true, configurable: true});
    }
    return array;
  };
  // The init of a Request or Response when none is given: every key the constructors read is an
  // own property, so no getter a Worker put on Object.prototype ("headers", "status", ...) is
  // read (an object literal, not a null-prototype one: those are dictionary-mode objects, and
  // reading them cost a tenth of a hello-world request).
  const NO_INIT = Object.freeze({method: undefined, headers: undefined, redirect: undefined,
    signal: undefined, body: undefined, status: undefined, statusText: undefined,
    webSocket: undefined});
  // What the prelude shares with the extensions (filled in by 99_end.js and by the extensions):
  // helpers, the natives (a forwarder: they exist only once __edgesim_init ran), the embedder's
  // entry points, the built-in modules, the binding types and the WebSocket hooks.
  const internal = {define, global: g, entries: {}, builtins: {}, bindingTypes: new Map(),
    sockets: null};
  define(g, '__edgesim_internal', internal);

