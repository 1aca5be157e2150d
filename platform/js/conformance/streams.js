import { test, assert, tick } from './_harness.js';

const enc = (s) => new TextEncoder().encode(s);
const chunksOf = (...parts) => new ReadableStream({
  start(c) {
    for (const p of parts) c.enqueue(p);
    c.close();
  },
});

test('getReader().read() yields the chunks, then done', async () => {
  const reader = chunksOf('a', 'b').getReader();
  assert.deepEqual(await reader.read(), {value: 'a', done: false});
  assert.deepEqual(await reader.read(), {value: 'b', done: false});
  assert.deepEqual(await reader.read(), {value: undefined, done: true});
  assert.deepEqual(await reader.read(), {value: undefined, done: true});
  await reader.closed;
});

test('a stream is locked to one reader until releaseLock', async () => {
  const s = chunksOf(1);
  const r = s.getReader();
  assert.equal(s.locked, true);
  assert.throws(() => s.getReader(), TypeError);
  await assert.rejects(s.cancel(), TypeError);
  r.releaseLock();
  assert.equal(s.locked, false);
  await assert.rejects(r.read(), TypeError);
  assert.deepEqual(await s.getReader().read(), {value: 1, done: false});
});

test('async iteration reads to the end and releases the lock', async () => {
  const s = chunksOf(1, 2, 3);
  const seen = [];
  for await (const x of s) seen.push(x);
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(s.locked, false);
});

test('breaking out of async iteration cancels the source', async () => {
  let cancelled = null;
  let n = 0;
  const s = new ReadableStream({
    pull(c) { c.enqueue(n++); },
    cancel(reason) { cancelled = reason === undefined ? 'undefined' : String(reason); },
  });
  for await (const x of s) {
    if (x === 2) break;
  }
  assert.equal(cancelled, 'undefined');
});

test('pull is called on demand, up to the high-water mark', async () => {
  let pulls = 0;
  const s = new ReadableStream({
    pull(c) {
      pulls++;
      c.enqueue(pulls);
      if (pulls === 5) c.close();
    },
  }, {highWaterMark: 2});
  await tick();
  assert.equal(pulls, 2, 'fills the queue to the high-water mark');
  const reader = s.getReader();
  const got = [];
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    got.push(value);
  }
  assert.deepEqual(got, [1, 2, 3, 4, 5]);
});

test('controller.error rejects reads with the error', async () => {
  const s = new ReadableStream({start(c) { c.enqueue('x'); c.error(new RangeError('broken')); }});
  const reader = s.getReader();
  await assert.rejects(reader.read(), RangeError);
  await assert.rejects(reader.closed, RangeError);
  const throwing = new ReadableStream({pull() { throw new TypeError('pull broke'); }});
  await assert.rejects(throwing.getReader().read(), TypeError, /pull broke/);
});

test('tee gives two branches with the same chunks', async () => {
  const [a, b] = chunksOf('x', 'y').tee();
  const read = async (s) => { const out = []; for await (const v of s) out.push(v); return out; };
  assert.deepEqual(await read(a), ['x', 'y']);
  assert.deepEqual(await read(b), ['x', 'y']);
});

test('a Response from a ReadableStream of bytes', async () => {
  const r = new Response(chunksOf(enc('hello '), enc('stream')));
  assert.equal(r.headers.get('content-type'), null);
  assert.equal(await r.text(), 'hello stream');
  assert.equal(r.bodyUsed, true);
  const strings = new Response(chunksOf('not bytes'));
  await assert.rejects(strings.text(), TypeError);
});

test('response.body is a ReadableStream; reading it uses the body', async () => {
  const r = new Response('abc');
  const body = r.body;
  assert.ok(body instanceof ReadableStream);
  assert.ok(r.body === body, 'the same stream every time');
  const reader = body.getReader();
  const {value} = await reader.read();
  assert.ok(value instanceof Uint8Array);
  assert.equal(new TextDecoder().decode(value), 'abc');
  assert.equal(r.bodyUsed, true);
  await assert.rejects(r.text(), TypeError);
});

test('a locked or disturbed stream cannot become a body', async () => {
  const s = chunksOf(enc('x'));
  s.getReader();
  assert.throws(() => new Response(s), TypeError);
  const used = new Response('x');
  await used.text();
  assert.equal(used.body.locked, false);
});

test('new Response(request.body) passes the request body through', async (request) => {
  const passed = new Response(request.body, {headers: {'content-type': 'text/plain'}});
  assert.equal(await passed.text(), 'request body from the client');
  assert.equal(request.bodyUsed, true);
});

test('a body stream fed by timers, with clone()', async () => {
  let n = 0;
  const s = new ReadableStream({
    async pull(c) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (n < 3) c.enqueue(enc(`${n++}`)); else c.close();
    },
  });
  const r = new Response(s);
  const copy = r.clone();
  const t0 = Date.now();
  assert.equal(await r.text(), '012');
  assert.equal(await copy.text(), '012');
  assert.ok(Date.now() - t0 >= 40, 'took four pulls of virtual time');
});

test('TransformStream pipes a writer into a readable body', async () => {
  const {readable, writable} = new TransformStream();
  const writer = writable.getWriter();
  const response = new Response(readable);
  writer.write(enc('a'));
  writer.write(enc('b'));
  writer.close();
  assert.equal(await response.text(), 'ab');
});

test('ReadableStream.from an async iterable', async () => {
  async function* gen() { yield enc('x'); yield enc('y'); }
  assert.equal(await new Response(ReadableStream.from(gen())).text(), 'xy');
});

test('TransformStream runs transform() and flush() in order', async () => {
  const upper = new TransformStream({
    start(c) { c.enqueue('<'); },
    async transform(chunk, c) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      c.enqueue(chunk.toUpperCase());
    },
    flush(c) { c.enqueue('>'); },
  });
  const writer = upper.writable.getWriter();
  writer.write('a');
  writer.write('b');
  writer.close();
  const out = [];
  for await (const x of upper.readable) out.push(x);
  assert.deepEqual(out, ['<', 'A', 'B', '>']);
});

test('a TransformStream whose transform throws errors its readable side', async () => {
  const t = new TransformStream({transform() { throw new RangeError('bad chunk'); }});
  const writer = t.writable.getWriter();
  writer.write('x');
  await assert.rejects(t.readable.getReader().read(), RangeError, /bad chunk/);
  await assert.rejects(writer.closed, RangeError);
});

test('controller.terminate() closes the readable side early', async () => {
  const t = new TransformStream({
    transform(chunk, c) {
      c.enqueue(chunk);
      if (chunk === 'stop') c.terminate();
    },
  });
  const writer = t.writable.getWriter();
  writer.write('go');
  writer.write('stop');
  const out = [];
  for await (const x of t.readable) out.push(x);
  assert.deepEqual(out, ['go', 'stop']);
});

test('pipeThrough a TransformStream and pipeTo a WritableStream', async () => {
  const enc2 = new TextEncoder();
  const doubled = chunksOf(enc2.encode('ab'), enc2.encode('c')).pipeThrough(new TransformStream({
    transform(chunk, c) { c.enqueue(new TextEncoder().encode(new TextDecoder().decode(chunk).repeat(2))); },
  }));
  assert.equal(await new Response(doubled).text(), 'ababcc');
  const seen = [];
  let closed = false;
  await chunksOf(1, 2, 3).pipeTo(new WritableStream({
    write(x) { seen.push(x); },
    close() { closed = true; },
  }));
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(closed, true);
  const locked = chunksOf(1);
  locked.getReader();
  assert.throws(() => locked.pipeThrough(new TransformStream()), TypeError);
});

test('a BYOB reader fills the caller\'s buffer across chunks', async () => {
  const s = new Response(chunksOf(enc('hel'), enc('lo wor'), enc('ld'))).body;
  const reader = s.getReader({mode: 'byob'});
  assert.ok(reader instanceof ReadableStreamBYOBReader);
  let r = await reader.read(new Uint8Array(4));
  assert.equal(new TextDecoder().decode(r.value), 'hel');
  assert.equal(r.done, false);
  r = await reader.read(new Uint8Array(8), {min: 8});
  assert.equal(new TextDecoder().decode(r.value), 'lo world');
  r = await reader.read(new Uint8Array(8));
  assert.equal(r.done, true);
  assert.equal(r.value.byteLength, 0);
});

test('BYOB readAtLeast, element views and bad arguments', async () => {
  const reader = chunksOf(new Uint8Array([1, 0, 2]), new Uint8Array([0, 3, 0])).getReader({mode: 'byob'});
  const r = await reader.readAtLeast(4, new Uint16Array(3));
  assert.ok(r.value instanceof Uint16Array);
  assert.deepEqual(Array.from(r.value), [1, 2, 3], 'little-endian elements across two chunks');
  await assert.rejects(reader.read(new Uint8Array(0)), TypeError);
  await assert.rejects(reader.read('not a view'), TypeError);
  const strings = chunksOf('text').getReader({mode: 'byob'});
  await assert.rejects(strings.read(new Uint8Array(4)), TypeError);
  assert.throws(() => chunksOf(1).getReader({mode: 'other'}), RangeError);
});
