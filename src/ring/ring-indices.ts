/**
 * Index arithmetic both ends share. Indices are byte offsets into the data
 * area; `read === write` means empty, so a writer never fills the last 8
 * bytes (openvmm-vmbus.md §3.1, linux-vmbus.md §A.1.1).
 */
import { PACKET_TRAILER_SIZE } from '../wire/packet-descriptor.js';

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
