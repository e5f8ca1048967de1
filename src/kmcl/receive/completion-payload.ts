/**
 * The payload of a completion packet, as the buffer its send's completion
 * routine gets: valid until the next packet is read. The reader's read-ahead
 * puts each packet of a batch at a different place in its private copy, so a
 * view of the packet there would be a new view (an allocation) per
 * completion; a small payload is copied by 8-byte units into one reused
 * buffer instead, and only a large one gets its own view.
 */
import { copyUnitRun, type RingPacketView } from '../../ring/index.js';
import { EMPTY_BYTES } from '../packet/packet.js';

/** Largest payload copied into the reused buffer (protocol completions are a few dozen bytes). */
export const COMPLETION_COPY_BYTES = 256;

export class CompletionPayload {
  private readonly copy = new Uint8Array(COMPLETION_COPY_BYTES);
  private readonly copyUnits = new BigInt64Array(this.copy.buffer);
  /** The last payload handed out, a view of `copy`; reused while the length repeats. */
  private view: Uint8Array = EMPTY_BYTES;

  /** The payload of the completion `packet` (the one the reader just returned). */
  of(packet: RingPacketView): Uint8Array {
    const length = packet.payloadLength;
    if (length === 0) return EMPTY_BYTES;
    if (length > COMPLETION_COPY_BYTES) return packet.payload;
    // Ring payloads start and end on 8-byte boundaries of the reader's copy.
    copyUnitRun(packet.units, packet.payloadOffset >>> 3, length >>> 3, this.copyUnits, 0);
    if (this.view.length !== length) this.view = this.copy.subarray(0, length);
    return this.view;
  }
}
