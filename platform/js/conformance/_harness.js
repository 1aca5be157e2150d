// The conformance harness (not a test script: files starting with '_' are skipped).
// A script registers cases with test(name, fn); the Worker's fetch handler runs them in order,
// each bounded by a virtual-time timeout, and answers one line per case: "ok NAME" or
// "FAIL NAME: why". conformance_test.cc reads the lines.
const cases = [];
const TIMEOUT_MS = 60_000;

export function test(name, fn) {
  cases.push([name, fn]);
}

function show(v) {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (Object.is(v, -0)) return '-0';
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s;
  } catch {
    return String(v);
  }
}

function fail(message, extra) {
  throw new Error(extra ? `${message} (${extra})` : message);
}

function deepEqual(a, b) {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (Array.isArray(a) || ArrayBuffer.isView(a)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
}

// `expected` is an error name ("TypeError", "AbortError") or a constructor.
function errorMatches(e, expected, pattern) {
  const name = e && e.name;
  const ok = typeof expected === 'string' ? name === expected : e instanceof expected;
  if (!ok) return `threw ${name}: ${e && e.message}, expected ${typeof expected === 'string' ? expected : expected.name}`;
  if (pattern !== undefined && !pattern.test(String(e.message))) {
    return `message ${show(e.message)} does not match ${pattern}`;
  }
  return null;
}

export const assert = {
  ok(v, what = '') {
    if (!v) fail(`expected a truthy value, got ${show(v)}`, what);
  },
  equal(actual, expected, what = '') {
    if (!Object.is(actual, expected)) fail(`got ${show(actual)}, expected ${show(expected)}`, what);
  },
  deepEqual(actual, expected, what = '') {
    if (!deepEqual(actual, expected)) fail(`got ${show(actual)}, expected ${show(expected)}`, what);
  },
  throws(fn, expected, pattern = undefined) {
    try {
      fn();
    } catch (e) {
      const why = errorMatches(e, expected, pattern);
      if (why) fail(why);
      return e;
    }
    fail('expected an exception, none was thrown');
  },
  async rejects(promiseOrFn, expected, pattern = undefined) {
    try {
      await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
    } catch (e) {
      const why = errorMatches(e, expected, pattern);
      if (why) fail(why);
      return e;
    }
    fail('expected a rejection, the promise fulfilled');
  },
};

export const hex = (buffer) =>
  Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');

export const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

export default {
  async fetch(request, env, ctx) {
    const out = [];
    for (const [name, fn] of cases) {
      let timer;
      try {
        await Promise.race([
          (async () => fn(request))(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no result within ${TIMEOUT_MS} ms (virtual)`)), TIMEOUT_MS);
          }),
        ]);
        out.push(`ok ${name}`);
      } catch (e) {
        const why = e instanceof Error ? `${e.name}: ${e.message}` : `threw ${show(e)}`;
        out.push(`FAIL ${name}: ${why.replace(/\n/g, ' ')}`);
      } finally {
        clearTimeout(timer);
      }
    }
    return new Response(out.join('\n'));
  },
};
