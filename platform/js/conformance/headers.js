import { test, assert } from './_harness.js';

test('Headers lower-case names and combine values with ", "', () => {
  const h = new Headers({'Content-Type': 'text/plain'});
  h.append('X-A', '1');
  h.append('x-a', '2');
  assert.equal(h.get('content-type'), 'text/plain');
  assert.equal(h.get('X-A'), '1, 2');
  assert.equal(h.get('missing'), null);
  assert.equal(h.has('CONTENT-TYPE'), true);
});

test('Headers iterate sorted by name, combined, set-cookie kept apart', () => {
  const h = new Headers([['b', '1'], ['Set-Cookie', 'x=1'], ['a', '2'], ['set-cookie', 'y=2'],
    ['B', '3']]);
  assert.deepEqual([...h], [['a', '2'], ['b', '1, 3'], ['set-cookie', 'x=1'], ['set-cookie', 'y=2']]);
  assert.deepEqual([...h.keys()], ['a', 'b', 'set-cookie', 'set-cookie']);
  assert.deepEqual(h.getSetCookie(), ['x=1', 'y=2']);
  assert.equal(h.get('set-cookie'), 'x=1, y=2');
  assert.deepEqual(new Headers().getSetCookie(), []);
});

test('Headers trim values and reject invalid names and values', () => {
  const h = new Headers();
  h.set('x', ' \t padded \r\n');
  assert.equal(h.get('x'), 'padded');
  assert.throws(() => h.set('a b', '1'), TypeError);
  assert.throws(() => h.set('', '1'), TypeError);
  assert.throws(() => h.set('é', '1'), TypeError);
  assert.throws(() => h.set('x', 'a\nb'), TypeError);
  assert.throws(() => h.set('x', 'a\0b'), TypeError);
  assert.throws(() => new Headers([['only-name']]), TypeError);
});

test('Headers set replaces, delete removes, forEach visits in order', () => {
  const h = new Headers({b: '1', a: '0'});
  h.append('b', '2');
  h.set('b', '3');
  h.delete('a');
  const seen = [];
  h.forEach((v, k) => seen.push(`${k}=${v}`));
  assert.deepEqual(seen, ['b=3']);
  const copy = new Headers(h);
  copy.set('c', '4');
  assert.equal(h.has('c'), false);
});

test('Response.redirect headers are immutable', () => {
  const r = Response.redirect('https://h.test/next', 301);
  assert.throws(() => r.headers.set('x', '1'), TypeError, /immutable/);
  assert.throws(() => r.headers.delete('location'), TypeError);
  assert.equal(r.headers.get('location'), 'https://h.test/next');
});
