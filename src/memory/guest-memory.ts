import { copyBytes } from '../ring/shared-copy.js';
import { MemoryError, memoryError } from './memory-error.js';
import { PAGE_SIZE, isIndex } from './page.js';

/**
 * Guest physical memory: whole 4 KiB pages in one `SharedArrayBuffer`, addressed
 * by PFN (`gpa / 4096`). The host and guest partitions, each in its own thread,
 * build a `GuestMemory` over the same buffer and so share it as on Hyper-V.
 *
 * Two kinds of access:
 * - `pageView` and `view` take addresses the caller has already checked (a
 *   validated GPA range, an allocated page); a bad one is a bug and throws.
 * - `checkRange`, `read` and `write` take addresses that may come from a peer
 *   and return a `MemoryError` instead.
 */
export class GuestMemory {
  /** The shared buffer; send it to another thread to share this memory. */
  readonly buffer: SharedArrayBuffer;
  readonly pageCount: number;
  readonly #bytes: Uint8Array;
  // Filled on first use: one view per page for the life of the memory, so hot
  // paths (rings) never allocate a view per access.
  readonly #pageViews: (Uint8Array | undefined)[];

  /** New zeroed memory of `pageCount` pages, or a view of an existing buffer (e.g. in a worker). */
  constructor(source: number | SharedArrayBuffer) {
    if (typeof source === 'number') {
      if (!isIndex(source) || source === 0) {
        throw new MemoryError('out-of-range', `page count must be a positive integer, got ${source}`);
      }
      this.buffer = new SharedArrayBuffer(source * PAGE_SIZE);
    } else {
      if (source.byteLength === 0 || source.byteLength % PAGE_SIZE !== 0) {
        throw new MemoryError('unaligned', `guest memory must be whole pages, got ${source.byteLength} bytes`);
      }
      this.buffer = source;
    }
    this.pageCount = this.buffer.byteLength / PAGE_SIZE;
    this.#bytes = new Uint8Array(this.buffer);
    this.#pageViews = new Array<Uint8Array | undefined>(this.pageCount);
  }

  get byteLength(): number {
    return this.#bytes.length;
  }

  /** True when `pfn` names a page of this memory. */
  hasPfn(pfn: number): boolean {
    return isIndex(pfn) && pfn < this.pageCount;
  }

  /** Checks that `[gpa, gpa + length)` lies inside this memory. */
  checkRange(gpa: number, length: number): MemoryError | undefined {
    if (!isIndex(gpa) || !isIndex(length) || gpa + length > this.#bytes.length) {
      return memoryError('out-of-range', `GPA range ${gpa}+${length} is outside ${this.#bytes.length} bytes of guest memory`);
    }
    return undefined;
  }

  /** The 4096-byte view of page `pfn` (cached). Throws on a PFN outside this memory. */
  pageView(pfn: number): Uint8Array {
    const cached = this.#pageViews[pfn];
    if (cached !== undefined) return cached;
    if (!this.hasPfn(pfn)) {
      throw new MemoryError('out-of-range', `PFN ${pfn} is outside ${this.pageCount} pages of guest memory`);
    }
    const view = this.#bytes.subarray(pfn * PAGE_SIZE, (pfn + 1) * PAGE_SIZE);
    this.#pageViews[pfn] = view;
    return view;
  }

  /** A live view of `[gpa, gpa + length)`. Throws when the range leaves this memory. */
  view(gpa: number, length: number): Uint8Array {
    const error = this.checkRange(gpa, length);
    if (error !== undefined) throw error;
    return this.#bytes.subarray(gpa, gpa + length);
  }

  /** A private copy of `[gpa, gpa + length)`. */
  read(gpa: number, length: number): Uint8Array | MemoryError {
    const error = this.checkRange(gpa, length);
    if (error !== undefined) return error;
    const copy = new Uint8Array(length);
    copyBytes(copy, 0, this.#bytes.subarray(gpa, gpa + length));
    return copy;
  }

  /** Copies `bytes` to guest memory at `gpa`. */
  write(gpa: number, bytes: Uint8Array): MemoryError | undefined {
    const error = this.checkRange(gpa, bytes.length);
    if (error === undefined) copyBytes(this.#bytes, gpa, bytes);
    return error;
  }
}
