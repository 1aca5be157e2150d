// How a Worker's handlers are invoked (the JS half of runtime/worker.h), and the built-in modules
// "cloudflare:workers" and "cloudflare:workflows". Uses only the prelude's public Request,
// Response and Headers, captured here before any Worker code runs.
//
// The embedder calls the entry points (internal.entries) through js::Isolate::dispatch(name, args),
// which passes the main module's namespace first. Results go back through two natives:
// host.respond(invocation, status, headers, body) for a Response (headers: the Headers' Map), and
// host.signal(invocation, code, ok, text, stack, bytes) for the rest; the codes are
// runtime::SignalCode's (events.h), the same numbers as SIGNAL below.
//
// An extension of the prelude (js::EngineOptions::extensions), run once in the snapshot.
(function (internal) {
  'use strict';
  const {Request, Response, Headers, Promise, Error, TypeError, JSON, Object, Map, Date} = globalThis;
  const {errorMessage, errorStack, setHeadersGuard, headersMap} = internal;
  const host = internal.host;
  const objects = () => internal.objects;
  const SIGNAL = {exception: 1, waitUntil: 2, waitUntilSettled: 3, passThrough: 4, eventDone: 5,
    noRetry: 6, actorReply: 7, queueOutcomes: 8};
  const signal = (id, code, ok = true, text = '', stack = '', bytes = null) =>
      host.signal(id, code, ok, text, stack, bytes);

  // cloudflare:workers. As in workerd, the constructors take (ctx, env) and keep them.
  class WorkerEntrypoint {
    constructor(ctx, env) { this.ctx = ctx; this.env = env; }
  }
  class DurableObject {
    constructor(ctx, env) { this.ctx = ctx; this.env = env; }
  }
  class WorkflowEntrypoint {
    constructor(ctx, env) { this.ctx = ctx; this.env = env; }
  }
  class RpcTarget {}
  // One env object per isolate, made from the bindings before the modules evaluate.
  const env = {};
  // cloudflare:workflows
  class NonRetryableError extends Error {
    constructor(message, name = 'NonRetryableError') { super(message); this.name = name; }
  }

  // The isolate's env: plain text vars, JSON vars, and bindings (descriptor JSON whose "type"
  // names a binding type an extension registered in internal.bindingTypes).
  function setEnv(ns, names, kinds, values) {
    for (let i = 0; i < names.length; i++) {
      let value = values[i];
      if (kinds[i] === 'json' || kinds[i] === 'service') {
        try {
          value = JSON.parse(value);
        } catch (e) {
          throw new TypeError(`env.${names[i]}: invalid JSON (${e.message})`);
        }
      }
      if (kinds[i] === 'service') {
        const make = internal.bindingTypes.get(value?.type);
        if (make === undefined) {
          throw new TypeError(`env.${names[i]}: unknown binding type "${value?.type}"`);
        }
        value = make(names[i], value);
      }
      Object.defineProperty(env, names[i], {value, writable: true, enumerable: true, configurable: true});
    }
  }

  class ExecutionContext {
    #id;
    constructor(id) { this.#id = id; }
    waitUntil(promise) {
      const id = this.#id;
      signal(id, SIGNAL.waitUntil);
      Promise.resolve(promise).then(() => signal(id, SIGNAL.waitUntilSettled, true),
          (e) => signal(id, SIGNAL.waitUntilSettled, false, errorMessage(e), errorStack(e)));
    }
    passThroughOnException() { signal(this.#id, SIGNAL.passThrough); }
    get props() { return {}; }
    get [Symbol.toStringTag]() { return 'ExecutionContext'; }
  }

  class ScheduledController {
    #cron; #time; #noRetry;
    constructor(cron, time, noRetry) { this.#cron = cron; this.#time = time; this.#noRetry = noRetry; }
    get cron() { return this.#cron; }
    get scheduledTime() { return this.#time; }
    noRetry() { this.#noRetry(); }
    get [Symbol.toStringTag]() { return 'ScheduledController'; }
  }

  // The handler `method` of export `name`, as a function of the event argument.
  function handlerFor(ns, name, method, ctx) {
    const exp = ns[name];
    if (exp === undefined || exp === null) {
      if (name === 'default') throw new Error(`Handler does not export a ${method}() function.`);
      throw new Error(`Worker has no entrypoint named "${name}".`);
    }
    if (typeof exp === 'function' && typeof exp[method] !== 'function') {
      if (!(exp.prototype instanceof WorkerEntrypoint)) {
        throw new TypeError(`Entrypoint "${name}" is a class that does not extend WorkerEntrypoint.`);
      }
      const instance = new exp(ctx, env);
      if (typeof instance[method] !== 'function') {
        throw new Error(`Entrypoint "${name}" has no ${method}() method.`);
      }
      return (arg) => instance[method](arg);
    }
    if (typeof exp[method] !== 'function') {
      throw new Error(`Handler does not export a ${method}() function.`);
    }
    return (arg) => exp[method](arg, env, ctx);
  }

  function incomingRequest(method, url, flat, body) {
    const headers = new Headers();
    for (let i = 0; i + 1 < flat.length; i += 2) headers.append(flat[i], flat[i + 1]);
    const hasBody = body !== null && method !== 'GET' && method !== 'HEAD';
    return new Request(url, {method, headers, body: hasBody ? body : null});
  }

  async function respond(id, response) {
    if (!(response instanceof Response)) {
      throw new TypeError(`Incorrect type for Promise: the Promise did not resolve to 'Response'.`);
    }
    // The headers' Map itself: C++ reads, sorts and combines it as iteration would.
    const out = headersMap(response.headers);
    // perf: the bytes as they are (response.body would wrap them in a stream just to read it).
    host.respond(id, response.status, out, await response._readAll());
  }

  async function dispatchFetch(ns, id, name, method, url, flat, body) {
    try {
      const request = incomingRequest(method, url, flat, body);
      // As in workerd, an incoming request's headers are immutable.
      setHeadersGuard(request.headers, 'immutable');
      await respond(id, await handlerFor(ns, name, 'fetch', new ExecutionContext(id))(request));
    } catch (e) {
      signal(id, SIGNAL.exception, false, errorMessage(e), errorStack(e));
    }
  }

  // `noRetryIfMissing`: a missing handler also means "do not retry" (scheduled(), as in workerd).
  async function dispatchEvent(id, ns, name, method, makeArg, noRetryIfMissing = false) {
    try {
      const arg = makeArg(() => signal(id, SIGNAL.noRetry));
      let handler;
      try {
        handler = handlerFor(ns, name, method, new ExecutionContext(id));
      } catch (e) {
        if (noRetryIfMissing) signal(id, SIGNAL.noRetry);
        throw e;
      }
      await handler(arg);
      signal(id, SIGNAL.eventDone, true);
    } catch (e) {
      signal(id, SIGNAL.eventDone, false, errorMessage(e), errorStack(e));
    }
  }

  // Queues: a MessageBatch whose decisions are reported when the handler is done. The recording
  // follows workerd: the first of ack()/retry() on a message wins (a repeated retry() replaces
  // its delay), the first of ackAll()/retryAll() wins, an ack() after retryAll() and a retry()
  // after ackAll() have no effect; each ignored call logs a warning. The fate of a message, as
  // the queue service decides it: its own ack()/retry(), else ackAll()/retryAll(), else ack when
  // the handler succeeded and retry when it threw.
  class QueueDecisions {
    perMessage = new Map();  // id -> {ack: bool, delay}
    all = null;              // {ack: bool, delay}
    warn(text) { console.warn(text); }
    ack(mid) {
      const m = this.perMessage.get(mid);
      if (m !== undefined && !m.ack) {
        this.warn(`Received a call to ack() on message ${mid} after retry() was already called. ` +
            'Calling ack() on a message after calling retry() has no effect.');
      } else if (this.all !== null && !this.all.ack) {
        this.warn(`Received a call to ack() on message ${mid} after retryAll() was already called. ` +
            'Calling ack() on a message after calling retryAll() has no effect.');
      } else if (m === undefined && this.all === null) {
        this.perMessage.set(mid, {ack: true});
      }
    }
    retry(mid, delay) {
      const m = this.perMessage.get(mid);
      if (this.all !== null && this.all.ack) {
        this.warn(`Received a call to retry() on message ${mid} after ackAll() was already called. ` +
            'Calling retry() on a message after calling ackAll() has no effect.');
      } else if (m !== undefined && m.ack) {
        this.warn(`Received a call to retry() on message ${mid} after ack() was already called. ` +
            'Calling retry() on a message after calling ack() has no effect.');
      } else {
        this.perMessage.set(mid, {ack: false, delay});
      }
    }
    ackAll() {
      if (this.all !== null && !this.all.ack) {
        this.warn('Received a call to ackAll() after retryAll() was already called. ' +
            'Calling ackAll() after calling retryAll() has no effect.');
      } else {
        this.all = {ack: true};
      }
    }
    retryAll(delay) {
      if (this.all !== null && this.all.ack) {
        this.warn('Received a call to retryAll() after ackAll() was already called. ' +
            'Calling retryAll() after calling ackAll() has no effect.');
      } else if (this.all === null) {
        this.all = {ack: false, delay};
      } else if (delay !== undefined) {
        this.all.delay = delay;
      }
    }
    fate(mid, ok) {
      const d = this.perMessage.get(mid) ?? this.all ?? {ack: ok};
      return {id: mid, ack: d.ack, delaySeconds: d.delay === undefined ? -1 : d.delay};
    }
  }
  // delaySeconds as workerd converts it: a number, NaN and infinities are 0, fractions truncated.
  function delaySeconds(options) {
    const v = options?.delaySeconds;
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) return 0;
    if (n < -2147483648 || n > 2147483647) {
      throw new TypeError('Value out of range. Must be between -2147483648 and 2147483647 (inclusive).');
    }
    return Math.trunc(n);
  }
  class QueueMessageImpl {
    #m; #decisions;
    constructor(m, decisions) { this.#m = m; this.#decisions = decisions; }
    get id() { return this.#m.id; }
    get timestamp() { return new Date(this.#m.timestamp); }
    get body() { return this.#m.body; }
    get attempts() { return this.#m.attempts; }
    ack() { this.#decisions.ack(this.#m.id); }
    retry(options = undefined) { this.#decisions.retry(this.#m.id, delaySeconds(options)); }
    get [Symbol.toStringTag]() { return 'Message'; }
  }
  class MessageBatchImpl {
    #queue; #messages; #decisions;
    constructor(queue, messages, decisions) {
      this.#queue = queue; this.#messages = Object.freeze(messages); this.#decisions = decisions;
    }
    get queue() { return this.#queue; }
    get messages() { return this.#messages; }
    ackAll() { this.#decisions.ackAll(); }
    retryAll(options = undefined) { this.#decisions.retryAll(delaySeconds(options)); }
    get [Symbol.toStringTag]() { return 'MessageBatch'; }
  }
  // A message's body as its content type says: json (JSON text), text, bytes (a Uint8Array),
  // v8 (a structured clone).
  function messageBody(type, bytes) {
    switch (type) {
      case 'json': return JSON.parse(new TextDecoder().decode(bytes));
      case 'text': return new TextDecoder().decode(bytes);
      case 'bytes': return new Uint8Array(bytes);
      default: return host.deserialize(bytes);
    }
  }
  // `list`: [id, timestamp (Unix ms), attempts, content type, body bytes].
  async function dispatchQueue(ns, id, name, queue, list) {
    const decisions = new QueueDecisions();
    let ok = true;
    let failure = null;
    try {
      const messages = list.map(([mid, timestamp, attempts, type, body]) => new QueueMessageImpl(
          {id: mid, timestamp, attempts, body: messageBody(type, body)}, decisions));
      await handlerFor(ns, name, 'queue', new ExecutionContext(id))(
          new MessageBatchImpl(queue, messages, decisions));
    } catch (e) {
      ok = false;
      failure = e;
    }
    const outcomes = list.map(([mid]) => decisions.fate(mid, ok));
    signal(id, SIGNAL.queueOutcomes, true, JSON.stringify(outcomes));
    if (ok) signal(id, SIGNAL.eventDone, true);
    else signal(id, SIGNAL.eventDone, false, errorMessage(failure), errorStack(failure));
  }

  function dispatchScheduled(ns, id, name, cron, time) {
    return dispatchEvent(id, ns, name, 'scheduled',
        (noRetry) => new ScheduledController(cron, time, noRetry), true);
  }

  // Durable Object instances living in this isolate, by id: constructed on their first event.
  const actors = new Map();  // id -> {actor, state}
  function actorFor(ns, className, idHex, name) {
    let entry = actors.get(idHex);
    if (entry !== undefined) return entry.actor;
    const cls = ns[className];
    if (typeof cls !== 'function') {
      throw new Error(`Durable Object class "${className}" is not exported by the main module.`);
    }
    const state = objects().makeState(idHex, name);
    entry = {actor: new cls(state, env), state};
    actors.set(idHex, entry);
    return entry.actor;
  }
  // The object (constructed on its first event) once a blockConcurrencyWhile() its constructor
  // started has settled.
  async function readyActor(ns, className, idHex, name) {
    const actor = actorFor(ns, className, idHex, name);
    const blocked = objects().blocked(actors.get(idHex).state);
    if (blocked !== null) await blocked;
    return actor;
  }

  // The hibernation API: webSocketMessage(ws, message), webSocketClose(ws, code, reason,
  // wasClean). A missing handler ignores the event.
  async function dispatchSocket(ns, id, object, event) {
    const [className, idHex, name] = object;
    const [kind, socket, text, data, closeCode, closeReason, closeClean] = event;
    try {
      const actor = await readyActor(ns, className, idHex, name);
      const ws = objects().socketFor(actors.get(idHex).state, socket);
      if (kind === 'message') {
        // As in workerd: a text frame is a string, a binary one an ArrayBuffer.
        const message = text ? new TextDecoder().decode(data) : data.buffer;
        if (typeof actor.webSocketMessage === 'function') await actor.webSocketMessage(ws, message);
      } else {
        objects().socketClosed(ws);
        if (typeof actor.webSocketClose === 'function') {
          await actor.webSocketClose(ws, closeCode, closeReason, closeClean);
        }
      }
      signal(id, SIGNAL.eventDone, true);
    } catch (e) {
      signal(id, SIGNAL.eventDone, false, errorMessage(e), errorStack(e));
    }
  }

  async function dispatchRpc(ns, id, object, method, args) {
    const [className, idHex, name] = object;
    try {
      const actor = await readyActor(ns, className, idHex, name);
      const fn = actor[method];
      if (typeof fn !== 'function' || method === 'constructor' ||
          Object.prototype.hasOwnProperty.call(Object.prototype, method)) {
        throw new TypeError(`The RPC receiver does not implement the method "${method}".`);
      }
      const result = await fn.apply(actor, host.deserialize(args));
      signal(id, SIGNAL.actorReply, true, '', '', host.serialize(result));
    } catch (e) {
      let bytes;
      try {
        bytes = host.serialize(e);
      } catch {
        bytes = host.serialize(new Error(errorMessage(e)));
      }
      signal(id, SIGNAL.actorReply, false, errorMessage(e), '', bytes);
    }
  }

  function dispatchAlarm(ns, id, object, retryCount) {
    const [className, idHex, name] = object;
    let actor;
    try {
      actor = actorFor(ns, className, idHex, name);
    } catch (e) {
      signal(id, SIGNAL.eventDone, false, errorMessage(e), errorStack(e));
      return;
    }
    return dispatchEvent(id, {alarm: actor}, 'alarm', 'alarm',
        () => ({retryCount, isRetry: retryCount > 0}));
  }

  async function dispatchActorFetch(ns, id, object, method, url, flat, body) {
    const [className, idHex, name] = object;
    try {
      const request = incomingRequest(method, url, flat, body);
      const actor = await readyActor(ns, className, idHex, name);
      if (typeof actor.fetch !== 'function') {
        throw new TypeError('Handler does not export a fetch() function.');
      }
      await respond(id, await actor.fetch(request));
    } catch (e) {
      signal(id, SIGNAL.exception, false, errorMessage(e), errorStack(e));
    }
  }

  // Workflows: one run of an instance, `new <className>(ctx, env).run(event, step)`, from the top.
  // `args`: [workflow, step target, instance id, generation, run, created (Unix ms), params].
  // How it ended goes to the engine through the step (workflow_binding.js), unless the run was
  // suspended on the way (a sleep, an event wait, a retry, a pause, a lost engine).
  async function dispatchWorkflow(ns, id, className, args) {
    const [workflow, target, instanceId, generation, run, created, params] = args;
    try {
      const step = internal.workflows.makeStep(target, workflow, instanceId, generation, run);
      let ok = true, result;
      try {
        const cls = ns[className];
        if (typeof cls !== 'function') {
          throw new Error(`Workflow class "${className}" is not exported by the main module.`);
        }
        const instance = new cls(new ExecutionContext(id), env);
        if (typeof instance.run !== 'function') {
          throw new TypeError(`Workflow class "${className}" has no run() method.`);
        }
        const event = {payload: host.deserialize(params), timestamp: new Date(created), instanceId};
        result = await instance.run(event, step);
      } catch (e) {
        ok = false;
        result = e;
      }
      await internal.workflows.finish(step, ok, result);
      signal(id, SIGNAL.eventDone, true);
    } catch (e) {
      signal(id, SIGNAL.eventDone, false, errorMessage(e), errorStack(e));
    }
  }

  Object.assign(internal.entries, {
    setEnv, fetch: dispatchFetch, scheduled: dispatchScheduled, queue: dispatchQueue,
    actorFetch: dispatchActorFetch, actorRpc: dispatchRpc, actorAlarm: dispatchAlarm,
    actorSocket: dispatchSocket, workflow: dispatchWorkflow,
  });
  internal.builtins['cloudflare:workers'] =
      {DurableObject, WorkerEntrypoint, WorkflowEntrypoint, RpcTarget, env};
  internal.builtins['cloudflare:workflows'] = {NonRetryableError};
})
