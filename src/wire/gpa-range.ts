/**
 * GPA range lists: the `{byteCount u32, byteOffset u32, gpns u64[]}` ranges
 * that GPA-direct packets carry after their header, and that GPADL
 * channel messages carry in the same format.
 *
 * Layout (openvmm-vmbus.md §6.3, `gparange.rs:13-18`; linux-vmbus.md §A.2,
 * `struct gpa_range`): byteCount u32 @0, byteOffset u32 @4, then
 * `ceil((byteOffset + byteCount) / 4096)` page numbers, u64 each.
 * Rules (`gparange.rs:218-244`): byteCount ≠ 0, byteOffset ≤ 0xfff, and enough
 * page numbers for offset + count.
 */
import { WireError, wireError } from './wire-error.js';
import { isU32, isU64 } from './packet-descriptor.js';

/** Page numbers count 4 KiB Hyper-V pages. */
export const GPA_PAGE_SIZE = 4096;
/** A range starts inside its first page. */
export const MAX_GPA_BYTE_OFFSET = GPA_PAGE_SIZE - 1;
/** The `{byteCount, byteOffset}` header of a range. */
export const GPA_RANGE_HEADER_SIZE = 8;
export const GPN_SIZE = 8;

export interface GpaRange {
  byteCount: number;
  /** Offset into the first page, ≤ 0xfff. */
  byteOffset: number;
  /** Guest page numbers (OpenVMM `PagedRange::gpns`; Linux `pfn_array`). */
  gpns: readonly bigint[];
}

/** Pages a range spans: `ceil((byteOffset + byteCount) / 4096)`. */
export function gpaRangePageCount(byteOffset: number, byteCount: number): number {
  return Math.ceil((byteOffset + byteCount) / GPA_PAGE_SIZE);
}

/** Encoded bytes of a range: its header plus one u64 per page it spans. */
export function gpaRangeSize(range: Pick<GpaRange, 'byteCount' | 'byteOffset'>): number {
  return GPA_RANGE_HEADER_SIZE + GPN_SIZE * gpaRangePageCount(range.byteOffset, range.byteCount);
}

/** Encoded bytes of a list of ranges. */
export function gpaRangesSize(ranges: readonly GpaRange[]): number {
  let size = 0;
  for (const range of ranges) size += gpaRangeSize(range);
  return size;
}

/**
 * A decoded range with its page numbers as plain numbers, for receive paths
 * that would otherwise make a BigInt per page. Exact below 2^53; a u64 at or
 * above 2^53 reads as a number that is still ≥ 2^53, so it can never alias a
 * real page and any bounds check rejects it.
 */
export interface GpaRangeNumbers {
  byteCount: number;
  byteOffset: number;
  gpns: number[];
}

/**
 * Reads `rangeCount` ranges from the start of `bytes`. Bytes after the last
 * range are not looked at (the GPADL messages allow them); the bytes used are
 * `gpaRangesSize(result)`.
 */
export function decodeGpaRanges(bytes: Uint8Array, rangeCount: number): GpaRange[] | WireError {
  return walkGpaRanges(bytes, rangeCount, (view, at, pages) => {
    const gpns = new Array<bigint>(pages);
    for (let p = 0; p < pages; p++) gpns[p] = view.getBigUint64(at + p * GPN_SIZE, true);
    return gpns;
  });
}

/** `decodeGpaRanges` with page numbers as numbers (`GpaRangeNumbers`): the same checks and errors. */
export function decodeGpaRangeNumbers(bytes: Uint8Array, rangeCount: number): GpaRangeNumbers[] | WireError {
  return walkGpaRanges(bytes, rangeCount, (view, at, pages) => {
    // Filled in place: growing by push costs about twice as much here.
    const gpns = new Array<number>(pages).fill(0);
    for (let p = 0; p < pages; p++) {
      const gpn = at + p * GPN_SIZE;
      // Two u32 halves: no BigInt per page on the GPA-direct receive path.
      gpns[p] = view.getUint32(gpn + 4, true) * 0x1_0000_0000 + view.getUint32(gpn, true);
    }
    return gpns;
  });
}

// The range walk both decoders share: header checks and bounds per range, then
// `readPages` for the `pages` page numbers at byte `at`, which are known to fit.
function walkGpaRanges<T>(
  bytes: Uint8Array,
  rangeCount: number,
  readPages: (view: DataView, at: number, pages: number) => T[],
): { byteCount: number; byteOffset: number; gpns: T[] }[] | WireError {
  if (!isU32(rangeCount)) return wireError('bad-value', `GPA range count is not a u32: ${rangeCount}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ranges: { byteCount: number; byteOffset: number; gpns: T[] }[] = [];
  let at = 0;
  // Each iteration consumes at least 16 bytes or returns, so a huge count cannot spin.
  for (let i = 0; i < rangeCount; i++) {
    if (bytes.length - at < GPA_RANGE_HEADER_SIZE) {
      return wireError(
        'range-out-of-bounds',
        `GPA range count ${rangeCount} does not fit: range ${i} starts at byte ${at} of ${bytes.length}`,
      );
    }
    const byteCount = view.getUint32(at, true);
    const byteOffset = view.getUint32(at + 4, true);
    const problem = rangeHeaderProblem(i, byteCount, byteOffset);
    if (problem !== null) return problem;
    const pages = gpaRangePageCount(byteOffset, byteCount);
    at += GPA_RANGE_HEADER_SIZE;
    if ((bytes.length - at) / GPN_SIZE < pages) {
      return wireError(
        'too-few-pages',
        `GPA range ${i} (offset ${byteOffset}, ${byteCount} bytes) needs ${pages} page numbers, ` +
          `${Math.floor((bytes.length - at) / GPN_SIZE)} fit`,
      );
    }
    ranges.push({ byteCount, byteOffset, gpns: readPages(view, at, pages) });
    at += pages * GPN_SIZE;
  }
  return ranges;
}

/** Checks one range the way a receiver would, plus field widths. */
export function validateGpaRange(range: GpaRange, index = 0): WireError | null {
  if (!isU32(range.byteCount) || !isU32(range.byteOffset)) {
    return wireError('bad-value', `GPA range ${index} byteCount/byteOffset are not u32: ${range.byteCount}/${range.byteOffset}`);
  }
  const problem = rangeHeaderProblem(index, range.byteCount, range.byteOffset);
  if (problem !== null) return problem;
  const pages = gpaRangePageCount(range.byteOffset, range.byteCount);
  if (range.gpns.length < pages) {
    return wireError('too-few-pages', `GPA range ${index} needs ${pages} page numbers, has ${range.gpns.length}`);
  }
  if (range.gpns.length > pages) {
    // A receiver would read the extra numbers as the next range's header.
    return wireError('bad-value', `GPA range ${index} spans ${pages} pages but lists ${range.gpns.length} page numbers`);
  }
  for (const gpn of range.gpns) {
    if (!isU64(gpn)) return wireError('bad-value', `GPA range ${index} page number is not a u64: ${String(gpn)}`);
  }
  return null;
}

/** Encodes ranges after validating each one. */
export function encodeGpaRanges(ranges: readonly GpaRange[]): Uint8Array | WireError {
  for (let i = 0; i < ranges.length; i++) {
    const problem = validateGpaRange(ranges[i]!, i);
    if (problem !== null) return problem;
  }
  const out = new Uint8Array(gpaRangesSize(ranges));
  writeGpaRanges(ranges, out, 0);
  return out;
}

/**
 * Writes already-validated ranges at `offset`; returns the offset after them.
 * For encoders that lay ranges inside a bigger buffer.
 */
export function writeGpaRanges(ranges: readonly GpaRange[], out: Uint8Array, offset: number): number {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let at = offset;
  for (const range of ranges) {
    view.setUint32(at, range.byteCount, true);
    view.setUint32(at + 4, range.byteOffset, true);
    at += GPA_RANGE_HEADER_SIZE;
    for (const gpn of range.gpns) {
      view.setBigUint64(at, gpn, true);
      at += GPN_SIZE;
    }
  }
  return at;
}

function rangeHeaderProblem(index: number, byteCount: number, byteOffset: number): WireError | null {
  if (byteCount === 0) return wireError('zero-byte-count', `GPA range ${index} has a zero byte count`);
  if (byteOffset > MAX_GPA_BYTE_OFFSET) {
    return wireError('gpa-offset-too-large', `GPA range ${index} byte offset ${byteOffset} is beyond the first page (> 0xfff)`);
  }
  return null;
}
