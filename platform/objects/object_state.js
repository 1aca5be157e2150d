// A Durable Object instance's `state` (this.ctx): its id, storage, the input gate's
// blockConcurrencyWhile(), WebSockets (hibernation API) and abort(); and DurableObjectId, which the
// namespace bindings make too (bindings/do_binding.js). The gates live in C++
// (objects/object_instance.h): host.callSync(GATES, 'block' | 'unblock' | 'reset').
//
// An extension of the prelude (js::EngineOptions::extensions), run once in the snapshot, after
// websockets.js and object_storage.js.
(function (internal) {
  'use strict';
  // The intrinsics this file uses, captured before any Worker code runs (a Worker may replace
  // the globals; the platform's code must not notice).
  const {Promise, JSON, Object, Array, ArrayBuffer, Uint8Array, Number, String, Symbol, Error, TypeError,
    RangeError, Map, Set} = globalThis;
  const host = internal.host;
  const {settled, errorMessage} = internal;
  const SOCKETS = 2;  // objects::InstanceTarget::kSockets
  const GATES = 3;    // objects::InstanceTarget::kGates
  const KEY = Symbol('object');
  const BLOCKED = Symbol('blocked');
  const SOCKETS_OF = Symbol('sockets');
  const SOCKET_FOR = Symbol('socketFor');
  const sockets = () => internal.sockets;

  class DurableObjectId {
    #hex; #name;
    constructor(key, hex, name) {
      if (key !== KEY) throw new TypeError('Illegal constructor');
      this.#hex = hex;
      this.#name = name;
    }
    toString() { return this.#hex; }
    equals(other) { return other instanceof DurableObjectId && other.#hex === this.#hex; }
    get name() { return this.#name; }
    get [Symbol.toStringTag]() { return 'DurableObjectId'; }
  }


  class DurableObjectState {
    #id; #storage = internal.objects.newStorage();
    [SOCKETS_OF] = new Map();  // socket id -> the WebSocket object this instance handed out
    constructor(key, id) {
      if (key !== KEY) throw new TypeError('Illegal constructor');
      this.#id = id;
    }
    get id() { return this.#id; }
    get storage() { return this.#storage; }
    waitUntil(promise) { Promise.resolve(promise).catch(() => {}); }
    // The input gate stays closed until fn settles; if fn throws, the object is reset.
    blockConcurrencyWhile(fn) {
      host.callSync(GATES, 'block', 'null');
      const done = settled(fn).then((v) => {
        host.callSync(GATES, 'unblock', 'null');
        return v;
      }, (e) => {
        host.callSync(GATES, 'reset', JSON.stringify({message: errorMessage(e)}));
        throw e;
      });
      // An event already delivered (the one whose constructor called this) waits too.
      const blocked = done.then(() => {}, () => {});
      this[BLOCKED] = blocked;
      blocked.then(() => { if (this[BLOCKED] === blocked) this[BLOCKED] = null; });
      return done;
    }
    // WebSockets, hibernation API (runtime/websockets.h): the host keeps the sockets, so they
    // outlive this instance; getWebSockets() finds them again after the constructor reran.
    acceptWebSocket(ws, tags = undefined) {
      if (!sockets().isSocket(ws)) throw new TypeError('acceptWebSocket() expects a WebSocket.');
      if (sockets().idOf(ws, true) !== null) throw new TypeError('This WebSocket was already accepted.');
      if (sockets().isRelayed(ws)) throw new TypeError('Only the server end of a WebSocketPair can be accepted.');
      const list = tags === undefined ? [] : Array.from(tags, String);
      const [r] = host.callSync(SOCKETS, 'accept', JSON.stringify({tags: list}));
      sockets().bind(ws, r.id);
      this[SOCKETS_OF].set(r.id, ws);
    }
    getWebSockets(tag = undefined) {
      const [ids] = host.callSync(SOCKETS, 'list', JSON.stringify({tag: tag === undefined ? '' : String(tag)}));
      return ids.map((sid) => this[SOCKET_FOR](sid));
    }
    getTags(ws) {
      const sid = sockets().idOf(ws, true);
      if (sid === null) throw new TypeError('getTags() expects an accepted WebSocket.');
      return host.callSync(SOCKETS, 'tags', JSON.stringify({id: sid}))[0];
    }
    setWebSocketAutoResponse() {
      throw new Error('edgesim: setWebSocketAutoResponse() is not modelled yet.');
    }
    [SOCKET_FOR](sid) {
      let ws = this[SOCKETS_OF].get(sid);
      if (ws === undefined) {
        ws = sockets().make(sid);
        this[SOCKETS_OF].set(sid, ws);
      }
      return ws;
    }
    abort(reason = undefined) {
      host.callSync(GATES, 'reset', JSON.stringify({message: String(reason ?? 'aborted')}));
    }
    get [Symbol.toStringTag]() { return 'DurableObjectState'; }
  }

  Object.assign(internal.objects, {
    newId: (hex, name) => new DurableObjectId(KEY, hex, name),
    isId: (v) => v instanceof DurableObjectId,
    // The state of a new instance of the object with this id.
    makeState: (idHex, name) =>
        new DurableObjectState(KEY, new DurableObjectId(KEY, idHex, name === '' ? undefined : name)),
    // The blockConcurrencyWhile() in progress on this state, or null.
    blocked: (state) => state[BLOCKED] ?? null,
    // The WebSocket an event names (the same object for the life of the instance).
    socketFor: (state, sid) => state[SOCKET_FOR](sid),
    socketClosed: (ws) => sockets().closed(ws),
  });
})
