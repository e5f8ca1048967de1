import type { WireError } from '../wire/wire-error.js';
import type { HvMemory, PartitionMemory } from './hv-memory.js';
import type { PortTable } from './port-table.js';
import {
  EVENT_FLAGS_BYTES_PER_SINT,
  HV_MESSAGE_FLAG_PENDING,
  HV_MESSAGE_LAYOUT,
  HVMSG_NONE,
  copyMessage,
  readMessage,
  writeMessage,
  type HvMessage,
} from './synic-message.js';

/** Where a posted message went. */
export type PostOutcome = 'slot' | 'queued' | 'no-buffers';

/**
 * The SynIC of every VP: message slots with their overflow queues, event
 * flags, and the pending-SINT bits that stand for asserted interrupts.
 *
 * Message operations (`post`, `endOfMessage`) run under the hypervisor lock;
 * event flags and pending bits are single atomic operations and need none.
 */
export class Synic {
  private readonly partitions: readonly PartitionMemory[];
  private readonly depth: number;
  private readonly portBuffers: number;

  constructor(
    memory: HvMemory,
    private readonly ports: PortTable,
  ) {
    this.partitions = memory.partitions;
    this.depth = memory.limits.sintQueueDepth;
    this.portBuffers = memory.limits.portMessageBuffers;
  }

  /**
   * Puts a message in the SINT's slot if it is free, else at the tail of the
   * SINT's queue with MessagePending set in the slot. Only 'slot' needs the
   * SINT raised: a queued message is raised by the EOM that delivers it.
   */
  post(
    partition: number,
    vp: number,
    sint: number,
    portSlot: number,
    messageType: number,
    payload: Uint8Array,
  ): PostOutcome {
    const memory = this.memoryOf(partition);
    const { bytes } = memory;
    const slot = memory.slotOffset(vp, sint);
    const portId = this.ports.portIdOf(portSlot);
    if (Atomics.load(bytes.i32, slot >> 2) === HVMSG_NONE) {
      writeMessage(bytes, slot, messageType, portId, payload);
      return 'slot';
    }
    const head = memory.queueHeadIndex(vp, sint);
    const count = bytes.i32[head + 1]!;
    if (count >= this.depth || this.ports.buffered(portSlot) >= this.portBuffers) return 'no-buffers';
    const entry = (bytes.i32[head]! + count) % this.depth;
    writeMessage(bytes, memory.queueEntryOffset(vp, sint, entry), messageType, portId, payload);
    const tag = memory.queueTagIndex(vp, sint, entry);
    bytes.i32[tag] = portSlot;
    bytes.i32[tag + 1] = this.ports.generation(portSlot);
    bytes.i32[head + 1] = count + 1;
    this.ports.addBuffered(portSlot, 1);
    Atomics.or(bytes.u8, slot + HV_MESSAGE_LAYOUT.FLAGS, HV_MESSAGE_FLAG_PENDING);
    return 'queued';
  }

  /**
   * End of message: frees the slot and moves the oldest queued message into
   * it, skipping messages whose port was deleted since (TLFS HvDeletePort:
   * undelivered messages are lost). True if the slot was refilled.
   */
  endOfMessage(partition: number, vp: number, sint: number): boolean {
    const memory = this.memoryOf(partition);
    const { bytes } = memory;
    const slot = memory.slotOffset(vp, sint);
    Atomics.store(bytes.i32, slot >> 2, HVMSG_NONE);
    bytes.u8[slot + HV_MESSAGE_LAYOUT.FLAGS] = 0;
    const head = memory.queueHeadIndex(vp, sint);
    while (bytes.i32[head + 1]! > 0) {
      const entry = bytes.i32[head]!;
      const remaining = bytes.i32[head + 1]! - 1;
      bytes.i32[head] = (entry + 1) % this.depth;
      bytes.i32[head + 1] = remaining;
      const tag = memory.queueTagIndex(vp, sint, entry);
      const portSlot = bytes.i32[tag]!;
      if (!this.ports.isLive(portSlot, bytes.i32[tag + 1]!)) continue;
      this.ports.addBuffered(portSlot, -1);
      const queued = memory.queueEntryOffset(vp, sint, entry);
      // Set in the entry, not the slot: the copy publishes the whole header, type last.
      bytes.u8[queued + HV_MESSAGE_LAYOUT.FLAGS] = remaining > 0 ? HV_MESSAGE_FLAG_PENDING : 0;
      copyMessage(bytes, queued, slot);
      return true;
    }
    return false;
  }

  /** Copies the SINT's slot out (undefined if empty); a WireError if its header is impossible. */
  readSlot(partition: number, vp: number, sint: number): HvMessage | WireError | undefined {
    const memory = this.memoryOf(partition);
    return readMessage(memory.bytes, memory.slotOffset(vp, sint));
  }

  /** Atomically sets SIEF flag `flag` of the SINT; true if it was clear (only then is the SINT raised). */
  setEventFlag(partition: number, vp: number, sint: number, flag: number): boolean {
    const memory = this.memoryOf(partition);
    const index = (memory.eventFlagsOffset(vp, sint) >> 2) + (flag >> 5);
    const bit = 1 << (flag & 31);
    return (Atomics.or(memory.bytes.i32, index, bit) & bit) === 0;
  }

  /**
   * Test-and-clear scan of the SINT's 2048 flags: each 32-flag word is taken
   * with one atomic exchange, then `handler` sees every flag that was set.
   * Returns how many flags were set. If `handler` throws, the flags it has not
   * seen are left set.
   */
  takeEventFlags(partition: number, vp: number, sint: number, handler: (flag: number) => void): number {
    const memory = this.memoryOf(partition);
    const words = memory.bytes.i32;
    const first = memory.eventFlagsOffset(vp, sint) >> 2;
    let taken = 0;
    for (let word = 0; word < EVENT_FLAGS_BYTES_PER_SINT / 4; word++) {
      if (Atomics.load(words, first + word) === 0) continue;
      let bits = Atomics.exchange(words, first + word, 0);
      while (bits !== 0) {
        const bit = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        taken++;
        try {
          handler(word * 32 + bit);
        } catch (error) {
          // Give back the flags of this word the handler has not seen; later words were never taken.
          Atomics.or(words, first + word, bits);
          throw error;
        }
      }
    }
    return taken;
  }

  /** Sets the SINT's pending bit (an asserted interrupt); true if it was clear. */
  markPending(partition: number, vp: number, sint: number): boolean {
    const memory = this.memoryOf(partition);
    return (Atomics.or(memory.bytes.i32, memory.pendingIndex(vp), 1 << sint) & (1 << sint)) === 0;
  }

  /** Acknowledges the SINT's interrupt before its slot and flags are looked at, so a later raise is not lost. */
  clearPending(partition: number, vp: number, sint: number): void {
    const memory = this.memoryOf(partition);
    Atomics.and(memory.bytes.i32, memory.pendingIndex(vp), ~(1 << sint));
  }

  /** The VP's pending-SINT bits. */
  pendingSints(partition: number, vp: number): number {
    const memory = this.memoryOf(partition);
    return Atomics.load(memory.bytes.i32, memory.pendingIndex(vp));
  }

  private memoryOf(partition: number): PartitionMemory {
    const memory = this.partitions[partition];
    if (memory === undefined) throw new RangeError(`no partition at index ${partition}`);
    return memory;
  }
}
