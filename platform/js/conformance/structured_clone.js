import { test, assert } from './_harness.js';

test('structuredClone copies Map, Set, Date and RegExp', () => {
  const src = {m: new Map([[1, {a: 1}]]), s: new Set(['x', 'y']), d: new Date(86400000),
    r: /ab+c/gi};
  const c = structuredClone(src);
  assert.ok(c.m instanceof Map && c.m !== src.m);
  assert.deepEqual(c.m.get(1), {a: 1});
  assert.ok(c.m.get(1) !== src.m.get(1));
  assert.deepEqual([...c.s], ['x', 'y']);
  assert.equal(c.d.toISOString(), '1970-01-02T00:00:00.000Z');
  assert.equal(c.r.source, 'ab+c');
  assert.equal(c.r.flags, 'gi');
});

test('structuredClone copies typed arrays and shares buffers once', () => {
  const buf = new ArrayBuffer(8);
  const a = new Uint8Array(buf, 2, 4);
  a.set([1, 2, 3, 4]);
  const f = new Float64Array([1.5, -0]);
  const c = structuredClone({a, b: new Uint16Array(buf), f, big: new BigInt64Array([5n])});
  assert.deepEqual([...c.a], [1, 2, 3, 4]);
  assert.equal(c.a.byteOffset, 2);
  assert.ok(c.a.buffer === c.b.buffer, 'views of one buffer stay views of one (new) buffer');
  assert.ok(c.a.buffer !== buf);
  assert.ok(Object.is(c.f[1], -0));
  assert.equal(c.big[0], 5n);
});

test('structuredClone keeps cycles and shared references', () => {
  const o = {name: 'root'};
  o.self = o;
  o.list = [o, o];
  const c = structuredClone(o);
  assert.ok(c !== o);
  assert.ok(c.self === c);
  assert.ok(c.list[0] === c && c.list[1] === c);
});

test('structuredClone throws DataCloneError for functions and symbols', () => {
  const e = assert.throws(() => structuredClone({f() {}}), 'DataCloneError');
  assert.ok(e instanceof DOMException);
  assert.equal(e.code, 25);
  assert.throws(() => structuredClone(Symbol('s')), 'DataCloneError');
  assert.throws(() => structuredClone(), TypeError);
});

test('structuredClone drops prototypes and clones errors and primitives', () => {
  class Point { constructor() { this.x = 1; } get y() { return 2; } }
  const p = structuredClone(new Point());
  assert.equal(Object.getPrototypeOf(p), Object.prototype);
  assert.deepEqual(p, {x: 1});
  const err = structuredClone(new RangeError('bad'));
  assert.ok(err instanceof RangeError);
  assert.equal(err.message, 'bad');
  assert.equal(structuredClone(undefined), undefined);
  assert.equal(structuredClone(12n), 12n);
  assert.equal(structuredClone('s'), 's');
  const wrapped = structuredClone(new String('w'));
  assert.equal(typeof wrapped, 'object');
  assert.equal(String(wrapped), 'w');
});
