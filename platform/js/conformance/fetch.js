import { test, assert } from './_harness.js';

test('fetch from a static origin: status, headers, body, url', async () => {
  const t0 = Date.now();
  const r = await fetch('https://origin.test/hello');
  assert.ok(Date.now() - t0 > 0, 'the network takes virtual time');
  assert.equal(r.status, 200);
  assert.equal(r.ok, true);
  assert.equal(r.statusText, 'OK');
  assert.equal(r.url, 'https://origin.test/hello');
  assert.equal(r.redirected, false);
  assert.equal(r.headers.get('x-origin'), 'static');
  assert.equal(await r.text(), 'hello from origin');
});

test('fetched response headers are immutable; set-cookie stays apart', async () => {
  const r = await fetch('https://origin.test/');
  assert.throws(() => r.headers.set('x', '1'), TypeError, /immutable/);
  assert.throws(() => r.headers.append('x', '1'), TypeError);
  assert.deepEqual(r.headers.getSetCookie(), ['a=1; Path=/', 'b=2; Path=/']);
  assert.equal(r.headers.get('set-cookie'), 'a=1; Path=/, b=2; Path=/');
  const copy = new Response(r.body, r);
  copy.headers.set('x', '1');  // a new Response has headers of its own
  assert.equal(copy.headers.get('x'), '1');
  assert.equal(copy.status, 200);
});

test('fetch json, 404 and 204', async () => {
  assert.deepEqual(await (await fetch('https://origin.test/json')).json(), {a: 1, list: [1, 2, 3]});
  const missing = await fetch('https://origin.test/missing');
  assert.equal(missing.status, 404);
  assert.equal(missing.ok, false);
  assert.equal(missing.statusText, 'Not Found');
  const none = await fetch('https://origin.test/nocontent');
  assert.equal(none.status, 204);
  assert.equal(none.body, null);
  const head = await fetch('https://origin.test/hello', {method: 'HEAD'});
  assert.equal(head.body, null);
});

test('redirects are followed: redirected and the final url', async () => {
  const r = await fetch('https://origin.test/redirect');
  assert.equal(r.status, 200);
  assert.equal(r.redirected, true);
  assert.equal(r.url, 'https://origin.test/json');
  const cross = await fetch('https://origin.test/redirect-abs');
  assert.equal(cross.url, 'https://worker.test/echo');
  assert.equal((await cross.json()).method, 'GET');
});

test('redirect: manual returns the 3xx; error rejects; loops end', async () => {
  const manual = await fetch('https://origin.test/redirect', {redirect: 'manual'});
  assert.equal(manual.status, 302);
  assert.equal(manual.headers.get('location'), '/json');
  await assert.rejects(fetch('https://origin.test/redirect', {redirect: 'error'}), TypeError);
  await assert.rejects(fetch('https://origin.test/loop'), TypeError, /redirect/i);
});

test('fetch sends method, headers and body to a Worker origin', async () => {
  const r = await fetch('https://worker.test/echo', {method: 'PUT', body: 'payload',
    headers: {'X-Custom': 'v'}});
  const echo = await r.json();
  assert.equal(echo.method, 'PUT');
  assert.equal(echo.body, 'payload');
  const headers = Object.fromEntries(echo.headers);
  assert.equal(headers['x-custom'], 'v');
  assert.equal(headers['content-type'], 'text/plain;charset=UTF-8');
});

test('fetch(Request) and method rules of 303 and 307', async () => {
  const req = new Request('https://worker.test/see-other', {method: 'POST', body: 'data'});
  const r = await fetch(req);
  assert.equal(req.bodyUsed, true);
  const echo = await r.json();
  assert.equal(echo.method, 'GET', '303 turns POST into GET');
  assert.equal(echo.body, '');
  const kept = await (await fetch('https://worker.test/temporary', {method: 'POST', body: 'kept'})).json();
  assert.equal(kept.method, 'POST', '307 keeps the method');
  assert.equal(kept.body, 'kept');
});

test('a streamed response from a Worker origin and a throwing one', async () => {
  assert.equal(await (await fetch('https://worker.test/stream')).text(), 'part0;part1;part2;');
  const broke = await fetch('https://worker.test/throw');
  assert.equal(broke.status, 500);
});

test('fetch: unknown host, down origin, non-HTTP scheme reject with TypeError', async () => {
  await assert.rejects(fetch('https://nowhere.test/'), TypeError, /nowhere\.test/);
  const t0 = Date.now();
  await assert.rejects(fetch('https://down.test/'), TypeError, /Network connection lost/);
  assert.ok(Date.now() - t0 < 1000, 'a down node refuses at once');
  await assert.rejects(fetch('ftp://origin.test/'), TypeError);
  await assert.rejects(fetch('not a url'), TypeError);
  await assert.rejects(fetch(), TypeError);
});

test('fetch across a partition fails after the origin timeout', async () => {
  const t0 = Date.now();
  await assert.rejects(fetch('https://cut.test/'), TypeError, /Network connection lost/);
  assert.equal(Date.now() - t0 >= 5000, true);
});

test('fetch honours an AbortSignal', async () => {
  const c = new AbortController();
  const pending = fetch('https://origin.test/slow', {signal: c.signal});
  setTimeout(() => c.abort(), 100);
  const t0 = Date.now();
  const e = await assert.rejects(pending, 'AbortError');
  assert.ok(e instanceof DOMException);
  assert.equal(Date.now() - t0, 100);
  await assert.rejects(fetch('https://origin.test/', {signal: AbortSignal.abort()}), 'AbortError');
  await assert.rejects(fetch('https://origin.test/slow', {signal: AbortSignal.timeout(500)}),
      'TimeoutError');
  const late = await fetch('https://origin.test/slow', {signal: AbortSignal.timeout(10000)});
  assert.equal(await late.text(), 'slow');
});

test('parallel fetches and clone of a fetched response', async () => {
  const [a, b, c] = await Promise.all([
    fetch('https://origin.test/json'), fetch('https://worker.test/echo'), fetch('https://origin.test/hello'),
  ]);
  assert.equal(a.status + b.status + c.status, 600);
  const twin = c.clone();
  assert.equal(await c.text(), 'hello from origin');
  assert.equal(await twin.text(), 'hello from origin');
  assert.throws(() => twin.headers.set('x', 'y'), TypeError, /immutable/);
});

test('method-specific static routes', async () => {
  assert.equal((await fetch('https://origin.test/post-only', {method: 'POST', body: 'x'})).status, 201);
  assert.equal((await fetch('https://origin.test/post-only')).status, 200, 'GET falls back to /');
});
