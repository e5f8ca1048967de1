import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { MemoryError } from '../../src/memory/memory-error.js';
import { PageAllocator } from '../../src/memory/page-allocator.js';

function isAllocation(result: number[] | MemoryError): result is number[] {
  return Array.isArray(result);
}

test('PFN 0 is kept back by default and any-placement hands out the lowest free pages', () => {
  const allocator = new PageAllocator(new GuestMemory(8));
  assert.equal(allocator.freePageCount, 7);
  assert.deepEqual(allocator.allocate(3), [1, 2, 3]);
  assert.equal(allocator.allocatedPageCount, 3);
  assert.equal(allocator.freePageCount, 4);
});

test('firstPfn moves the reserved area', () => {
  const allocator = new PageAllocator(new GuestMemory(8), { firstPfn: 5 });
  assert.deepEqual(allocator.allocate(3), [5, 6, 7]);
  assert.throws(() => new PageAllocator(new GuestMemory(8), { firstPfn: 8 }), MemoryError);
});

test('contiguous placement finds a run of adjacent pages past fragmentation', () => {
  const allocator = new PageAllocator(new GuestMemory(10));
  const all = allocator.allocate(9);
  assert.ok(isAllocation(all));
  allocator.free([2, 4, 5, 7, 8, 9]);
  assert.deepEqual(allocator.allocate(3, 'contiguous'), [7, 8, 9]);
  const none = allocator.allocate(3, 'contiguous');
  assert.ok(none instanceof MemoryError && none.code === 'no-memory');
  assert.deepEqual(allocator.allocate(2, 'contiguous'), [4, 5]);
});

test('scattered placement never follows a page with the page after it', () => {
  const allocator = new PageAllocator(new GuestMemory(16));
  const pfns = allocator.allocate(6, 'scattered');
  assert.ok(isAllocation(pfns));
  assert.equal(new Set(pfns).size, 6);
  for (let i = 1; i < pfns.length; i++) assert.notEqual(pfns[i], (pfns[i - 1] as number) + 1);
  assert.deepEqual(pfns, [15, 14, 13, 12, 11, 10]);
});

test('allocated pages are zeroed even when a freed page is reused', () => {
  const memory = new GuestMemory(4);
  const allocator = new PageAllocator(memory);
  const [pfn] = allocator.allocate(1) as number[];
  memory.pageView(pfn as number).fill(0x55);
  allocator.free([pfn as number]);
  assert.deepEqual(allocator.allocate(1), [pfn]);
  assert.ok(memory.pageView(pfn as number).every((b) => b === 0));
});

test('asking for more pages than are free returns no-memory and allocates nothing', () => {
  const allocator = new PageAllocator(new GuestMemory(4));
  const result = allocator.allocate(4);
  assert.ok(result instanceof MemoryError && result.code === 'no-memory');
  assert.equal(allocator.freePageCount, 3);
});

test('a page count that is not a positive integer is a programming error', () => {
  const allocator = new PageAllocator(new GuestMemory(4));
  for (const count of [0, -1, 1.5]) assert.throws(() => allocator.allocate(count), MemoryError);
});

test('free rejects double frees and foreign PFNs, all or nothing', () => {
  const allocator = new PageAllocator(new GuestMemory(8));
  const pfns = allocator.allocate(3) as number[];
  const cases: [readonly number[], string][] = [
    [[0], 'foreign-pfn'], // reserved page
    [[8], 'foreign-pfn'], // past the end of memory
    [[-1], 'foreign-pfn'],
    [[1.5], 'foreign-pfn'],
    [[5], 'double-free'], // never allocated
    [[1, 1], 'double-free'], // listed twice
    [[1, 2, 6], 'double-free'], // valid pages first, then a free one
  ];
  for (const [bad, code] of cases) {
    assert.throws(() => allocator.free(bad), (e: unknown) => e instanceof MemoryError && e.code === code, String(bad));
  }
  assert.equal(allocator.allocatedPageCount, 3, 'failed frees released nothing');
  allocator.free(pfns);
  assert.equal(allocator.allocatedPageCount, 0);
  assert.throws(() => allocator.free([pfns[0] as number]), (e: unknown) => e instanceof MemoryError && e.code === 'double-free');
});
