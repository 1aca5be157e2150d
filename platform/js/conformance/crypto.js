import { test, assert, hex } from './_harness.js';

const enc = (s) => new TextEncoder().encode(s);
const M448 = 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq';

test('digest SHA-1 (FIPS 180 vectors)', async () => {
  assert.equal(hex(await crypto.subtle.digest('SHA-1', enc('abc'))), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  assert.equal(hex(await crypto.subtle.digest('SHA-1', new Uint8Array(0))), 'da39a3ee5e6b4b0d3255bfef95601890afd80709');
  assert.equal(hex(await crypto.subtle.digest('SHA-1', enc(M448))), '84983e441c3bd26ebaae4aa1f95129e5e54670f1');
});

test('digest SHA-256 (FIPS 180 vectors)', async () => {
  assert.equal(hex(await crypto.subtle.digest('SHA-256', enc('abc'))),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(hex(await crypto.subtle.digest('SHA-256', new ArrayBuffer(0))),
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(hex(await crypto.subtle.digest('SHA-256', enc(M448))),
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
});

test('digest SHA-384 and SHA-512', async () => {
  assert.equal(hex(await crypto.subtle.digest('SHA-384', enc('abc'))),
      'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7');
  assert.equal(hex(await crypto.subtle.digest('SHA-512', enc('abc'))),
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a' +
      '2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f');
});

test('digest takes {name}, any case, and views into larger buffers', async () => {
  const buf = enc('xxabcxx');
  const view = new DataView(buf.buffer, 2, 3);
  const d = await crypto.subtle.digest({name: 'sha-256'}, view);
  assert.ok(d instanceof ArrayBuffer);
  assert.equal(d.byteLength, 32);
  assert.equal(hex(d), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('digest copies its input when called', async () => {
  const data = enc('abc');
  const p = crypto.subtle.digest('SHA-1', data);
  data[0] = 0;
  assert.equal(hex(await p), 'a9993e364706816aba3e25717850c26c9cd0d89d');
});

test('digest rejects unknown algorithms and non-buffers', async () => {
  await assert.rejects(crypto.subtle.digest('MD4', enc('x')), 'NotSupportedError');
  await assert.rejects(crypto.subtle.digest('SHA-256', 'a string'), TypeError);
  await assert.rejects(crypto.subtle.digest({}, enc('x')), TypeError);
  assert.ok(crypto.subtle instanceof SubtleCrypto);
  assert.throws(() => new SubtleCrypto(), TypeError);
});

test('timingSafeEqual compares equal-length buffers', () => {
  assert.equal(crypto.subtle.timingSafeEqual(enc('abc'), enc('abc')), true);
  assert.equal(crypto.subtle.timingSafeEqual(enc('abc'), enc('abd')), false);
  assert.throws(() => crypto.subtle.timingSafeEqual(enc('a'), enc('ab')), TypeError);
});

test('randomUUID and getRandomValues', () => {
  const id = crypto.randomUUID();
  assert.ok(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id), id);
  assert.ok(crypto.randomUUID() !== id);
  const a = new Uint32Array(4);
  assert.ok(crypto.getRandomValues(a) === a);
  assert.throws(() => crypto.getRandomValues(new Float32Array(2)), 'TypeMismatchError');
  assert.throws(() => crypto.getRandomValues(new Uint8Array(65537)), 'QuotaExceededError');
});
