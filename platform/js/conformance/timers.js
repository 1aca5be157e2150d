import { test, assert } from './_harness.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('timers fire by due time, and in the order set when due together', async () => {
  const order = [];
  setTimeout(() => order.push('a10'), 10);
  setTimeout(() => order.push('b10'), 10);
  setTimeout(() => order.push('c5'), 5);
  for (let i = 0; i < 8; i++) setTimeout(() => order.push(`z${i}`), 20);
  setTimeout(() => order.push('zero'), 0);
  await sleep(30);
  assert.deepEqual(order, ['zero', 'c5', 'a10', 'b10', 'z0', 'z1', 'z2', 'z3', 'z4', 'z5', 'z6', 'z7']);
});

test('virtual time stands still while JS runs and moves by the timer delay', async () => {
  const t0 = Date.now();
  const p0 = performance.now();
  for (let i = 0; i < 100000; i++);
  assert.equal(Date.now(), t0);
  await sleep(250);
  assert.equal(Date.now() - t0, 250);
  assert.equal(performance.now() - p0, 250);
  assert.ok(new Date().getFullYear() >= 2026, 'the simulated epoch is 2026');
});

test('clearTimeout cancels, and extra arguments reach the callback', async () => {
  const seen = [];
  const id = setTimeout(() => seen.push('cancelled'), 5);
  setTimeout((a, b) => seen.push(a + b), 5, 'x', 'y');
  clearTimeout(id);
  clearTimeout(123456);  // unknown ids are ignored
  await sleep(10);
  assert.deepEqual(seen, ['xy']);
});

test('setInterval repeats on virtual time until clearInterval', async () => {
  const times = [];
  const t0 = Date.now();
  await new Promise((resolve) => {
    const id = setInterval(() => {
      times.push(Date.now() - t0);
      if (times.length === 4) {
        clearInterval(id);
        resolve();
      }
    }, 100);
  });
  await sleep(500);
  assert.deepEqual(times, [100, 200, 300, 400]);
});

test('intervals and timeouts due together keep their order', async () => {
  const order = [];
  const id = setInterval(() => order.push('i'), 10);
  setTimeout(() => order.push('t10'), 10);
  setTimeout(() => order.push('t20'), 20);
  await sleep(25);
  clearInterval(id);
  // At 20 the timeout goes first: it was set (at 0) before the interval was re-armed (at 10).
  assert.deepEqual(order, ['i', 't10', 't20', 'i']);
});

test('microtasks run before timers, and between timer callbacks', async () => {
  const order = [];
  setTimeout(() => {
    order.push('t1');
    Promise.resolve().then(() => order.push('t1-micro'));
  }, 0);
  setTimeout(() => order.push('t2'), 0);
  Promise.resolve().then(() => order.push('micro'));
  order.push('sync');
  await sleep(5);
  assert.deepEqual(order, ['sync', 'micro', 't1', 't1-micro', 't2']);
});

test('queueMicrotask is FIFO with promise reactions', async () => {
  const order = [];
  queueMicrotask(() => order.push('q1'));
  Promise.resolve().then(() => order.push('p1')).then(() => order.push('p2'));
  queueMicrotask(() => {
    order.push('q2');
    queueMicrotask(() => order.push('q3'));
  });
  order.push('sync');
  await sleep(0);
  assert.deepEqual(order, ['sync', 'q1', 'p1', 'q2', 'p2', 'q3']);
  assert.throws(() => queueMicrotask('nope'), TypeError);
});

test('timer argument checks', () => {
  assert.throws(() => setTimeout('code string', 1), TypeError);
  const id = setTimeout(() => {}, -5);  // negative delays are 0
  assert.equal(typeof id, 'number');
  clearTimeout(id);
});
