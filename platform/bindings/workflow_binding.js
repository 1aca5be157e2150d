// The Workflows bindings (bindings/workflow_binding.h is the C++ half): env.MY_WORKFLOW with
// create(), createBatch() and get(); the instance handle (status, pause, resume, terminate,
// restart, sendEvent); and the `step` object of run(event, step), whose calls go to the engine.
//
// A run ends early when the engine says so ("suspend": a sleep, an event wait, a retry's backoff,
// a pause; "abort": the run was superseded) or cannot be reached: the step object is then dead,
// its pending call throws a RunSuspended error and every later call throws it again, so that code
// which catches it cannot make progress; the engine replays run() from the top later.
//
// An extension of the prelude (js::EngineOptions::extensions), run once in the snapshot.
(function (internal) {
  'use strict';
  const {Promise, JSON, Object, Array, Number, String, Symbol, Error, TypeError, RangeError, Date, Map,
    WeakMap, Math, Uint8Array, setTimeout, clearTimeout} = globalThis;
  const host = internal.host;
  const {errorMessage} = internal;
  const KEY = Symbol('workflow-binding');
  const FINISH = Symbol('finish');
  const ID = /^[a-zA-Z0-9_][a-zA-Z0-9_-]*$/;
  const BACKOFFS = ['constant', 'linear', 'exponential'];
  const UNITS = {millisecond: 1, second: 1000, minute: 60000, hour: 3600000, day: 86400000,
    week: 604800000, month: 2592000000, year: 31536000000};
  const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(millisecond|second|minute|hour|day|week|month|year)s?\s*$/;

  class RunSuspended extends Error {
    constructor() {
      super('this workflow run was suspended; the engine replays run() from the top later ' +
          '(do not catch this error)');
      this.name = 'RunSuspended';
    }
  }

  // A duration as the API takes it: milliseconds, or "10 seconds", "1 hour", ...
  function durationMs(value, what) {
    if (typeof value === 'number') {
      if (!Number.isFinite(value) || value < 0) throw new RangeError(`${what}: ${value} is not a valid duration`);
      return value;
    }
    const m = typeof value === 'string' ? DURATION.exec(value) : null;
    if (m === null) {
      throw new TypeError(`${what}: ${JSON.stringify(String(value))} is not a duration ` +
          '(a number of milliseconds, or a string such as "10 seconds")');
    }
    return Number(m[1]) * UNITS[m[2]];
  }

  // How a result is shown in the history: its JSON text (cut at 200 characters).
  function display(value) {
    try {
      const text = JSON.stringify(value);
      if (text === undefined) return 'undefined';
      return text.length > 200 ? text.slice(0, 200) : text;
    } catch {
      return '[not JSON]';
    }
  }

  function clone(value, what) {
    try {
      return new Uint8Array(host.serialize(value));
    } catch (e) {
      throw new TypeError(`${what} cannot be stored: ${errorMessage(e)} (it must be ` +
          'structured-cloneable: plain objects, arrays, strings, numbers, Dates, Maps, ...)');
    }
  }

  // An error's name and message as the instance records them; never throws (a getter may).
  function nameOf(e) {
    try {
      const n = e?.name;
      return typeof n === 'string' ? n : 'Error';
    } catch {
      return 'Error';
    }
  }
  function messageOf(e) {
    try {
      const m = e?.message;
      return typeof m === 'string' ? m : String(e);
    } catch {
      return errorMessage(e);
    }
  }

  function fatal(message) {
    const e = new Error(message);
    e.name = 'WorkflowFatalError';
    return e;
  }

  // Step names as the runtime accepts them: at most 256 characters, no control characters.
  const CONTROL = /[\x00-\x1F]/;
  function checkStepName(name) {
    if (typeof name !== 'string' || name.length > 256 || CONTROL.test(name)) {
      throw fatal(`Step name "${name}" exceeds max length (256 chars) or invalid characters found`);
    }
  }

  function rebuildError(name, message) {
    const NonRetryableError = internal.builtins['cloudflare:workflows'].NonRetryableError;
    const e = name === 'NonRetryableError' ? new NonRetryableError(message) : new Error(message);
    if (name) e.name = name;
    return e;
  }

  function nonRetryable(e) {
    const NonRetryableError = internal.builtins['cloudflare:workflows'].NonRetryableError;
    return e instanceof NonRetryableError || e?.name === 'NonRetryableError';
  }

  function withTimeout(promise, ms, name) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const e = new Error(`Execution timed out after ${ms}ms`);
        e.name = 'WorkflowTimeoutError';
        reject(e);
      }, ms);
      Promise.resolve(promise).then((v) => { clearTimeout(timer); resolve(v); },
          (e) => { clearTimeout(timer); reject(e); });
    });
  }

  const dead = new WeakMap();  // step -> true once its run was suspended or aborted

  class WorkflowStep {
    #target; #tag; #counts = new Map();
    constructor(key, target, tag) {
      if (key !== KEY) throw new TypeError('Illegal constructor');
      this.#target = target;
      this.#tag = tag;
      dead.set(this, false);
    }
    async #call(method, fields, bytes = null) {
      if (dead.get(this)) throw new RunSuspended();
      let r, b;
      try {
        [r, b] = await host.call(this.#target, method, JSON.stringify({...this.#tag, ...fields}), bytes);
      } catch (e) {
        dead.set(this, true);  // the engine is out of reach: it will run this instance again
        throw new RunSuspended();
      }
      if (r.a === 'suspend' || r.a === 'abort') {
        dead.set(this, true);
        throw new RunSuspended();
      }
      return [r, b];
    }
    #key(name, what) {
      checkStepName(name);
      const count = (this.#counts.get(name) ?? 0) + 1;
      this.#counts.set(name, count);
      return [count === 1 ? name : `${name}#${count}`, count];
    }
    async do(name, configOrFn, maybeFn) {
      const [config, fn] = typeof configOrFn === 'function' ? [{}, configOrFn] : [configOrFn ?? {}, maybeFn];
      if (typeof fn !== 'function') throw new TypeError('step.do: the last argument must be a function');
      const [key, count] = this.#key(name, 'step.do');
      const fields = {key, kind: 'do'};
      const retries = config.retries ?? {};
      if (retries.limit !== undefined) fields.limit = Math.max(0, Math.trunc(Number(retries.limit)));
      if (retries.delay !== undefined) fields.delayMs = durationMs(retries.delay, 'retries.delay');
      if (retries.backoff !== undefined) {
        if (!BACKOFFS.includes(retries.backoff)) {
          throw new TypeError(`retries.backoff: "${retries.backoff}" is not one of constant, linear, exponential`);
        }
        fields.backoff = retries.backoff;
      }
      if (config.timeout !== undefined) fields.timeoutMs = durationMs(config.timeout, 'timeout');
      const [r, bytes] = await this.#call('begin', fields);
      if (r.a === 'cached') {
        if (!r.ok) throw rebuildError(r.error_name, r.error_message);
        return host.deserialize(bytes);
      }
      if (r.a === 'throw') throw rebuildError(r.error_name, r.error_message);
      const ctx = {step: {name, count}, attempt: r.attempt, config};
      let value, failure = null, failed = false, payload = null, unstorable = false;
      try {
        value = await withTimeout(fn(ctx), r.timeoutMs, name);
      } catch (e) {
        failed = true;
        failure = e;
      }
      if (!failed) {
        try {
          payload = new Uint8Array(host.serialize(value));
        } catch {
          // As in the runtime: the attempt fails and the instance is terminated at once.
          failed = unstorable = true;
          failure = fatal(`Value returned from step "${name}" is not serialisable`);
        }
      }
      const commit = {...fields, attempt: r.attempt, ok: !failed};
      if (failed) {
        commit.error_name = nameOf(failure);
        commit.error_message = messageOf(failure);
        commit.non_retryable = nonRetryable(failure);
        if (unstorable) {
          commit.fatal = true;
          commit.step_name = name;
        }
      } else {
        commit.display = display(value);
      }
      const [c] = await this.#call('commit', commit, payload);
      if (c.a === 'continue') return value;
      throw failed ? failure : rebuildError(c.error_name, c.error_message);
    }
    async sleep(name, duration) {
      const [key] = this.#key(name, 'step.sleep');
      const [r] = await this.#call('begin', {key, kind: 'sleep', durationMs: durationMs(duration, 'step.sleep')});
      if (r.a === 'throw') throw rebuildError(r.error_name, r.error_message);
    }
    async sleepUntil(name, timestamp) {
      const [key] = this.#key(name, 'step.sleepUntil');
      const ms = timestamp instanceof Date ? timestamp.getTime() : Number(timestamp);
      if (!Number.isFinite(ms)) throw new TypeError('step.sleepUntil: the time must be a Date or a number of milliseconds');
      const [r] = await this.#call('begin', {key, kind: 'sleep', untilMs: ms, until_past_throws: true});
      if (r.a === 'throw') throw rebuildError(r.error_name, r.error_message);
    }
    async waitForEvent(name, options) {
      const [key] = this.#key(name, 'step.waitForEvent');
      const type = options?.type;
      if (typeof type !== 'string' || type === '') throw new TypeError('step.waitForEvent: options.type must be a string');
      const fields = {key, kind: 'wait', type};
      if (options.timeout !== undefined) fields.timeoutMs = durationMs(options.timeout, 'timeout');
      const [r, bytes] = await this.#call('begin', fields);
      if (r.a === 'throw' || (r.a === 'cached' && !r.ok)) throw rebuildError(r.error_name, r.error_message);
      return {payload: bytes === null ? undefined : host.deserialize(bytes), timestamp: new Date(r.atMs),
        type: r.event_type};
    }
    // Tells the engine how run() ended (nothing when the run was suspended on the way).
    async [FINISH](ok, valueOrError) {
      if (dead.get(this)) return;
      const fields = {ok};
      let payload = null;
      if (ok) {
        try {
          payload = clone(valueOrError, 'the output of run()');
          fields.display = display(valueOrError);
        } catch (e) {
          fields.ok = false;
          valueOrError = e;
        }
      }
      if (!fields.ok) {
        fields.error_name = nameOf(valueOrError);
        fields.error_message = messageOf(valueOrError);
      }
      try {
        await this.#call('finish', fields, payload);
      } catch {
        // Not heard: the engine runs the instance again and this run's end is replayed.
      }
    }
    get [Symbol.toStringTag]() { return 'WorkflowStep'; }
  }

  internal.workflows = {
    makeStep: (target, workflow, id, generation, run) =>
        new WorkflowStep(KEY, target, {workflow, id, generation, run}),
    finish: (step, ok, valueOrError) => step[FINISH](ok, valueOrError),
    dead: (step) => dead.get(step) !== false,
  };

  // ---- env.MY_WORKFLOW ----

  class WorkflowInstance {
    #target; #id;
    constructor(key, target, id) {
      if (key !== KEY) throw new TypeError('Illegal constructor');
      this.#target = target;
      this.#id = id;
    }
    get id() { return this.#id; }
    async #call(method, fields = {}, bytes = null) {
      return host.call(this.#target, method, JSON.stringify({id: this.#id, ...fields}), bytes);
    }
    async status() {
      const [r, bytes] = await this.#call('status');
      // As in the runtime's local engine: output is null until the instance completes.
      const out = {status: r.status, error: undefined, output: null};
      if (r.status === 'complete' && bytes !== null) out.output = host.deserialize(bytes);
      if (r.status === 'errored') out.error = {name: r.error_name, message: r.error_message};
      return out;
    }
    async pause() { await this.#call('pause'); }
    async resume() { await this.#call('resume'); }
    async terminate() { await this.#call('terminate'); }
    async restart() { await this.#call('restart'); }
    async sendEvent(event) {
      const type = event?.type;
      if (typeof type !== 'string' || type === '') throw new TypeError('sendEvent: event.type must be a string');
      await this.#call('send_event', {type}, clone(event.payload, 'the event payload'));
    }
    get [Symbol.toStringTag]() { return 'WorkflowInstance'; }
  }

  function checkId(id) {
    if (typeof id !== 'string' || id.length === 0 || id.length > 100 || !ID.test(id)) {
      throw new Error('Workflow instance has invalid id');
    }
  }

  class Workflow {
    #target;
    constructor(key, target) {
      if (key !== KEY) throw new TypeError('Illegal constructor');
      this.#target = target;
    }
    async create(options = undefined) {
      const fields = {};
      if (options?.id !== undefined) {
        checkId(options.id);
        fields.id = options.id;
      }
      const bytes = clone(options?.params, 'the instance params');
      const [r] = await host.call(this.#target, 'create', JSON.stringify(fields), bytes);
      return new WorkflowInstance(KEY, this.#target, r.id);
    }
    async createBatch(list) {
      if (!Array.isArray(list)) throw new TypeError('createBatch() takes an array of instance options');
      if (list.length === 0) throw new Error('WorkflowError: batchCreate should have at least 1 instance');
      if (list.length > 100) throw new Error('WorkflowError: batchCreate takes at most 100 instances');
      const out = [];
      for (const options of list) out.push(await this.create(options));
      return out;
    }
    async get(id) {
      checkId(id);
      await host.call(this.#target, 'get', JSON.stringify({id}), null);
      return new WorkflowInstance(KEY, this.#target, id);
    }
    get [Symbol.toStringTag]() { return 'Workflow'; }
  }

  internal.bindingTypes.set('workflow', (name, d) => new Workflow(KEY, Number(d.target)));
})
