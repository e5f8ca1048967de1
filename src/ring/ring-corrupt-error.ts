/**
 * The peer broke the ring: an index out of range or misaligned, or a packet
 * descriptor that does not fit the bytes the peer published. The end that
 * finds it keeps the error and throws it again from every later call, so a
 * broken ring fails fast instead of being read further.
 */
import type { DescriptorProblem } from '../wire/packet-descriptor.js';

export type RingCorruptCode =
  /** The peer's write index is not below the data size or not 8-aligned. */
  | 'invalid-write-index'
  /** The peer's read index is not below the data size or not 8-aligned. */
  | 'invalid-read-index'
  /** Fewer bytes published than a descriptor plus trailer (24). */
  | 'truncated-packet'
  /** The descriptor does not hold together (see `checkPacketDescriptor`). */
  | DescriptorProblem;

export class RingCorruptError extends Error {
  override readonly name = 'RingCorruptError';
  constructor(
    readonly code: RingCorruptCode,
    message: string,
  ) {
    super(message);
  }
}
