import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import type { GpaRange } from '../../src/memory/gpa-range.js';
import { MemoryError } from '../../src/memory/memory-error.js';
import { PagedBuffer } from '../../src/memory/paged-buffer.js';

// Every byte of page p holds p * 16 + (offset % 16): a read shows which page and offset it came from.
function patternedMemory(pages: number): GuestMemory {
  const memory = new GuestMemory(pages);
  for (let pfn = 0; pfn < pages; pfn++) {
    const view = memory.pageView(pfn);
    for (let i = 0; i < view.length; i++) view[i] = (pfn * 16 + (i % 16)) & 0xff;
  }
  return memory;
}

function build(memory: GuestMemory, ranges: GpaRange[]): PagedBuffer {
  const buffer = PagedBuffer.fromRanges(memory, ranges);
  assert.ok(buffer instanceof PagedBuffer, String(buffer));
  return buffer;
}

test('the byte space is the ranges one after another, each from its offset', () => {
  const memory = patternedMemory(8);
  const buffer = build(memory, [
    { byteOffset: 4094, byteCount: 4, pfns: [5, 2] },
    { byteOffset: 3, byteCount: 2, pfns: [7] },
  ]);
  assert.equal(buffer.byteLength, 6);
  assert.equal(buffer.pageCount, 3);
  const out = new Uint8Array(6);
  assert.equal(buffer.copyTo(0, out), undefined);
  // page 5 @4094,4095 → 0x5e,0x5f; page 2 @0,1 → 0x20,0x21; page 7 @3,4 → 0x73,0x74
  assert.deepEqual(out, Uint8Array.of(0x5e, 0x5f, 0x20, 0x21, 0x73, 0x74));
});

test('adjacent PFNs are merged into one run, across ranges too', () => {
  const memory = new GuestMemory(16);
  assert.equal(build(memory, [{ byteOffset: 0, byteCount: 4 * 4096, pfns: [3, 4, 5, 6] }]).runCount, 1);
  assert.equal(build(memory, [{ byteOffset: 0, byteCount: 4 * 4096, pfns: [3, 4, 9, 10] }]).runCount, 2);
  assert.equal(build(memory, [{ byteOffset: 0, byteCount: 3 * 4096, pfns: [6, 5, 4] }]).runCount, 3);
  const joined = build(memory, [
    { byteOffset: 0, byteCount: 4096, pfns: [3] },
    { byteOffset: 0, byteCount: 100, pfns: [4] },
  ]);
  assert.equal(joined.runCount, 1);
  // A range that stops inside its page does not run on into the next range's page.
  const split = build(memory, [
    { byteOffset: 0, byteCount: 100, pfns: [3] },
    { byteOffset: 0, byteCount: 100, pfns: [4] },
  ]);
  assert.equal(split.runCount, 2);
});

test('copyFrom writes only the granted bytes, across run boundaries', () => {
  const memory = new GuestMemory(8);
  const buffer = build(memory, [{ byteOffset: 4000, byteCount: 4096 + 200, pfns: [2, 5, 6] }]);
  const source = new Uint8Array(buffer.byteLength).fill(0xcc);
  assert.equal(buffer.copyFrom(0, source), undefined);
  const everything = memory.read(0, memory.byteLength) as Uint8Array;
  const written = everything.reduce((n, b) => n + (b === 0xcc ? 1 : 0), 0);
  assert.equal(written, 4296);
  assert.ok(memory.pageView(2).subarray(4000).every((b) => b === 0xcc));
  assert.equal(memory.pageView(2)[3999], 0);
  assert.ok(memory.pageView(5).every((b) => b === 0xcc));
  assert.ok(memory.pageView(6).subarray(0, 104).every((b) => b === 0xcc));
  assert.equal(memory.pageView(6)[104], 0);
});

test('copies starting and ending inside runs move exactly the asked bytes', () => {
  const memory = patternedMemory(8);
  const buffer = build(memory, [{ byteOffset: 0, byteCount: 3 * 4096, pfns: [1, 2, 6] }]);
  const out = new Uint8Array(4);
  assert.equal(buffer.copyTo(2 * 4096 - 2, out), undefined);
  assert.deepEqual(out, Uint8Array.of(0x2e, 0x2f, 0x60, 0x61));
  assert.equal(buffer.copyFrom(4096 + 1, Uint8Array.of(9)), undefined);
  assert.equal(memory.pageView(2)[1], 9);
});

test('accesses outside the byte space return out-of-range and touch nothing', () => {
  const memory = new GuestMemory(4);
  const buffer = build(memory, [{ byteOffset: 10, byteCount: 20, pfns: [1] }]);
  for (const [offset, length] of [
    [20, 11],
    [30, 1],
    [-1, 1],
    [0, 21],
    [1.5, 1],
  ] as const) {
    assert.equal(buffer.copyTo(offset, new Uint8Array(length))?.code, 'out-of-range', `${offset}+${length}`);
    assert.equal(buffer.copyFrom(offset, new Uint8Array(length).fill(1))?.code, 'out-of-range');
  }
  assert.ok(memory.pageView(1).every((b) => b === 0));
  assert.equal(buffer.copyTo(20, new Uint8Array(0)), undefined);
});

test('fromRanges validates the ranges and copies them', () => {
  const memory = new GuestMemory(4);
  const bad = PagedBuffer.fromRanges(memory, [{ byteOffset: 0, byteCount: 4096, pfns: [4] }]);
  assert.ok(bad instanceof MemoryError && bad.code === 'out-of-range');
  const pfns = [1];
  const buffer = build(memory, [{ byteOffset: 0, byteCount: 4096, pfns }]);
  pfns[0] = 3;
  assert.deepEqual(buffer.ranges[0]?.pfns, [1]);
});

test('pageViews lists the page views in order for whole-page buffers only', () => {
  const memory = new GuestMemory(8);
  const buffer = build(memory, [
    { byteOffset: 0, byteCount: 2 * 4096, pfns: [4, 1] },
    { byteOffset: 0, byteCount: 4096, pfns: [6] },
  ]);
  const views = buffer.pageViews();
  assert.ok(Array.isArray(views));
  const expected = [memory.pageView(4), memory.pageView(1), memory.pageView(6)];
  assert.equal(views.length, 3);
  assert.ok(views.every((view, i) => view === expected[i]), 'the cached views of the listed pages, in order');
  assert.equal(buffer.pageViews(), views, 'cached');
  for (const ranges of [
    [{ byteOffset: 1, byteCount: 4095, pfns: [1] }],
    [{ byteOffset: 0, byteCount: 4095, pfns: [1] }],
  ]) {
    const result = build(memory, ranges).pageViews();
    assert.ok(result instanceof MemoryError && result.code === 'unaligned');
  }
});

test('fromRanges reports the first bad range in list order, as validateGpaRanges does', () => {
  const memory = new GuestMemory(4);
  const badPfnFirst = PagedBuffer.fromRanges(memory, [
    { byteOffset: 0, byteCount: 4096, pfns: [9] },
    { byteOffset: 0, byteCount: 0, pfns: [1] },
  ]);
  assert.ok(badPfnFirst instanceof MemoryError && badPfnFirst.code === 'out-of-range');
  const badShapeFirst = PagedBuffer.fromRanges(memory, [
    { byteOffset: 0, byteCount: 4096, pfns: [1, 2] },
    { byteOffset: 0, byteCount: 4096, pfns: [9] },
  ]);
  assert.ok(badShapeFirst instanceof MemoryError && badShapeFirst.code === 'page-count-mismatch');
  const empty = PagedBuffer.fromRanges(memory, []);
  assert.ok(empty instanceof MemoryError && empty.code === 'zero-length');
});

test('frozen page lists are taken as given, and ranges hands out frozen copies', () => {
  const memory = patternedMemory(8);
  const pfns = Object.freeze([6, 2, 3]);
  const buffer = build(memory, [{ byteOffset: 4095, byteCount: 4098, pfns }]);
  assert.equal(buffer.runCount, 2);
  const out = new Uint8Array(4098);
  assert.equal(buffer.copyTo(0, out), undefined);
  assert.deepEqual([out[0], out[1], out[4096], out[4097]], [0x6f, 0x20, 0x2f, 0x30]);
  const [range] = buffer.ranges;
  assert.deepEqual(range, { byteOffset: 4095, byteCount: 4098, pfns: [6, 2, 3] });
  assert.ok(Object.isFrozen(range) && Object.isFrozen(range?.pfns));
  assert.notEqual(range?.pfns, pfns);
});
