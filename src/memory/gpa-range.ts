import { MAX_GPA_BYTE_OFFSET, decodeGpaRangeNumbers, gpaRangePageCount } from '../wire/gpa-range.js';
import type { GpaRange as WireGpaRange } from '../wire/gpa-range.js';
import { WireError } from '../wire/wire-error.js';
import { isU32 } from '../wire/packet-descriptor.js';
import type { GuestMemory } from './guest-memory.js';
import { memoryError } from './memory-error.js';
import type { MemoryError } from './memory-error.js';
import { isIndex } from './page.js';

/**
 * One VMBus GPA range, in memory: `byteCount` bytes starting `byteOffset` bytes
 * into the first of `pfns`, running on through the following PFNs, which need
 * not be adjacent in guest memory. The page list is exactly the pages spanned,
 * `ceil((byteOffset + byteCount) / 4096)` (linux-vmbus.md `gpa_range`;
 * openvmm-vmbus.md §6.3 "GPA direct"). The wire form, with u64 page numbers,
 * is `GpaRange` of `src/wire/gpa-range.ts`.
 */
export interface GpaRange {
  readonly byteOffset: number;
  readonly byteCount: number;
  readonly pfns: readonly number[];
}

/**
 * Checks one range against `memory`: byte count a non-zero u32, offset ≤ 0xfff
 * (the check OpenVMM added in #1842), exactly the spanned number of pages, and
 * every PFN inside guest memory.
 */
export function validateGpaRange(range: GpaRange, memory: GuestMemory): MemoryError | undefined {
  const { byteOffset, byteCount, pfns } = range;
  if (!isU32(byteCount)) return memoryError('out-of-range', `GPA range byte count ${byteCount} is not a u32`);
  if (byteCount === 0) return memoryError('zero-length', 'GPA range has a zero byte count');
  if (!isIndex(byteOffset) || byteOffset > MAX_GPA_BYTE_OFFSET) {
    return memoryError('bad-page-offset', `GPA range byte offset ${byteOffset} is not within the first page`);
  }
  const spanned = gpaRangePageCount(byteOffset, byteCount);
  if (pfns.length !== spanned) {
    return memoryError('page-count-mismatch', `GPA range spans ${spanned} pages but lists ${pfns.length}`);
  }
  for (const pfn of pfns) {
    if (!memory.hasPfn(pfn)) return memoryError('out-of-range', `PFN ${pfn} is outside guest memory`);
  }
  return undefined;
}

/** Checks every range of a list; an empty list is `zero-length`. */
export function validateGpaRanges(ranges: readonly GpaRange[], memory: GuestMemory): MemoryError | undefined {
  if (ranges.length === 0) return memoryError('zero-length', 'no GPA ranges');
  for (const range of ranges) {
    const error = validateGpaRange(range, memory);
    if (error !== undefined) return error;
  }
  return undefined;
}

/**
 * A private copy of peer-supplied ranges, so later changes by the caller cannot
 * undo a validation. The page lists are spread, not sliced, and not frozen: V8
 * slices and reads frozen arrays many times slower (slicing 256 PFNs: ~20 µs
 * against ~0.2 µs), so the copy stays safe by staying with its holder.
 */
export function copyGpaRanges(ranges: readonly GpaRange[]): GpaRange[] {
  return ranges.map(({ byteOffset, byteCount, pfns }) => ({ byteOffset, byteCount, pfns: [...pfns] }));
}

/**
 * Decoded wire ranges as in-memory ranges (a copy; validate it next). A u64
 * page number beyond 2^53 becomes a number that is still ≥ 2^53, so it can
 * never alias a real PFN: validation rejects it as out of range.
 */
export function gpaRangesFromWire(ranges: readonly WireGpaRange[]): GpaRange[] {
  return ranges.map(({ byteOffset, byteCount, gpns }) => ({ byteOffset, byteCount, pfns: Object.freeze(gpns.map(Number)) }));
}

/**
 * Reads `rangeCount` wire ranges from `bytes` straight into in-memory ranges,
 * with no BigInt per page (the GPA-direct receive path). The page lists are
 * fresh arrays owned by the caller; a page number beyond 2^53 stays ≥ 2^53,
 * as in `gpaRangesFromWire`. Validate the result next.
 */
export function gpaRangesFromBytes(bytes: Uint8Array, rangeCount: number): GpaRange[] | WireError {
  const ranges = decodeGpaRangeNumbers(bytes, rangeCount);
  if (ranges instanceof WireError) return ranges;
  return ranges.map(({ byteOffset, byteCount, gpns }) => ({ byteOffset, byteCount, pfns: gpns }));
}

/** In-memory ranges in wire form, for GPADL_HEADER/BODY and GPA-direct packets. */
export function gpaRangesToWire(ranges: readonly GpaRange[]): WireGpaRange[] {
  return ranges.map(({ byteOffset, byteCount, pfns }) => ({ byteOffset, byteCount, gpns: pfns.map(BigInt) }));
}
