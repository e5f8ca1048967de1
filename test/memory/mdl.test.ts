import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { MemoryError } from '../../src/memory/memory-error.js';
import { Mdl } from '../../src/memory/mdl.js';
import { PagedBuffer } from '../../src/memory/paged-buffer.js';

test('fromBuffer splits a GPA into first-page offset and the adjacent PFNs spanned', () => {
  const mdl = Mdl.fromBuffer(3 * 4096 + 100, 8000);
  assert.equal(mdl.byteOffset, 100);
  assert.equal(mdl.byteCount, 8000);
  assert.deepEqual(mdl.pfns, [3, 4]);
  assert.deepEqual(Mdl.fromBuffer(2 ** 40, 1).pfns, [2 ** 28]);
  assert.throws(() => Mdl.fromBuffer(-4096, 1), MemoryError);
  assert.throws(() => Mdl.fromBuffer(0, 0.5), MemoryError);
});

test('fromPfns covers all listed pages from the offset unless told otherwise', () => {
  const mdl = Mdl.fromPfns([9, 2, 5], 10);
  assert.equal(mdl.byteCount, 3 * 4096 - 10);
  assert.equal(Mdl.fromPfns([9, 2, 5], 0, 5000).byteCount, 5000);
});

test('the PFN list is copied and frozen', () => {
  const pfns = [1, 2];
  const mdl = Mdl.fromPfns(pfns);
  pfns[0] = 7;
  assert.deepEqual(mdl.pfns, [1, 2]);
  assert.ok(Object.isFrozen(mdl.pfns));
});

test('chain links pieces in order and sums their byte counts', () => {
  const a = Mdl.fromPfns([1], 0, 100);
  const b = Mdl.fromPfns([2], 4000, 96);
  const head = Mdl.chain([a, b, Mdl.fromPfns([3])]);
  assert.deepEqual([...head.pieces()].map((p) => p.pfns[0]), [1, 2, 3]);
  assert.equal(head.chainByteCount, 100 + 96 + 4096);
  assert.equal(a.next, undefined, 'the input pieces are not modified');
  assert.throws(() => Mdl.chain([]), MemoryError);
});

test('validate accepts well-formed chains and extra trailing PFNs', () => {
  const memory = new GuestMemory(8);
  assert.equal(Mdl.fromBuffer(4096 + 4095, 2).validate(memory), undefined);
  assert.equal(new Mdl(0, 10, [1, 7]).validate(memory), undefined); // PFN 7 not used
  assert.equal(new Mdl(0, 10, [1, 99]).validate(memory), undefined); // unused PFN is not checked
});

test('validate reports the first bad piece of a chain', () => {
  const memory = new GuestMemory(8);
  const cases: [Mdl, string][] = [
    [new Mdl(4096, 1, [1, 2]), 'bad-page-offset'],
    [new Mdl(-1, 1, [1]), 'bad-page-offset'],
    [new Mdl(0.5, 1, [1]), 'bad-page-offset'],
    [new Mdl(0, 0, [1]), 'zero-length'],
    [new Mdl(0, -1, [1]), 'out-of-range'],
    [new Mdl(0, 4097, [1]), 'too-few-pages'],
    [new Mdl(4095, 2, [1]), 'too-few-pages'],
    [new Mdl(0, 10, []), 'too-few-pages'],
    [new Mdl(0, 4097, [1, 8]), 'out-of-range'],
    [new Mdl(0, 1, [1], new Mdl(5000, 1, [1, 2])), 'bad-page-offset'], // bad second piece
    [Mdl.fromPfns([1], 8000), 'bad-page-offset'],
  ];
  for (const [mdl, code] of cases) {
    assert.equal(mdl.validate(memory)?.code, code, JSON.stringify([mdl.byteOffset, mdl.byteCount, mdl.pfns]));
  }
  assert.equal(new Mdl(0, 4097, [1, 8]).validate(), undefined, 'PFNs are checked only against a memory');
});

test('toGpaRanges of a single MDL slices by offset and length', () => {
  const mdl = Mdl.fromPfns([10, 20, 30, 40], 100, 4 * 4096 - 200);
  assert.deepEqual(mdl.toGpaRanges(), [{ byteOffset: 100, byteCount: 4 * 4096 - 200, pfns: [10, 20, 30, 40] }]);
  // 4000 bytes into the MDL is 4100 into page 10's run: page 20 at offset 4.
  assert.deepEqual(mdl.toGpaRanges(4000, 5000), [{ byteOffset: 4, byteCount: 5000, pfns: [20, 30] }]);
  assert.deepEqual(mdl.toGpaRanges(3995, 1), [{ byteOffset: 4095, byteCount: 1, pfns: [10] }]);
  assert.deepEqual(mdl.toGpaRanges(3996, 1), [{ byteOffset: 0, byteCount: 1, pfns: [20] }]);
  assert.deepEqual(mdl.toGpaRanges(4 * 4096 - 201), [{ byteOffset: 3995, byteCount: 1, pfns: [40] }]);
});

test('toGpaRanges across a chain joins page-aligned seams into one range', () => {
  const chain = Mdl.chain([Mdl.fromPfns([1, 2], 512), Mdl.fromPfns([7]), Mdl.fromPfns([9], 0, 100), Mdl.fromPfns([4], 0, 8)]);
  assert.deepEqual(chain.toGpaRanges(), [
    // piece 1 ends on a page boundary and pieces 2 and 3 start on one: one range
    { byteOffset: 512, byteCount: 2 * 4096 - 512 + 4096 + 100, pfns: [1, 2, 7, 9] },
    // piece 3 ends inside page 9, so piece 4 needs its own range though it starts on a page boundary
    { byteOffset: 0, byteCount: 8, pfns: [4] },
  ]);
  // Skip the first piece entirely and stop inside the third.
  assert.deepEqual(chain.toGpaRanges(2 * 4096 - 512 + 4000, 150), [{ byteOffset: 4000, byteCount: 150, pfns: [7, 9] }]);
  assert.deepEqual(chain.toGpaRanges(2 * 4096 - 512 + 4096 + 100, 8), [{ byteOffset: 0, byteCount: 8, pfns: [4] }]);
});

test('toGpaRanges of an MDL reads the same bytes as the MDL describes', () => {
  const memory = new GuestMemory(8);
  for (let pfn = 0; pfn < 8; pfn++) memory.pageView(pfn).fill(pfn);
  const chain = Mdl.chain([Mdl.fromPfns([5], 4000, 96), Mdl.fromPfns([2, 3], 0, 4097)]);
  const ranges = chain.toGpaRanges(90, 10);
  assert.ok(Array.isArray(ranges));
  const buffer = PagedBuffer.fromRanges(memory, ranges);
  assert.ok(buffer instanceof PagedBuffer);
  const out = new Uint8Array(10);
  buffer.copyTo(0, out);
  assert.deepEqual(out, Uint8Array.of(5, 5, 5, 5, 5, 5, 2, 2, 2, 2));
});

test('toGpaRanges refuses invalid MDLs and slices outside the chain', () => {
  const mdl = Mdl.fromPfns([1, 2], 0, 5000);
  const cases: [Mdl, number, number | undefined, string][] = [
    [mdl, 0, 5001, 'out-of-range'],
    [mdl, 5001, undefined, 'out-of-range'],
    [mdl, 4999, 2, 'out-of-range'],
    [mdl, -1, 1, 'out-of-range'],
    [mdl, 0, 0, 'zero-length'],
    [mdl, 5000, undefined, 'zero-length'],
    [new Mdl(0, 5000, [1]), 0, undefined, 'too-few-pages'],
  ];
  for (const [m, offset, length, code] of cases) {
    const result = m.toGpaRanges(offset, length);
    assert.ok(result instanceof MemoryError, `${offset}+${length}`);
    assert.equal(result.code, code, `${offset}+${length}`);
  }
});

test('toGpaRanges joins page-aligned pieces however long their page lists', () => {
  // 150,000 PFNs each: more than one push(...list) can take as arguments.
  const pages = 150_000;
  const first = Mdl.fromPfns(Array.from({ length: pages }, (_, i) => i));
  const second = Mdl.fromPfns(Array.from({ length: pages }, (_, i) => pages + i));
  const ranges = Mdl.chain([first, second]).toGpaRanges();
  assert.ok(Array.isArray(ranges));
  assert.equal(ranges.length, 1);
  assert.equal(ranges[0]?.byteCount, 2 * pages * 4096);
  assert.equal(ranges[0]?.pfns.length, 2 * pages);
  assert.equal(ranges[0]?.pfns[pages], pages);
});

test('fromGpaRanges chains one piece per range, the inverse of toGpaRanges', () => {
  const ranges = [
    { byteOffset: 100, byteCount: 5000, pfns: [7, 3] },
    { byteOffset: 0, byteCount: 10, pfns: [5] },
  ];
  const chain = Mdl.fromGpaRanges(ranges);
  assert.deepEqual([...chain.pieces()].map((p) => [p.byteOffset, p.byteCount, [...p.pfns]]), [
    [100, 5000, [7, 3]],
    [0, 10, [5]],
  ]);
  assert.deepEqual(chain.toGpaRanges(), ranges);
  assert.throws(() => Mdl.fromGpaRanges([]), MemoryError);
});
