// WebSockets of Durable Objects, the hibernation API (objects/websockets.h is the C++ half): the
// WebSocket and WebSocketPair globals, and the hooks the prelude's Response uses for 101 responses
// (internal.sockets). The server end lives on the object's host: every call goes to the host's
// SocketHub through host.callSync(SOCKETS, method, json, bytes).
//
// An extension of the prelude (js::EngineOptions::extensions), run once in the snapshot.
(function (internal) {
  'use strict';
  // The intrinsics this file uses, captured before any Worker code runs (a Worker may replace
  // the globals; the platform's code must not notice).
  const {Promise, JSON, Object, Array, ArrayBuffer, Uint8Array, Number, String, Symbol, Error, TypeError,
    RangeError, Map, Set} = globalThis;
  const host = internal.host;
  const {utf8, define} = internal;
  const SOCKETS = 2;  // objects::InstanceTarget::kSockets
  const SOCKET_KEY = Symbol('socket');
  let socketBind, socketIdOf, socketRelayed, relayedSocket, socketClose, pairSockets;
  const NOT_MODELLED = 'edgesim models the hibernation API only: accept the server end with ' +
      'this.ctx.acceptWebSocket(ws) and handle webSocketMessage()/webSocketClose().';
  class WebSocket {
    #id = null;      // the host's socket id, once accepted
    #peer = null;    // the other end of its WebSocketPair
    #relayed = false;  // an end that arrived in a 101 response: it can only be returned
    #closed = false;
    constructor(url) {
      if (url !== SOCKET_KEY) {
        throw new Error('edgesim: outbound WebSockets (new WebSocket(url)) are not modelled.');
      }
    }
    static get CONNECTING() { return 0; }
    static get OPEN() { return 1; }
    static get CLOSING() { return 2; }
    static get CLOSED() { return 3; }
    #server() {
      if (this.#relayed) throw new TypeError('This WebSocket was relayed in a response; it can only be returned.');
      if (this.#id === null) throw new TypeError('The WebSocket was not accepted (this.ctx.acceptWebSocket).');
      return this.#id;
    }
    get readyState() {
      if (this.#id === null || this.#relayed) return this.#closed ? 3 : 0;
      if (this.#closed) return 3;
      return host.callSync(SOCKETS, 'state', JSON.stringify({id: this.#id}))[0].state;
    }
    get url() { return null; }
    get protocol() { return ''; }
    get extensions() { return ''; }
    accept() { throw new Error(NOT_MODELLED); }
    addEventListener() { throw new Error(NOT_MODELLED); }
    send(message) {
      const id = this.#server();
      if (typeof message === 'string') {
        host.callSync(SOCKETS, 'send', JSON.stringify({id, text: true}), utf8(message));
      } else if (message instanceof ArrayBuffer || ArrayBuffer.isView(message)) {
        const bytes = message instanceof ArrayBuffer ? new Uint8Array(message)
            : new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
        host.callSync(SOCKETS, 'send', JSON.stringify({id, text: false}), bytes.slice());
      } else {
        host.callSync(SOCKETS, 'send', JSON.stringify({id, text: true}), utf8(String(message)));
      }
    }
    close(code = 1000, reason = '') {
      const id = this.#server();
      if (this.#closed) return;  // e.g. reciprocating the client's close in webSocketClose()
      host.callSync(SOCKETS, 'close', JSON.stringify({id, code: Number(code), reason: String(reason)}));
      this.#closed = true;
    }
    serializeAttachment(value) {
      const id = this.#server();
      host.callSync(SOCKETS, 'setAttachment', JSON.stringify({id}), host.serialize(value));
    }
    deserializeAttachment() {
      const id = this.#server();
      const [r, bytes] = host.callSync(SOCKETS, 'getAttachment', JSON.stringify({id}));
      return r.found ? host.deserialize(bytes) : null;
    }
    get [Symbol.toStringTag]() { return 'WebSocket'; }
    static {
      socketBind = (ws, sid) => {
        ws.#id = sid;
        if (ws.#peer !== null) {
          // Either end of a pair may be accepted; the other one goes back in the 101 response.
          ws.#peer.#id = sid;
          ws.#peer.#relayed = true;
        }
      };
      socketIdOf = (ws, quiet = false) => {
        if (ws.#id === null && !quiet) {
          throw new TypeError('The server end of this WebSocketPair was not accepted (this.ctx.acceptWebSocket).');
        }
        return ws.#id;
      };
      socketRelayed = (ws) => ws.#relayed;
      relayedSocket = (sid) => {
        const ws = new WebSocket(SOCKET_KEY);
        ws.#id = sid;
        ws.#relayed = true;
        return ws;
      };
      socketClose = (ws) => { ws.#closed = true; };
      pairSockets = (a, b) => {
        a.#peer = b;
        b.#peer = a;
      };
    }
  }
  class WebSocketPair {
    constructor() {
      const client = new WebSocket(SOCKET_KEY);
      const server = new WebSocket(SOCKET_KEY);
      pairSockets(client, server);
      this[0] = client;
      this[1] = server;
    }
    *[Symbol.iterator]() { yield this[0]; yield this[1]; }
    get [Symbol.toStringTag]() { return 'WebSocketPair'; }
  }

  define(internal.global, 'WebSocket', WebSocket);
  define(internal.global, 'WebSocketPair', WebSocketPair);
  internal.sockets = {
    isSocket: (v) => v instanceof WebSocket,
    idOf: (ws, quiet = false) => socketIdOf(ws, quiet),
    relayed: (sid) => relayedSocket(sid),
    isRelayed: (ws) => socketRelayed(ws),
    bind: (ws, sid) => socketBind(ws, sid),
    closed: (ws) => socketClose(ws),
    make: (sid) => {
      const ws = new WebSocket(SOCKET_KEY);
      socketBind(ws, sid);
      return ws;
    },
  };
})
