import { test, assert } from './_harness.js';

const bytes = (...b) => new Uint8Array(b);
const decode = (b, opts) => new TextDecoder('utf-8', opts).decode(b);

test('TextEncoder encodes UTF-8, lone surrogates as U+FFFD', () => {
  assert.deepEqual([...new TextEncoder().encode('héllo €')],
      [104, 195, 169, 108, 108, 111, 32, 226, 130, 172]);
  assert.deepEqual([...new TextEncoder().encode('\u{1F600}')], [0xf0, 0x9f, 0x98, 0x80]);
  assert.deepEqual([...new TextEncoder().encode('a\uD800b')], [0x61, 0xef, 0xbf, 0xbd, 0x62]);
  assert.equal(new TextEncoder().encode().length, 0);
  assert.equal(new TextEncoder().encoding, 'utf-8');
});

test('TextEncoder.encodeInto stops before a character that does not fit', () => {
  const dst = new Uint8Array(4);
  assert.deepEqual(new TextEncoder().encodeInto('ab€c', dst), {read: 2, written: 2});
  assert.deepEqual(new TextEncoder().encodeInto('ab€c', new Uint8Array(5)), {read: 3, written: 5});
  assert.deepEqual(new TextEncoder().encodeInto('\u{1F600}x', new Uint8Array(5)), {read: 3, written: 5});
  const big = new Uint8Array(8);
  assert.deepEqual(new TextEncoder().encodeInto('ab€c', big), {read: 4, written: 6});
});

test('TextDecoder replaces each maximal invalid subpart with one U+FFFD', () => {
  assert.equal(decode(bytes(0x61, 0xc3)), 'a\uFFFD');
  assert.equal(decode(bytes(0xe2, 0x82, 0x61)), '\uFFFDa');
  assert.equal(decode(bytes(0xf0, 0x9f, 0x98)), '\uFFFD');
  assert.equal(decode(bytes(0xff, 0x61)), '\uFFFDa');
  assert.equal(decode(bytes(0xc0, 0x80)), '\uFFFD\uFFFD');           // overlong
  assert.equal(decode(bytes(0xed, 0xa0, 0x80)), '\uFFFD\uFFFD\uFFFD'); // a surrogate
  assert.equal(decode(bytes(0xf4, 0x90, 0x80, 0x80)), '\uFFFD\uFFFD\uFFFD\uFFFD'); // > U+10FFFF
});

test('TextDecoder fatal mode throws a TypeError on invalid input', () => {
  const d = new TextDecoder('utf-8', {fatal: true});
  assert.equal(d.fatal, true);
  assert.throws(() => d.decode(bytes(0xc3)), TypeError);
  assert.throws(() => d.decode(bytes(0xed, 0xa0, 0x80)), TypeError);
  assert.equal(d.decode(bytes(0xe2, 0x82, 0xac)), '€');
});

test('TextDecoder drops a leading BOM unless ignoreBOM', () => {
  assert.equal(decode(bytes(0xef, 0xbb, 0xbf, 0x41)), 'A');
  assert.equal(decode(bytes(0xef, 0xbb, 0xbf, 0x41), {ignoreBOM: true}), '\uFEFFA');
  assert.equal(decode(bytes(0x41, 0xef, 0xbb, 0xbf)), 'A\uFEFF');
});

test('TextDecoder stream mode joins characters split across chunks', () => {
  const d = new TextDecoder();
  const euro = [0xe2, 0x82, 0xac];
  let out = d.decode(bytes(0x61, euro[0]), {stream: true});
  out += d.decode(bytes(euro[1]), {stream: true});
  out += d.decode(bytes(euro[2], 0x62), {stream: true});
  out += d.decode(bytes(0xf0, 0x9f), {stream: true});
  out += d.decode();  // the end: an incomplete sequence is one U+FFFD
  assert.equal(out, 'a€b\uFFFD');
});

test('TextDecoder labels, views and errors', () => {
  assert.equal(new TextDecoder(' UTF8 ').encoding, 'utf-8');
  assert.throws(() => new TextDecoder('klingon'), RangeError);
  const buf = new Uint8Array([0x78, 0x68, 0x69, 0x78]).buffer;
  assert.equal(new TextDecoder().decode(new DataView(buf, 1, 2)), 'hi');
  assert.equal(new TextDecoder().decode(buf), 'xhix');
  assert.throws(() => new TextDecoder().decode('string'), TypeError);
});

test('btoa and atob round-trip binary strings', () => {
  assert.equal(btoa('hello'), 'aGVsbG8=');
  assert.equal(btoa(''), '');
  assert.equal(btoa('\xff\xfe'), '//4=');
  assert.equal(atob('aGVsbG8='), 'hello');
  assert.equal(atob(' aGVs\nbG8 '), 'hello');  // ASCII whitespace is ignored
  assert.equal(atob('YQ'), 'a');               // padding is optional
  assert.equal(atob('//4='), '\xff\xfe');
});

test('btoa and atob throw InvalidCharacterError', () => {
  assert.throws(() => btoa('\u0100'), 'InvalidCharacterError');
  assert.throws(() => btoa('€'), DOMException);
  assert.throws(() => atob('a'), 'InvalidCharacterError');
  assert.throws(() => atob('YQ='), 'InvalidCharacterError');
  assert.throws(() => atob('Y*=='), 'InvalidCharacterError');
  assert.throws(() => atob(), TypeError);
  const e = assert.throws(() => atob('!'), DOMException);
  assert.equal(e.code, 5);
});
