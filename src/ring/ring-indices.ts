/**
 * Index arithmetic both ends share. Indices are byte offsets into the data
 * area; `read === write` means empty, so a writer never fills the last 8
 * bytes (openvmm-vmbus.md §3.1, linux-vmbus.md §A.1.1).
 */
import { MAX_PACKET_LENGTH, PACKET_DESCRIPTOR_SIZE, PACKET_KNOWN_FLAGS, PACKET_TRAILER_SIZE } from '../wire/packet-descriptor.js';
import { MAX_KNOWN_PACKET_TYPE } from '../wire/packet-types.js';

/*
 * The per-packet paths (`RingWriter.tryWrite`, `RingReader.tryRead`, `checkPacketDescriptor`)
 * spell these wire values as literals: Node 20's optimizing compiler reads an imported
 * constant through its module cell, with a hole and a type check, at every use; for a
 * 64-byte packet written and read that was ~130 of ~1,500 instructions. This keeps the
 * literals equal to the names the rest of the code uses.
 */
if (
  PACKET_DESCRIPTOR_SIZE !== 16 ||
  PACKET_TRAILER_SIZE !== 8 ||
  MAX_PACKET_LENGTH !== 524_280 ||
  MAX_KNOWN_PACKET_TYPE !== 0xd ||
  PACKET_KNOWN_FLAGS !== 1
) {
  throw new Error('kmcl ring: a wire size the packet paths spell as a literal no longer matches its constant');
}

/** Bytes a writer always leaves free so a full ring never looks empty. */
export const RING_RESERVED_BYTES = PACKET_TRAILER_SIZE;

/** Bytes published and not yet consumed. */
export function ringBytesUsed(writeIndex: number, readIndex: number, dataSize: number): number {
  return writeIndex >= readIndex ? writeIndex - readIndex : dataSize - readIndex + writeIndex;
}

/** Bytes a writer may still fill: `size − used − 8`. */
export function ringBytesWritable(writeIndex: number, readIndex: number, dataSize: number): number {
  return dataSize - ringBytesUsed(writeIndex, readIndex, dataSize) - RING_RESERVED_BYTES;
}

/** Advances an index by a packet's ring size (≤ dataSize), wrapping once. */
export function advanceRingIndex(index: number, bytes: number, dataSize: number): number {
  const next = index + bytes;
  return next >= dataSize ? next - dataSize : next;
}

/** The message of an `invalid-*-index` RingCorruptError. */
export function indexMessage(name: 'read' | 'write', value: number, dataSize: number): string {
  return `${name} index ${value} is not an 8-aligned offset below the ring's ${dataSize} data bytes`;
}
