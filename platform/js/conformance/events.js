import { test, assert } from './_harness.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('EventTarget dispatches to listeners in order, once and handleEvent', () => {
  const t = new EventTarget();
  const seen = [];
  const f = (e) => seen.push(`f:${e.type}:${e.target === t}`);
  t.addEventListener('ping', f);
  t.addEventListener('ping', f);  // a duplicate is ignored
  t.addEventListener('ping', () => seen.push('once'), {once: true});
  t.addEventListener('ping', {handleEvent(e) { seen.push(`obj:${e.currentTarget === t}`); }});
  assert.equal(t.dispatchEvent(new Event('ping')), true);
  t.removeEventListener('ping', f);
  t.dispatchEvent(new Event('ping'));
  assert.deepEqual(seen, ['f:ping:true', 'once', 'obj:true', 'obj:true']);
});

test('Event: preventDefault needs cancelable; stopImmediatePropagation stops', () => {
  const t = new EventTarget();
  const seen = [];
  t.addEventListener('x', (e) => { e.preventDefault(); e.stopImmediatePropagation(); seen.push(1); });
  t.addEventListener('x', () => seen.push(2));
  assert.equal(t.dispatchEvent(new Event('x', {cancelable: true})), false);
  const plain = new Event('x');
  assert.equal(t.dispatchEvent(plain), true);
  assert.equal(plain.defaultPrevented, false);
  assert.deepEqual(seen, [1, 1]);
  assert.equal(plain.eventPhase, Event.NONE);
  assert.equal(new CustomEvent('c', {detail: {n: 1}}).detail.n, 1);
  assert.throws(() => new Event(), TypeError);
});

test('a listener that throws does not stop the others', () => {
  const t = new EventTarget();
  const seen = [];
  t.addEventListener('x', () => { throw new Error('listener broke'); });
  t.addEventListener('x', () => seen.push('second'));
  t.dispatchEvent(new Event('x'));
  assert.deepEqual(seen, ['second']);
});

test('AbortController.abort: aborted, reason, abort event once, onabort', () => {
  const c = new AbortController();
  const s = c.signal;
  const seen = [];
  s.onabort = (e) => seen.push(`onabort:${e.type}`);
  s.addEventListener('abort', () => seen.push('listener'));
  assert.equal(s.aborted, false);
  assert.equal(s.reason, undefined);
  c.abort();
  c.abort('again');  // no effect
  assert.equal(s.aborted, true);
  assert.ok(s.reason instanceof DOMException);
  assert.equal(s.reason.name, 'AbortError');
  assert.deepEqual(seen, ['onabort:abort', 'listener']);
  assert.throws(() => s.throwIfAborted(), 'AbortError');
});

test('AbortSignal.abort(reason) and a custom reason', () => {
  const s = AbortSignal.abort('why');
  assert.equal(s.aborted, true);
  assert.equal(s.reason, 'why');
  const c = new AbortController();
  const reason = new Error('custom');
  c.abort(reason);
  assert.ok(c.signal.reason === reason);
  assert.throws(() => new AbortSignal(), TypeError);
});

test('AbortSignal.timeout aborts with a TimeoutError on virtual time', async () => {
  const s = AbortSignal.timeout(100);
  const t0 = Date.now();
  let at = -1;
  s.addEventListener('abort', () => { at = Date.now() - t0; });
  await sleep(99);
  assert.equal(s.aborted, false);
  await sleep(1);
  assert.equal(s.aborted, true);
  assert.equal(at, 100);
  assert.equal(s.reason.name, 'TimeoutError');
  assert.throws(() => AbortSignal.timeout(-1), TypeError);
});

test('AbortSignal.any follows the first signal to abort', () => {
  const a = new AbortController();
  const b = new AbortController();
  const any = AbortSignal.any([a.signal, b.signal]);
  assert.equal(any.aborted, false);
  b.abort('b first');
  a.abort('a later');
  assert.equal(any.reason, 'b first');
  assert.equal(AbortSignal.any([AbortSignal.abort('done')]).reason, 'done');
});

test('addEventListener with a signal is removed on abort', () => {
  const t = new EventTarget();
  const c = new AbortController();
  let n = 0;
  t.addEventListener('x', () => n++, {signal: c.signal});
  t.dispatchEvent(new Event('x'));
  c.abort();
  t.dispatchEvent(new Event('x'));
  assert.equal(n, 1);
});
