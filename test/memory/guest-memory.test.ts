import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { MemoryError } from '../../src/memory/memory-error.js';
import { PAGE_SIZE, pfnOf } from '../../src/memory/page.js';

// VMBus describes memory in 4 KiB pages, PFN = GPA >> 12 (linux-vmbus.md, `gpa_range` row: "PFNs in 4 KiB Hyper-V pages").
test('page size is 4096 and pfnOf follows it', () => {
  assert.equal(PAGE_SIZE, 4096);
  assert.equal(pfnOf(0x3fff), 3);
  assert.equal(pfnOf(0x4000), 4);
  assert.equal(pfnOf(2 ** 40 + 5), 2 ** 28); // GPAs beyond 2^32 do not wrap
});

test('new memory has the requested pages, zeroed, in a SharedArrayBuffer', () => {
  const memory = new GuestMemory(4);
  assert.ok(memory.buffer instanceof SharedArrayBuffer);
  assert.equal(memory.pageCount, 4);
  assert.equal(memory.byteLength, 4 * 4096);
  assert.ok(memory.pageView(3).every((b) => b === 0));
});

test('construction rejects a bad page count and a buffer that is not whole pages', () => {
  for (const count of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => new GuestMemory(count), (e: unknown) => e instanceof MemoryError && e.code === 'out-of-range');
  }
  for (const bytes of [0, 4095, 4097]) {
    assert.throws(
      () => new GuestMemory(new SharedArrayBuffer(bytes)),
      (e: unknown) => e instanceof MemoryError && e.code === 'unaligned',
    );
  }
});

test('hasPfn accepts exactly the pages of the memory', () => {
  const memory = new GuestMemory(2);
  assert.deepEqual([0, 1, 2, -1, 0.5, Number.NaN].map((p) => memory.hasPfn(p)), [true, true, false, false, false, false]);
});

test('pageView is a cached 4096-byte view of its page', () => {
  const memory = new GuestMemory(3);
  const view = memory.pageView(2);
  assert.equal(view.length, 4096);
  assert.equal(view.byteOffset, 2 * 4096);
  assert.equal(memory.pageView(2), view);
  view[7] = 0xab;
  assert.deepEqual(memory.read(2 * 4096 + 7, 1), Uint8Array.of(0xab));
});

test('pageView throws on a PFN outside the memory', () => {
  const memory = new GuestMemory(3);
  for (const pfn of [3, -1, 1.5, 1e12]) {
    assert.throws(() => memory.pageView(pfn), (e: unknown) => e instanceof MemoryError && e.code === 'out-of-range');
  }
});

test('read and write by GPA cross page boundaries and return copies', () => {
  const memory = new GuestMemory(3);
  assert.equal(memory.write(4096 - 2, Uint8Array.of(1, 2, 3, 4)), undefined);
  assert.deepEqual(memory.pageView(0).subarray(4094), Uint8Array.of(1, 2));
  assert.deepEqual(memory.pageView(1).subarray(0, 2), Uint8Array.of(3, 4));
  const copy = memory.read(4094, 4);
  assert.ok(copy instanceof Uint8Array);
  copy[0] = 99;
  assert.equal(memory.pageView(0)[4094], 1);
});

test('read, write and checkRange return out-of-range for ranges leaving the memory', () => {
  const memory = new GuestMemory(2);
  const end = 2 * 4096;
  for (const [gpa, length] of [
    [end, 1],
    [end - 1, 2],
    [-1, 1],
    [0, end + 1],
    [0.5, 1],
    [0, -1],
  ] as const) {
    assert.equal(memory.checkRange(gpa, length)?.code, 'out-of-range', `${gpa}+${length}`);
    const read = memory.read(gpa, length);
    assert.ok(read instanceof MemoryError && read.code === 'out-of-range');
  }
  assert.equal(memory.write(end - 1, Uint8Array.of(1, 2))?.code, 'out-of-range');
  assert.equal(memory.pageView(1)[4095], 0, 'a refused write changes nothing');
  assert.equal(memory.checkRange(end, 0), undefined);
});

test('view is a live subarray and throws when it would leave the memory', () => {
  const memory = new GuestMemory(2);
  const view = memory.view(4000, 200);
  view[199] = 5;
  assert.equal(memory.pageView(1)[4000 + 199 - 4096], 5);
  assert.throws(() => memory.view(8000, 200), (e: unknown) => e instanceof MemoryError && e.code === 'out-of-range');
});

test('a second GuestMemory over the same buffer sees the same bytes', () => {
  const memory = new GuestMemory(2);
  const attached = new GuestMemory(memory.buffer);
  assert.equal(attached.pageCount, 2);
  memory.write(5000, Uint8Array.of(42));
  assert.deepEqual(attached.read(5000, 1), Uint8Array.of(42));
});
