/**
 * The header of a GPA-direct packet (type 9), written into a packet's reused
 * header storage with plain numbers (no BigInt per page). Layout
 * (openvmm-vmbus.md §6.3, `vmbus_ring/src/lib.rs:181-184`; linux-vmbus.md §A.2
 * `vmdata_gpa_direct`): reserved u32 @16, rangeCount u32 @20 (offsets from the
 * descriptor), then each range: byteCount u32, byteOffset u32, one u64 page
 * number per page spanned.
 */
import type { GpaRange } from '../../memory/index.js';
import { GPA_DIRECT_HEADER_SIZE } from '../../wire/packet.js';
import { GPA_RANGE_HEADER_SIZE, GPN_SIZE } from '../../wire/gpa-range.js';
import type { KmclPacket } from './packet.js';

/** Bytes of the header for these ranges. */
export function gpaDirectHeaderSize(ranges: readonly GpaRange[]): number {
  let size = GPA_DIRECT_HEADER_SIZE;
  for (const range of ranges) size += GPA_RANGE_HEADER_SIZE + GPN_SIZE * range.pfns.length;
  return size;
}

/** Writes the header for validated `ranges` into the packet's header storage and makes it the send's header. */
export function writeGpaDirectHeader(packet: KmclPacket, ranges: readonly GpaRange[]): void {
  const header = packet.headerArea(gpaDirectHeaderSize(ranges));
  // One view per send, not per page: a 1 MiB transfer writes 256 page numbers.
  const fields = new DataView(header.buffer, header.byteOffset, header.length);
  fields.setUint32(0, 0, true);
  fields.setUint32(4, ranges.length, true);
  let at = GPA_DIRECT_HEADER_SIZE;
  for (const range of ranges) {
    fields.setUint32(at, range.byteCount, true);
    fields.setUint32(at + 4, range.byteOffset, true);
    at += GPA_RANGE_HEADER_SIZE;
    const pfns = range.pfns;
    for (let i = 0; i < pfns.length; i++) {
      const pfn = pfns[i]!;
      // A PFN is below 2^53 (a safe integer): split it into its u32 halves.
      fields.setUint32(at, pfn % 0x1_0000_0000, true);
      fields.setUint32(at + 4, Math.floor(pfn / 0x1_0000_0000), true);
      at += GPN_SIZE;
    }
  }
  packet.header = header;
}
