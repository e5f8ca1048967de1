import type { GuestMemory } from './guest-memory.js';
import { copyGpaRanges, validateGpaRanges } from './gpa-range.js';
import type { GpaRange } from './gpa-range.js';
import { memoryError } from './memory-error.js';
import type { MemoryError } from './memory-error.js';
import { PAGE_SIZE, isIndex } from './page.js';

/**
 * The byte space described by a list of GPA ranges (a GPADL, the external data
 * of a GPA-direct packet): the ranges' bytes one after another, offset 0 being
 * the first range's first byte. Built only from ranges it has copied and
 * validated, so no access through it can leave the pages it was granted.
 *
 * Pages that are adjacent in guest memory are merged into one run at build
 * time; a copy then costs one `Uint8Array.set` per run it touches.
 */
export class PagedBuffer {
  readonly byteLength: number;
  /** Pages of guest memory this buffer covers (with repeats, if a PFN is listed twice). */
  readonly pageCount: number;
  readonly #memory: GuestMemory;
  readonly #ranges: readonly GpaRange[];
  // Run i covers buffer offsets [#runStarts[i], #runStarts[i] + #runViews[i].length).
  readonly #runStarts: number[];
  readonly #runViews: Uint8Array[];
  #pageViews: readonly Uint8Array[] | undefined;

  private constructor(memory: GuestMemory, ranges: readonly GpaRange[]) {
    this.#memory = memory;
    this.#ranges = ranges;
    const starts: number[] = [];
    const runs: { gpa: number; length: number }[] = [];
    let byteLength = 0;
    let pageCount = 0;
    for (const { byteOffset, byteCount, pfns } of ranges) {
      let pageOffset = byteOffset;
      let left = byteCount;
      for (const pfn of pfns) {
        const gpa = pfn * PAGE_SIZE + pageOffset;
        const length = Math.min(left, PAGE_SIZE - pageOffset);
        const previous = runs[runs.length - 1];
        if (previous !== undefined && previous.gpa + previous.length === gpa) {
          previous.length += length;
        } else {
          starts.push(byteLength);
          runs.push({ gpa, length });
        }
        byteLength += length;
        left -= length;
        pageOffset = 0;
      }
      pageCount += pfns.length;
    }
    this.byteLength = byteLength;
    this.pageCount = pageCount;
    this.#runStarts = starts;
    this.#runViews = runs.map(({ gpa, length }) => memory.view(gpa, length));
    this.#pageViews = undefined;
  }

  /** Copies and validates `ranges` (peer input) and builds the buffer over them. */
  static fromRanges(memory: GuestMemory, ranges: readonly GpaRange[]): PagedBuffer | MemoryError {
    const copy = copyGpaRanges(ranges);
    return validateGpaRanges(copy, memory) ?? new PagedBuffer(memory, Object.freeze(copy));
  }

  /** The validated ranges, as copied at build time. */
  get ranges(): readonly GpaRange[] {
    return this.#ranges;
  }

  /** Number of contiguous runs of guest memory (what a copy across the whole buffer costs). */
  get runCount(): number {
    return this.#runViews.length;
  }

  /** Checks that `[offset, offset + length)` lies inside the buffer. */
  checkRange(offset: number, length: number): MemoryError | undefined {
    if (!isIndex(offset) || !isIndex(length) || offset + length > this.byteLength) {
      return memoryError('out-of-range', `range ${offset}+${length} is outside a ${this.byteLength}-byte buffer`);
    }
    return undefined;
  }

  /** Copies `target.length` bytes starting at buffer `offset` into `target`. */
  copyTo(offset: number, target: Uint8Array): MemoryError | undefined {
    const error = this.checkRange(offset, target.length);
    if (error !== undefined) return error;
    this.#forEachRun(offset, target.length, (run, done) => target.set(run, done));
    return undefined;
  }

  /** Copies all of `source` into the buffer at `offset`. */
  copyFrom(offset: number, source: Uint8Array): MemoryError | undefined {
    const error = this.checkRange(offset, source.length);
    if (error !== undefined) return error;
    this.#forEachRun(offset, source.length, (run, done) => run.set(source.subarray(done, done + run.length)));
    return undefined;
  }

  /**
   * One 4096-byte view per page, in buffer order (what `PagedRingMemory`
   * takes). Only for buffers made of whole pages: every range at offset 0
   * with a byte count that is a multiple of the page size.
   */
  pageViews(): readonly Uint8Array[] | MemoryError {
    if (this.#pageViews === undefined) {
      if (this.#ranges.some((r) => r.byteOffset !== 0 || r.byteCount % PAGE_SIZE !== 0)) {
        return memoryError('unaligned', 'page views need ranges of whole pages');
      }
      this.#pageViews = Object.freeze(this.#ranges.flatMap((r) => r.pfns.map((pfn) => this.#memory.pageView(pfn))));
    }
    return this.#pageViews;
  }

  // Calls `visit` with the live view of each run piece of [offset, offset + length)
  // and how many bytes precede it in the request. The range is already checked.
  #forEachRun(offset: number, length: number, visit: (run: Uint8Array, done: number) => void): void {
    let run = this.#runAt(offset);
    let inner = offset - (this.#runStarts[run] ?? 0);
    let done = 0;
    while (done < length) {
      const view = this.#runViews[run] as Uint8Array;
      const take = Math.min(view.length - inner, length - done);
      visit(inner === 0 && take === view.length ? view : view.subarray(inner, inner + take), done);
      done += take;
      run++;
      inner = 0;
    }
  }

  // Index of the run holding buffer `offset` (binary search over run starts).
  #runAt(offset: number): number {
    let low = 0;
    let high = this.#runStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.#runStarts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low;
  }
}
