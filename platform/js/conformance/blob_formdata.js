import { test, assert } from './_harness.js';

test('Blob joins parts; size, type, text', async () => {
  const b = new Blob(['hé', new Uint8Array([33]), new Blob(['!?'])], {type: 'Text/Plain'});
  assert.equal(b.size, 6);
  assert.equal(b.type, 'text/plain');
  assert.equal(await b.text(), 'hé!!?');
  assert.equal(new Blob().size, 0);
  assert.equal(new Blob([], {type: 'bad\u00ff'}).type, '');
  assert.throws(() => new Blob('not a sequence'), TypeError);
});

test('Blob.slice with negative and out-of-range indexes', async () => {
  const b = new Blob(['0123456789']);
  assert.equal(await b.slice(2, 5).text(), '234');
  assert.equal(await b.slice(-3).text(), '789');
  assert.equal(await b.slice(-3, -1).text(), '78');
  assert.equal(await b.slice(5, 2).text(), '');
  assert.equal(await b.slice(0, 100).text(), '0123456789');
  assert.equal(b.slice(0, 1, 'a/b').type, 'a/b');
});

test('Blob arrayBuffer, bytes and stream', async () => {
  const b = new Blob([new Uint8Array([1, 2, 3])]);
  assert.deepEqual([...new Uint8Array(await b.arrayBuffer())], [1, 2, 3]);
  assert.deepEqual([...await b.bytes()], [1, 2, 3]);
  assert.equal(await new Response(new Blob(['via stream']).stream()).text(), 'via stream');
  const r = new Response(new Blob(['x'], {type: 'image/png'}));
  assert.equal(r.headers.get('content-type'), 'image/png');
});

test('File has a name and lastModified', () => {
  const f = new File(['data'], 'a.txt', {type: 'text/plain', lastModified: 42});
  assert.equal(f.name, 'a.txt');
  assert.equal(f.lastModified, 42);
  assert.equal(f.size, 4);
  assert.ok(f instanceof Blob);
  assert.throws(() => new File(['x']), TypeError);
});

test('FormData append, get, getAll, has, delete, set, entries', () => {
  const fd = new FormData();
  fd.append('a', '1');
  fd.append('b', 2);
  fd.append('a', '3');
  assert.equal(fd.get('a'), '1');
  assert.deepEqual(fd.getAll('a'), ['1', '3']);
  assert.equal(fd.get('b'), '2');
  assert.equal(fd.has('c'), false);
  assert.equal(fd.get('c'), null);
  fd.set('a', 'x');
  assert.deepEqual([...fd], [['a', 'x'], ['b', '2']]);
  fd.delete('b');
  assert.deepEqual([...fd.keys()], ['a']);
});

test('FormData turns Blobs into Files', () => {
  const fd = new FormData();
  fd.append('blob', new Blob(['x'], {type: 'text/x'}));
  fd.append('named', new Blob(['y']), 'y.txt');
  const f = fd.get('blob');
  assert.ok(f instanceof File);
  assert.equal(f.name, 'blob');
  assert.equal(f.type, 'text/x');
  assert.equal(fd.get('named').name, 'y.txt');
  assert.throws(() => fd.append('s', 'string', 'name.txt'), TypeError);
});

test('a FormData body is multipart and parses back', async () => {
  const fd = new FormData();
  fd.append('field', 'välue\nline');
  fd.append('file', new File(['file bytes'], 'f.bin', {type: 'application/x-test'}));
  const req = new Request('https://h.test/', {method: 'POST', body: fd});
  const type = req.headers.get('content-type');
  assert.ok(/^multipart\/form-data; boundary=/.test(type), type);
  const back = await req.formData();
  assert.equal(back.get('field'), 'välue\r\nline');
  const file = back.get('file');
  assert.ok(file instanceof File);
  assert.equal(file.name, 'f.bin');
  assert.equal(file.type, 'application/x-test');
  assert.equal(await file.text(), 'file bytes');
});

test('formData() of an urlencoded body', async () => {
  const r = new Response('a=1&b=x+y&a=2', {headers: {'content-type': 'application/x-www-form-urlencoded'}});
  const fd = await r.formData();
  assert.deepEqual(fd.getAll('a'), ['1', '2']);
  assert.equal(fd.get('b'), 'x y');
  const fromParams = new Request('https://h.test/', {method: 'POST', body: new URLSearchParams({k: 'v'})});
  assert.equal((await fromParams.formData()).get('k'), 'v');
  await assert.rejects(new Response('x', {headers: {'content-type': 'text/plain'}}).formData(), TypeError);
});
