import type { GuestMemory } from './guest-memory.js';
import { MemoryError, memoryError } from './memory-error.js';
import { isIndex } from './page.js';

/**
 * Where the pages of one allocation lie:
 * - `any`: the lowest free pages, adjacent where they happen to be;
 * - `contiguous`: one run of adjacent pages (the buffer is also contiguous in GPA space);
 * - `scattered`: the highest free pages in descending order, so no entry is
 *   followed by the page after it and every page boundary of the buffer is a
 *   break in guest memory. Tests use it to drive every page-crossing path.
 */
export type PagePlacement = 'any' | 'contiguous' | 'scattered';

/** Options of a `PageAllocator`. */
export interface PageAllocatorOptions {
  /**
   * First PFN handed out (default 1). PFN 0 is kept back because VMBus uses
   * GPA 0 to mean "no page" (e.g. the monitor pages of INITIATE_CONTACT,
   * openvmm-vmbus.md §3.2 "monitor pages must be both set or both zero").
   */
  readonly firstPfn?: number;
}

/**
 * The guest's page allocator over its `GuestMemory`. State is local to the
 * realm that owns the guest partition; another thread attached to the same
 * memory does not allocate from it. Pages are zeroed when handed out so a
 * reused ring page never shows stale contents.
 */
export class PageAllocator {
  readonly #memory: GuestMemory;
  readonly #firstPfn: number;
  // 1 = allocated; indexed by PFN.
  readonly #allocated: Uint8Array;
  #freeCount: number;

  constructor(memory: GuestMemory, options: PageAllocatorOptions = {}) {
    const firstPfn = options.firstPfn ?? 1;
    if (!isIndex(firstPfn) || firstPfn >= memory.pageCount) {
      throw new MemoryError('out-of-range', `first PFN ${firstPfn} is outside ${memory.pageCount} pages`);
    }
    this.#memory = memory;
    this.#firstPfn = firstPfn;
    this.#allocated = new Uint8Array(memory.pageCount);
    this.#freeCount = memory.pageCount - firstPfn;
  }

  /** Pages available for allocation. */
  get freePageCount(): number {
    return this.#freeCount;
  }

  /** Pages handed out and not freed (leak accounting). */
  get allocatedPageCount(): number {
    return this.#memory.pageCount - this.#firstPfn - this.#freeCount;
  }

  /** Allocates `count` zeroed pages; `no-memory` when they cannot be found. Throws on a count that is not a positive integer. */
  allocate(count: number, placement: PagePlacement = 'any'): number[] | MemoryError {
    if (!isIndex(count) || count === 0) {
      throw new MemoryError('out-of-range', `page count must be a positive integer, got ${count}`);
    }
    if (count > this.#freeCount) {
      return memoryError('no-memory', `${count} pages requested, ${this.#freeCount} free`);
    }
    const pfns = placement === 'contiguous' ? this.#findRun(count) : this.#findFree(count, placement === 'scattered');
    if (pfns === undefined) {
      return memoryError('no-memory', `no run of ${count} adjacent free pages`);
    }
    for (const pfn of pfns) {
      this.#allocated[pfn] = 1;
      this.#memory.pageView(pfn).fill(0);
    }
    this.#freeCount -= count;
    return pfns;
  }

  /**
   * Frees pages handed out by `allocate`, all or none: a page outside this
   * allocator (`foreign-pfn`) or not allocated (`double-free`) throws and
   * frees nothing.
   */
  free(pfns: readonly number[]): void {
    const seen = new Set<number>();
    for (const pfn of pfns) {
      if (!isIndex(pfn) || pfn < this.#firstPfn || pfn >= this.#allocated.length) {
        throw new MemoryError('foreign-pfn', `PFN ${pfn} does not belong to this allocator`);
      }
      if (this.#allocated[pfn] === 0 || seen.has(pfn)) {
        throw new MemoryError('double-free', `PFN ${pfn} is not allocated`);
      }
      seen.add(pfn);
    }
    for (const pfn of pfns) this.#allocated[pfn] = 0;
    this.#freeCount += pfns.length;
  }

  #findRun(count: number): number[] | undefined {
    let runStart = this.#firstPfn;
    for (let pfn = this.#firstPfn; pfn < this.#allocated.length; pfn++) {
      if (this.#allocated[pfn] === 1) {
        runStart = pfn + 1;
      } else if (pfn - runStart + 1 === count) {
        return Array.from({ length: count }, (_, i) => runStart + i);
      }
    }
    return undefined;
  }

  // The caller checked that `count` pages are free, so the scan always fills the list.
  #findFree(count: number, descending: boolean): number[] {
    const pfns: number[] = [];
    const last = this.#allocated.length - 1;
    for (let i = 0; pfns.length < count; i++) {
      const pfn = descending ? last - i : this.#firstPfn + i;
      if (this.#allocated[pfn] === 0) pfns.push(pfn);
    }
    return pfns;
  }
}
