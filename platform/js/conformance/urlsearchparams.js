import { test, assert } from './_harness.js';

test('URLSearchParams parses, decodes + and percent escapes', () => {
  const p = new URLSearchParams('?a=1&b=2&a=3&c=%26+&d');
  assert.equal(p.get('a'), '1');
  assert.deepEqual(p.getAll('a'), ['1', '3']);
  assert.equal(p.get('c'), '& ');
  assert.equal(p.get('d'), '');
  assert.equal(p.get('zz'), null);
  assert.equal(p.size, 5);
});

test('URLSearchParams serializes with the form-urlencoded set', () => {
  const p = new URLSearchParams();
  p.append('q', "a b&c=d/é*-._~!'()");
  assert.equal(p.toString(), 'q=a+b%26c%3Dd%2F%C3%A9*-._%7E%21%27%28%29');
});

test('URLSearchParams.sort is stable and by UTF-16 code units', () => {
  const s = new URLSearchParams('z=1&a=2&b=3&a=1&\uFFFD=x&\u{1F600}=y');
  s.sort();
  assert.equal([...s.keys()].join(','), 'a,a,b,z,\u{1F600},\uFFFD');
  assert.deepEqual(s.getAll('a'), ['2', '1']);
});

test('URLSearchParams from records, pairs and another instance', () => {
  assert.equal(new URLSearchParams({x: '1', y: 2}).toString(), 'x=1&y=2');
  assert.equal(new URLSearchParams([['k', 'v'], ['k', 'w']]).toString(), 'k=v&k=w');
  const a = new URLSearchParams('m=1');
  const b = new URLSearchParams(a);
  b.append('n', '2');
  assert.equal(a.toString(), 'm=1');
  assert.throws(() => new URLSearchParams([['only-one']]), TypeError);
});

test('URLSearchParams set/delete/has with values', () => {
  const p = new URLSearchParams('a=1&b=2&a=3');
  p.set('a', '9');
  assert.equal(p.toString(), 'a=9&b=2');
  p.append('b', '4');
  p.delete('b', '2');
  assert.equal(p.toString(), 'a=9&b=4');
  assert.equal(p.has('b', '4'), true);
  assert.equal(p.has('b', '2'), false);
});
