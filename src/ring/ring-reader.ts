/**
 * The consuming end of one ring. It reads packets in batches: `tryRead`
 * advances a private read index, `commit` publishes it once and says whether
 * the writer must be signalled (it waits for space). The interrupt mask tells
 * the writer whether to signal us on empty → non-empty.
 *
 * Every index and descriptor from the peer is loaded once, validated, and the
 * packet is copied into a private buffer before anything is parsed, so the
 * peer cannot change what we already checked. The copy is taken ahead: one
 * bulk copy of what is published (up to 64 KiB), from which the packets
 * behind the first are read too (a unit copy per small packet cost more than
 * its bytes). No byte is read from the ring twice. A corrupt ring throws a
 * RingCorruptError, from this call and every later one.
 */
import { FEATURE_SUPPORTS_PENDING_SEND_SIZE, RING_CONTROL_WORD, isValidRingIndex } from '../wire/ring-control.js';
import {
  MAX_PACKET_LENGTH,
  PACKET_FLAG_COMPLETION_REQUESTED,
  PACKET_TRAILER_SIZE,
  checkPacketDescriptor,
  describeDescriptorProblem,
} from '../wire/packet-descriptor.js';
import { decodePacket, type Packet } from '../wire/packet.js';
import type { WireError } from '../wire/wire-error.js';
import { copyTarget, type CopyTarget, type RingMemory } from './ring-memory.js';
import { RingCorruptError, type RingCorruptCode } from './ring-corrupt-error.js';
import { advanceRingIndex, indexMessage, ringBytesUsed } from './ring-indices.js';

/**
 * The packet `tryRead` returned last, as numbers over the reader's private
 * copy, where it starts at byte `start`. One object per reader, overwritten
 * by the next `tryRead` (whose copy may overwrite the bytes too): take what
 * you need (or `payload.slice()`) before reading on.
 *
 * Transaction ids are two unsigned 32-bit halves: exact for all 64 bits with
 * no BigInt on the hot path; `transactionId` builds the bigint on demand.
 */
export class RingPacketView {
  packetType = 0;
  flags = 0;
  dataOffset8 = 0;
  length8 = 0;
  transactionIdLo = 0;
  transactionIdHi = 0;
  /** Where the packet (its descriptor) starts in `bytes`. */
  start = 0;

  /**
   * The private copy the packet sits in, from byte `start`, and the same
   * memory as 8-byte units (payloads start and end on unit boundaries of it),
   * for consumers that copy payloads out unit by unit.
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly units: BigInt64Array,
  ) {}

  get completionRequested(): boolean {
    return (this.flags & PACKET_FLAG_COMPLETION_REQUESTED) !== 0;
  }

  /** Where the payload starts in `bytes`. */
  get payloadOffset(): number {
    return this.start + this.dataOffset8 * 8;
  }

  /** Payload bytes, padding included (the wire does not carry the unpadded length). */
  get payloadLength(): number {
    return (this.length8 - this.dataOffset8) * 8;
  }

  /** The payload as a view into the private copy (allocates a view). */
  get payload(): Uint8Array {
    return this.bytes.subarray(this.start + this.dataOffset8 * 8, this.start + this.length8 * 8);
  }

  /** The whole packet, descriptor to padding, as a view into the private copy. */
  get packetBytes(): Uint8Array {
    return this.bytes.subarray(this.start, this.start + this.length8 * 8);
  }

  get transactionId(): bigint {
    return (BigInt(this.transactionIdHi) << 32n) | BigInt(this.transactionIdLo);
  }

  /** Decodes the packet with the wire codec: GPA ranges and transfer-page ranges validated. */
  decode(): Packet | WireError {
    return decodePacket(this.packetBytes);
  }
}

/**
 * Most bytes one read-ahead copies (a whole page count). A batch of small
 * packets takes one copy; large packets are completed one by one behind it
 * (`copyRest`). The bound keeps what a `tryRead` copies before it returns,
 * and the part of the private copy in use, small however large the ring:
 * a large ring would otherwise have up to 512 KiB copied at once.
 */
const READ_AHEAD_BYTES = 64 * 1024;

export class RingReader {
  readonly memory: RingMemory;
  readonly dataSize: number;
  /** The packet the last successful `tryRead` returned. */
  readonly packet: RingPacketView;
  private readonly control: Int32Array;
  /** The private copy packets are read from: units and bytes to copy into, words to parse. */
  private readonly copy: CopyTarget;
  private readonly copyWords: Int32Array;
  /**
   * The private copy mirrors the ring from the read index: bytes
   * [copyStart, copyEnd) of it are the ring's from `readIndex` on, as they
   * were when copied (a packet's bytes are read from the ring once).
   */
  private copyStart = 0;
  private copyEnd = 0;
  /** Most bytes `copyAhead` takes: `READ_AHEAD_BYTES`, or the whole copy when smaller. */
  private readonly readAheadBytes: number;
  /** Where the next packet starts (private until `commit`). */
  private readIndex: number;
  /** The read index last published. */
  private committedReadIndex: number;
  /** The writer's index as last loaded; stable within a batch. */
  private cachedWriteIndex: number;
  private corruption: RingCorruptError | null = null;

  constructor(memory: RingMemory) {
    this.memory = memory;
    this.dataSize = memory.dataSize;
    this.control = memory.control;
    const copy = new ArrayBuffer(Math.min(this.dataSize - PACKET_TRAILER_SIZE, MAX_PACKET_LENGTH));
    this.copy = copyTarget(copy);
    this.copyWords = new Int32Array(copy);
    this.packet = new RingPacketView(this.copy.bytes, this.copy.units);
    this.readAheadBytes = Math.min(READ_AHEAD_BYTES, copy.byteLength);
    // Our own index, but the page is shared: validate it like the peer's.
    const readIndex = Atomics.load(this.control, RING_CONTROL_WORD.readIndex) >>> 0;
    if (!isValidRingIndex(readIndex, this.dataSize)) this.fail('invalid-read-index', indexMessage('read', readIndex, this.dataSize));
    this.readIndex = readIndex;
    this.committedReadIndex = readIndex;
    this.cachedWriteIndex = readIndex;
    this.loadWriteIndex();
  }

  /** The error that poisoned this reader, if any. */
  get corruptError(): RingCorruptError | null {
    return this.corruption;
  }

  /**
   * Reads the next packet into `packet`. Returns false when the ring is empty.
   * Throws RingCorruptError when the writer broke the ring.
   */
  tryRead(): boolean {
    if (this.corruption !== null) throw this.corruption;
    const readIndex = this.readIndex;
    let writeIndex = this.cachedWriteIndex;
    if (readIndex === writeIndex) {
      writeIndex = this.loadWriteIndex();
      if (readIndex === writeIndex) return false;
    }
    const available = ringBytesUsed(writeIndex, readIndex, this.dataSize);
    // Literal wire sizes on this path (see ring-indices.ts): 16 descriptor, 8 trailer, 24 both.
    if (available < 24) {
      this.fail('truncated-packet', `${available} bytes published at read index ${readIndex}: less than a descriptor and trailer`);
    }
    // Parse only the private copy: the writer may rewrite the ring meanwhile.
    const words = this.copyWords;
    let at = this.copyStart;
    if (this.copyEnd - at < 16) at = this.copyAhead(readIndex, available);
    const word0 = words[at >>> 2]!;
    const word1 = words[(at >>> 2) + 1]!;
    const packetType = word0 & 0xffff;
    const dataOffset8 = word0 >>> 16;
    const length8 = word1 & 0xffff;
    const flags = word1 >>> 16;
    // The trailer must be published too (OpenVMM checks only length8 * 8: its off-by-8, §3.1).
    const problem = checkPacketDescriptor(packetType, dataOffset8, length8, flags, available - 8);
    if (problem !== null) {
      this.fail(
        problem,
        `at read index ${readIndex}: ` + describeDescriptorProblem(problem, packetType, dataOffset8, length8, flags, available - 8),
      );
    }
    const length = length8 * 8;
    if (this.copyEnd - at < length) at = this.copyRest(readIndex, at, length);
    const packet = this.packet;
    packet.start = at;
    packet.packetType = packetType;
    packet.flags = flags;
    packet.dataOffset8 = dataOffset8;
    packet.length8 = length8;
    packet.transactionIdLo = words[(at >>> 2) + 2]! >>> 0;
    packet.transactionIdHi = words[(at >>> 2) + 3]! >>> 0;
    this.copyStart = at + length + 8;
    this.readIndex = advanceRingIndex(readIndex, length + 8, this.dataSize);
    return true;
  }

  /** True when no packet is waiting past the private read index. */
  isEmpty(): boolean {
    if (this.corruption !== null) throw this.corruption;
    return this.readIndex === this.cachedWriteIndex && this.readIndex === this.loadWriteIndex();
  }

  /** Reads taken since the last commit: bytes that `commit` will hand back to the writer. */
  get uncommittedBytes(): number {
    return ringBytesUsed(this.readIndex, this.committedReadIndex, this.dataSize);
  }

  /**
   * Publishes the read index once for the whole batch. Returns true when the
   * writer must be signalled now: it set a pending send size, the ring says it
   * supports that (feature bit), and this batch moved the free space from
   * "not enough" to "enough". Free space counts like Linux's (size − used),
   * where equal to pending is still not enough (linux-vmbus.md §A.1.4).
   */
  commit(): boolean {
    if (this.corruption !== null) throw this.corruption;
    const next = this.readIndex;
    const previous = this.committedReadIndex;
    if (next === previous) return false;
    const control = this.control;
    Atomics.store(control, RING_CONTROL_WORD.readIndex, next);
    this.committedReadIndex = next;
    if ((Atomics.load(control, RING_CONTROL_WORD.featureBits) & FEATURE_SUPPORTS_PENDING_SEND_SIZE) === 0) return false;
    // Low bits masked: some writers set ring size − 1, which no packet size can be (OpenVMM lib.rs:931-936).
    const pending = (Atomics.load(control, RING_CONTROL_WORD.pendingSendSize) & ~7) >>> 0;
    if (pending === 0) return false;
    // Loaded after pending send size, as Linux requires, so a writer that just set it is seen with its index.
    const writeIndex = this.loadWriteIndex();
    const size = this.dataSize;
    const freeBefore = size - ringBytesUsed(writeIndex, previous, size);
    const freeAfter = size - ringBytesUsed(writeIndex, next, size);
    return freeBefore <= pending && freeAfter > pending;
  }

  /** Asks the writer not to signal on empty → non-empty: we are draining (or polling). */
  maskInterrupts(): void {
    if (this.corruption !== null) throw this.corruption;
    Atomics.store(this.control, RING_CONTROL_WORD.interruptMask, 1);
  }

  /**
   * Clears the interrupt mask, then looks at the ring again to close the race
   * with a writer that published while the mask was still set. Returns true
   * when the ring is empty: the writer will signal the next packet, so the
   * caller may sleep. Returns false when packets raced in: the mask is set
   * again and the caller keeps reading. Commit before calling: the writer
   * decides on the published read index.
   */
  unmaskInterruptsIfEmpty(): boolean {
    if (this.corruption !== null) throw this.corruption;
    if (this.readIndex !== this.committedReadIndex) {
      throw new Error('RingReader: commit() the batch before unmasking; the writer compares against the published read index');
    }
    const control = this.control;
    Atomics.store(control, RING_CONTROL_WORD.interruptMask, 0);
    if (this.loadWriteIndex() === this.readIndex) return true;
    Atomics.store(control, RING_CONTROL_WORD.interruptMask, 1);
    return false;
  }

  /** Whether the writer reads our interrupt mask as set. */
  get interruptsMasked(): boolean {
    return Atomics.load(this.control, RING_CONTROL_WORD.interruptMask) !== 0;
  }

  /** Whether the writer advertises pending-send-size support on this ring. */
  get writerSupportsPendingSendSize(): boolean {
    return (Atomics.load(this.control, RING_CONTROL_WORD.featureBits) & FEATURE_SUPPORTS_PENDING_SEND_SIZE) !== 0;
  }

  /**
   * Copies what is published from `readIndex` on, up to `READ_AHEAD_BYTES`,
   * to the start of the private copy, which then mirrors the ring from the
   * read index: the packets behind this one are read from it, one bulk copy
   * for a batch of small packets instead of a copy each. Returns where the
   * packet at `readIndex` now starts (0).
   */
  private copyAhead(readIndex: number, available: number): number {
    const byteLength = Math.min(available, this.readAheadBytes);
    this.memory.read(readIndex, byteLength, this.copy, 0);
    this.copyStart = 0;
    this.copyEnd = byteLength;
    return 0;
  }

  /**
   * Completes a packet the copy ends inside: its first bytes (descriptor
   * included, already checked) are in the copy from `at`, the rest is copied
   * from the ring behind them, so no byte is read twice. A packet with no room
   * behind it in the copy moves to the start first (a local copy). Returns
   * where the packet now starts.
   */
  private copyRest(readIndex: number, at: number, length: number): number {
    const copied = this.copyEnd - at;
    let start = at;
    if (start + length > this.copy.bytes.length) {
      this.copy.bytes.copyWithin(0, start, this.copyEnd);
      start = 0;
    }
    this.memory.read(readIndex + copied, length - copied, this.copy, (start + copied) >>> 3);
    this.copyEnd = start + length;
    return start;
  }

  /** Loads the writer's index once, validated, and caches it for the batch. */
  private loadWriteIndex(): number {
    const index = Atomics.load(this.control, RING_CONTROL_WORD.writeIndex) >>> 0;
    if (!isValidRingIndex(index, this.dataSize)) this.fail('invalid-write-index', indexMessage('write', index, this.dataSize));
    this.cachedWriteIndex = index;
    return index;
  }

  private fail(code: RingCorruptCode, message: string): never {
    this.corruption = new RingCorruptError(code, `ring reader: ${message}`);
    throw this.corruption;
  }
}
