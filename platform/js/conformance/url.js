import { test, assert } from './_harness.js';

test('URL splits an absolute URL into its parts', () => {
  const u = new URL('HTTPS://User:pw@Example.COM:443/a/./b/../c?x=1&y=%20#frag');
  assert.equal(u.href, 'https://User:pw@example.com/a/c?x=1&y=%20#frag');
  assert.equal(u.protocol, 'https:');
  assert.equal(u.username, 'User');
  assert.equal(u.password, 'pw');
  assert.equal(u.host, 'example.com');
  assert.equal(u.port, '');
  assert.equal(u.pathname, '/a/c');
  assert.equal(u.search, '?x=1&y=%20');
  assert.equal(u.hash, '#frag');
  assert.equal(u.origin, 'https://example.com');
});

test('URL resolves relative references (RFC 3986 section 5.4 examples)', () => {
  const base = 'http://a/b/c/d;p?q';
  const cases = {
    'g': 'http://a/b/c/g', './g': 'http://a/b/c/g', 'g/': 'http://a/b/c/g/', '/g': 'http://a/g',
    '//g': 'http://g/', '?y': 'http://a/b/c/d;p?y', 'g?y': 'http://a/b/c/g?y',
    '#s': 'http://a/b/c/d;p?q#s', 'g#s': 'http://a/b/c/g#s', ';x': 'http://a/b/c/;x',
    '': 'http://a/b/c/d;p?q', '.': 'http://a/b/c/', './': 'http://a/b/c/', '..': 'http://a/b/',
    '../': 'http://a/b/', '../g': 'http://a/b/g', '../..': 'http://a/', '../../g': 'http://a/g',
    '../../../g': 'http://a/g', '/./g': 'http://a/g', '/../g': 'http://a/g', 'g.': 'http://a/b/c/g.',
    '.g': 'http://a/b/c/.g', 'g..': 'http://a/b/c/g..', './../g': 'http://a/b/g',
    'g/./h': 'http://a/b/c/g/h', 'g/../h': 'http://a/b/c/h',
  };
  for (const [rel, want] of Object.entries(cases)) {
    assert.equal(new URL(rel, base).href, want, `relative ${JSON.stringify(rel)}`);
  }
});

test('URL: special schemes treat backslashes as slashes and drop default ports', () => {
  assert.equal(new URL('http:\\\\h.test\\a\\b').href, 'http://h.test/a/b');
  assert.equal(new URL('http://h.test:80/').href, 'http://h.test/');
  assert.equal(new URL('https://h.test:8443/').port, '8443');
  assert.equal(new URL('//o.test:8080/p', 'https://h.test/').href, 'https://o.test:8080/p');
});

test('URL percent-encodes paths, queries and fragments', () => {
  assert.equal(new URL('http://h.test/a b/ü').pathname, '/a%20b/%C3%BC');
  assert.equal(new URL("http://h.test/?q=a b'").search, '?q=a%20b%27');
  assert.equal(new URL('http://h.test/#a b').hash, '#a%20b');
});

test('URL rejects what does not parse with a TypeError', () => {
  assert.throws(() => new URL('nope'), TypeError);
  assert.throws(() => new URL('http://'), TypeError);
  assert.throws(() => new URL('http://h.test:99999/'), TypeError);
  assert.throws(() => new URL('/relative'), TypeError);
  assert.equal(URL.canParse('http://x'), true);
  assert.equal(URL.canParse('/x'), false);
  assert.equal(URL.canParse('/x', 'http://h.test'), true);
});

test('URL non-special schemes keep an opaque path and a null origin', () => {
  const m = new URL('mailto:someone@example.com');
  assert.equal(m.pathname, 'someone@example.com');
  assert.equal(m.origin, 'null');
  assert.equal(new URL('data:text/plain,hi').protocol, 'data:');
});

test('URL setters update href and searchParams stay live', () => {
  const u = new URL('http://h.test/?a=1');
  u.searchParams.append('b', 'x y');
  assert.equal(u.href, 'http://h.test/?a=1&b=x+y');
  u.pathname = '/p q';
  u.hash = 'top';
  assert.equal(u.href, 'http://h.test/p%20q?a=1&b=x+y#top');
  u.search = '?z=9';
  assert.equal(u.searchParams.get('z'), '9');
  u.port = '8080';
  assert.equal(u.host, 'h.test:8080');
  assert.equal(JSON.stringify({u}), '{"u":"http://h.test:8080/p%20q?z=9#top"}');
});
