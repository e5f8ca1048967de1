import { copyBytes } from '../ring/shared-copy.js';
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
 * time; a copy then costs one bulk copy per run it touches.
 */
export class PagedBuffer {
  readonly byteLength: number;
  /** Pages of guest memory this buffer covers (with repeats, if a PFN is listed twice). */
  readonly pageCount: number;
  readonly #memory: GuestMemory;
  // The validated private copy of the ranges. Never handed out, so never frozen (V8 reads frozen arrays slower).
  readonly #copy: readonly GpaRange[];
  // Run i covers buffer offsets [#runStarts[i], #runStarts[i] + #runViews[i].length).
  readonly #runStarts: number[] = [];
  readonly #runViews: Uint8Array[] = [];
  #frozenRanges: readonly GpaRange[] | undefined;
  #pageViews: readonly Uint8Array[] | undefined;

  private constructor(memory: GuestMemory, copy: readonly GpaRange[]) {
    this.#memory = memory;
    this.#copy = copy;
    // One pass over the validated PFNs, extending the current run while the next page follows on in guest memory.
    let byteLength = 0;
    let pageCount = 0;
    let runGpa = 0;
    let runEnd = -1;
    let runStart = 0;
    for (const { byteOffset, byteCount, pfns } of copy) {
      let pageOffset = byteOffset;
      let left = byteCount;
      for (let i = 0; i < pfns.length; i++) {
        const gpa = (pfns[i] as number) * PAGE_SIZE + pageOffset;
        const length = Math.min(left, PAGE_SIZE - pageOffset);
        if (gpa !== runEnd) {
          if (runEnd >= 0) this.#addRun(runStart, runGpa, runEnd - runGpa);
          runGpa = gpa;
          runStart = byteLength;
        }
        runEnd = gpa + length;
        byteLength += length;
        left -= length;
        pageOffset = 0;
      }
      pageCount += pfns.length;
    }
    this.#addRun(runStart, runGpa, runEnd - runGpa);
    this.byteLength = byteLength;
    this.pageCount = pageCount;
  }

  /** Copies and validates `ranges` (peer input) and builds the buffer over them. */
  static fromRanges(memory: GuestMemory, ranges: readonly GpaRange[]): PagedBuffer | MemoryError {
    const copy = copyGpaRanges(ranges);
    return validateGpaRanges(copy, memory) ?? new PagedBuffer(memory, copy);
  }

  /** The validated ranges, as copied at build time (a frozen copy, made on first use: the copy paths never need it). */
  get ranges(): readonly GpaRange[] {
    this.#frozenRanges ??= Object.freeze(
      this.#copy.map(({ byteOffset, byteCount, pfns }) => Object.freeze({ byteOffset, byteCount, pfns: Object.freeze([...pfns]) })),
    );
    return this.#frozenRanges;
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
    this.#forEachRun(offset, target.length, (view, inner, take, done) =>
      copyBytes(target, done, inner === 0 && take === view.length ? view : view.subarray(inner, inner + take)),
    );
    return undefined;
  }

  /** Copies all of `source` into the buffer at `offset`. */
  copyFrom(offset: number, source: Uint8Array): MemoryError | undefined {
    const error = this.checkRange(offset, source.length);
    if (error !== undefined) return error;
    this.#forEachRun(offset, source.length, (view, inner, take, done) =>
      copyBytes(view, inner, done === 0 && take === source.length ? source : source.subarray(done, done + take)),
    );
    return undefined;
  }

  /**
   * One 4096-byte view per page, in buffer order (what `PagedRingMemory`
   * takes). Only for buffers made of whole pages: every range at offset 0
   * with a byte count that is a multiple of the page size.
   */
  pageViews(): readonly Uint8Array[] | MemoryError {
    if (this.#pageViews === undefined) {
      if (this.#copy.some((r) => r.byteOffset !== 0 || r.byteCount % PAGE_SIZE !== 0)) {
        return memoryError('unaligned', 'page views need ranges of whole pages');
      }
      this.#pageViews = Object.freeze(this.#copy.flatMap((r) => r.pfns.map((pfn) => this.#memory.pageView(pfn))));
    }
    return this.#pageViews;
  }

  // A whole aligned page reuses guest memory's cached page view, so scattered pages cost no view each.
  #addRun(start: number, gpa: number, length: number): void {
    this.#runStarts.push(start);
    const whole = length === PAGE_SIZE && gpa % PAGE_SIZE === 0;
    this.#runViews.push(whole ? this.#memory.pageView(gpa / PAGE_SIZE) : this.#memory.view(gpa, length));
  }

  // Calls `visit` for each run piece of [offset, offset + length): the run's view, where the piece
  // starts in it, its length, and how many bytes precede it in the request. The range is already checked.
  #forEachRun(offset: number, length: number, visit: (view: Uint8Array, inner: number, take: number, done: number) => void): void {
    let run = this.#runAt(offset);
    let inner = offset - (this.#runStarts[run] ?? 0);
    let done = 0;
    while (done < length) {
      const view = this.#runViews[run] as Uint8Array;
      const take = Math.min(view.length - inner, length - done);
      visit(view, inner, take, done);
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
