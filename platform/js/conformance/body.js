import { test, assert } from './_harness.js';

test('Response defaults: 200, ok, empty statusText, text content type', async () => {
  const r = new Response('hi');
  assert.equal(r.status, 200);
  assert.equal(r.ok, true);
  assert.equal(r.statusText, '');
  assert.equal(r.headers.get('content-type'), 'text/plain;charset=UTF-8');
  assert.equal(r.redirected, false);
  assert.equal(r.url, '');
  assert.equal(r.type, 'default');
  assert.equal(await r.text(), 'hi');
  const custom = new Response('x', {status: 404, statusText: 'Nope', headers: {'content-type': 'a/b'}});
  assert.equal(custom.ok, false);
  assert.equal(custom.statusText, 'Nope');
  assert.equal(custom.headers.get('content-type'), 'a/b');
});

test('Response checks status and null-body statuses', () => {
  assert.throws(() => new Response('', {status: 199}), RangeError);
  assert.throws(() => new Response('', {status: 600}), RangeError);
  assert.throws(() => new Response('body', {status: 204}), TypeError);
  assert.equal(new Response(null, {status: 204}).body, null);
  assert.throws(() => new Response('', {statusText: 'bad\n'}), TypeError);
});

test('bodyUsed: a body can be read once', async () => {
  const r = new Response('once');
  assert.equal(r.bodyUsed, false);
  assert.equal(await r.text(), 'once');
  assert.equal(r.bodyUsed, true);
  await assert.rejects(r.text(), TypeError);
  await assert.rejects(r.arrayBuffer(), TypeError);
  const empty = new Response(null);
  assert.equal(await empty.text(), '');
  assert.equal(await empty.text(), '', 'a null body is never used');
  assert.equal(empty.bodyUsed, false);
});

test('clone: both copies read the body; cloning a used body throws', async () => {
  const r = new Response('twice', {headers: {'x-a': '1'}});
  const c = r.clone();
  assert.equal(await r.text(), 'twice');
  assert.equal(await c.text(), 'twice');
  assert.equal(c.headers.get('x-a'), '1');
  assert.throws(() => r.clone(), TypeError);
  const req = new Request('https://h.test/', {method: 'POST', body: 'payload'});
  const rc = req.clone();
  assert.equal(await rc.text(), 'payload');
  assert.equal(await req.text(), 'payload');
});

test('Response.json and json()', async () => {
  const r = Response.json({a: [1, 2]}, {status: 201, headers: {'x-b': '2'}});
  assert.equal(r.status, 201);
  assert.equal(r.headers.get('content-type'), 'application/json');
  assert.equal(r.headers.get('x-b'), '2');
  assert.deepEqual(await r.json(), {a: [1, 2]});
  assert.throws(() => Response.json(undefined), TypeError);
  await assert.rejects(new Response('{bad').json(), SyntaxError);
});

test('Response.redirect: status, absolute location, errors', () => {
  const r = Response.redirect('https://h.test/a?b');
  assert.equal(r.status, 302);
  assert.equal(r.headers.get('location'), 'https://h.test/a?b');
  assert.equal(r.body, null);
  assert.equal(Response.redirect('https://h.test/', 308).status, 308);
  assert.throws(() => Response.redirect('https://h.test/', 200), RangeError);
  assert.throws(() => Response.redirect('/relative'), TypeError);
});

test('Response.error is a network error', () => {
  const e = Response.error();
  assert.equal(e.type, 'error');
  assert.equal(e.status, 0);
  assert.equal(e.ok, false);
});

test('arrayBuffer, bytes and blob read the bytes', async () => {
  const src = new Uint8Array([0, 1, 255]);
  const r = new Response(src);
  src[0] = 9;  // the body is a copy
  const buf = await r.arrayBuffer();
  assert.ok(buf instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(buf)], [0, 1, 255]);
  assert.deepEqual([...await new Response('ab').bytes()], [97, 98]);
  const b = await new Response('xyz', {headers: {'content-type': 'text/x'}}).blob();
  assert.equal(b.size, 3);
  assert.equal(b.type, 'text/x');
  assert.equal(await new Response(new URLSearchParams('a=1')).text(), 'a=1');
});

test('Request: method normalization, URL, headers, redirect mode', () => {
  const r = new Request('https://h.test/p?q', {method: 'post', headers: {'X-A': '1'}});
  assert.equal(r.method, 'POST');
  assert.equal(r.url, 'https://h.test/p?q');
  assert.equal(r.headers.get('x-a'), '1');
  assert.equal(r.redirect, 'follow');
  assert.equal(new Request('https://h.test', {method: 'Custom'}).method, 'Custom');
  assert.equal(new Request('https://h.test').url, 'https://h.test/');
  assert.ok(r.signal instanceof AbortSignal);
  assert.throws(() => new Request('/relative'), TypeError);
  assert.throws(() => new Request('https://h.test', {method: 'bad method'}), TypeError);
  assert.throws(() => new Request('https://h.test', {redirect: 'sometimes'}), TypeError);
});

test('Request: GET and HEAD cannot have a body', () => {
  assert.throws(() => new Request('https://h.test', {body: 'x'}), TypeError);
  assert.throws(() => new Request('https://h.test', {method: 'HEAD', body: 'x'}), TypeError);
  assert.equal(new Request('https://h.test').body, null);
});

test('new Request(request) takes over the body; the source becomes used', async () => {
  const a = new Request('https://h.test/a', {method: 'PUT', body: 'moved', headers: {'x': '1'}});
  const b = new Request(a, {headers: {'y': '2'}});
  assert.equal(b.method, 'PUT');
  assert.equal(b.url, 'https://h.test/a');
  assert.equal(b.headers.get('x'), null);
  assert.equal(b.headers.get('y'), '2');
  assert.equal(a.bodyUsed, true);
  assert.equal(await b.text(), 'moved');
  assert.throws(() => new Request(a), TypeError);
  const c = new Request(new Request('https://h.test/c', {method: 'POST', body: 'orig'}), {body: 'new'});
  assert.equal(await c.text(), 'new');
});

test('the incoming request of the handler', async (request) => {
  assert.equal(request.method, 'POST');
  assert.equal(new URL(request.url).pathname, '/run');
  assert.equal(request.headers.get('x-conformance'), 'yes');
  assert.equal(request.headers.get('content-type'), 'text/plain');
});

test('Request URLs are normalized the same way every time (the href cache)', async () => {
  for (let i = 0; i < 3; i++) {
    assert.equal(new Request('HTTPS://Example.TEST:443/a/./b/../c?x=1').url,
        'https://example.test/a/c?x=1');
    assert.throws(() => new Request('https://user:pw@example.test/'), TypeError);
    assert.throws(() => new Request('not a url'), TypeError);
  }
  for (let i = 0; i < 300; i++) assert.equal(new Request(`https://e.test/${i}`).url, `https://e.test/${i}`);
  assert.equal(new Request('https://e.test/0').url, 'https://e.test/0');
});
