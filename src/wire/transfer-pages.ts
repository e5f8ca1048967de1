/**
 * Transfer-page ranges: `{byteCount u32, byteOffset u32}` pairs that a
 * transfer-page packet (type 7) carries after its header, each naming bytes of
 * a buffer the receiver registered earlier as a transfer page set.
 *
 * Header after the descriptor (openvmm-vmbus.md §6.3, `lib.rs:163-176`;
 * linux-vmbus.md §A.2, `vmtransfer_page_packet_header`):
 *   transferPageSetId u16 @16, reserved u16 @18 (Linux: sender_owns_set u8 @18,
 *   reserved u8 @19; may hold garbage), rangeCount u32 @20, ranges @24.
 */
import { WireError, wireError } from './wire-error.js';
import { isU32 } from './packet-descriptor.js';

/** The header after the descriptor: set id, reserved, range count. */
export const TRANSFER_PAGE_HEADER_SIZE = 8;
export const TRANSFER_PAGE_RANGE_SIZE = 8;

export interface TransferPageRange {
  byteCount: number;
  byteOffset: number;
}

/** Reads `rangeCount` ranges from the start of `bytes`; they must all fit. */
export function decodeTransferPageRanges(bytes: Uint8Array, rangeCount: number): TransferPageRange[] | WireError {
  if (!isU32(rangeCount)) return wireError('bad-value', `transfer page range count is not a u32: ${rangeCount}`);
  if (rangeCount > bytes.length / TRANSFER_PAGE_RANGE_SIZE) {
    return wireError(
      'range-out-of-bounds',
      `${rangeCount} transfer page ranges need ${rangeCount * TRANSFER_PAGE_RANGE_SIZE} bytes, the header holds ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ranges: TransferPageRange[] = new Array<TransferPageRange>(rangeCount);
  for (let i = 0; i < rangeCount; i++) {
    const at = i * TRANSFER_PAGE_RANGE_SIZE;
    ranges[i] = { byteCount: view.getUint32(at, true), byteOffset: view.getUint32(at + 4, true) };
  }
  return ranges;
}

export function validateTransferPageRange(range: TransferPageRange, index = 0): WireError | null {
  if (!isU32(range.byteCount) || !isU32(range.byteOffset)) {
    return wireError('bad-value', `transfer page range ${index} fields are not u32: ${range.byteCount}/${range.byteOffset}`);
  }
  return null;
}

/** Encodes ranges after checking their widths. */
export function encodeTransferPageRanges(ranges: readonly TransferPageRange[]): Uint8Array | WireError {
  for (let i = 0; i < ranges.length; i++) {
    const problem = validateTransferPageRange(ranges[i]!, i);
    if (problem !== null) return problem;
  }
  const out = new Uint8Array(ranges.length * TRANSFER_PAGE_RANGE_SIZE);
  writeTransferPageRanges(ranges, out, 0);
  return out;
}

/** Writes already-validated ranges at `offset`; returns the offset after them. */
export function writeTransferPageRanges(ranges: readonly TransferPageRange[], out: Uint8Array, offset: number): number {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let at = offset;
  for (const range of ranges) {
    view.setUint32(at, range.byteCount, true);
    view.setUint32(at + 4, range.byteOffset, true);
    at += TRANSFER_PAGE_RANGE_SIZE;
  }
  return at;
}

/**
 * The first range that reaches past a transfer buffer of `bufferLength`
 * bytes, as a receiver must check before touching the buffer (netvsc,
 * linux-vmbus.md §A.2; OpenVMM `queue.rs:243-267`).
 */
export function checkTransferPageRangesFit(
  ranges: readonly TransferPageRange[],
  bufferLength: number,
): WireError | null {
  for (let i = 0; i < ranges.length; i++) {
    const { byteCount, byteOffset } = ranges[i]!;
    if (byteOffset + byteCount > bufferLength) {
      return wireError(
        'range-out-of-bounds',
        `transfer page range ${i} (offset ${byteOffset}, ${byteCount} bytes) ends past the ${bufferLength}-byte buffer`,
      );
    }
  }
  return null;
}
