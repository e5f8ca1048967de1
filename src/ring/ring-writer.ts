/**
 * The producing end of one ring. It writes packets in batches: `tryWrite`
 * lays a packet (descriptor, optional header, payload, padding, trailer) past
 * a private write index, `commit` publishes the index once and says whether
 * the reader must be signalled. When the ring is full, `tryWrite` returns
 * false with `neededBytes` set; `requestSpace` then asks the reader, through
 * the pending send size, to signal once that much is free.
 *
 * Local mistakes (a packet that can never fit, a bad type) throw RangeError;
 * a peer that broke the ring (bad read index) makes this end throw
 * RingCorruptError from then on.
 */
import { MAX_KNOWN_PACKET_TYPE, PACKET_TYPE } from '../wire/packet-types.js';
import {
  MAX_PACKET_LENGTH,
  PACKET_DESCRIPTOR_SIZE,
  PACKET_KNOWN_FLAGS,
  PACKET_TRAILER_SIZE,
} from '../wire/packet-descriptor.js';
import { RING_CONTROL_WORD, isValidRingIndex } from '../wire/ring-control.js';
import type { RingMemory } from './ring-memory.js';
import { RingCorruptError, type RingCorruptCode } from './ring-corrupt-error.js';
import { RING_RESERVED_BYTES, advanceRingIndex, indexMessage, ringBytesUsed, ringBytesWritable } from './ring-indices.js';

const EMPTY = new Uint8Array(0);

export class RingWriter {
  readonly memory: RingMemory;
  readonly dataSize: number;
  /** The largest packet, trailer included, an empty ring takes: size − 8. */
  readonly maxPacketSize: number;
  /** After `tryWrite` returned false: ring bytes the refused packet needs, trailer included. */
  neededBytes = 0;
  private readonly control: Int32Array;
  /** Where the next packet goes (private until `commit`). */
  private writeIndex: number;
  /** The write index last published. */
  private committedWriteIndex: number;
  /** The reader's index as last loaded; refreshed only when space looks short. */
  private cachedReadIndex: number;
  /** What we last stored as pending send size (0: none). */
  private pendingSendSize = 0;
  private corruption: RingCorruptError | null = null;

  constructor(memory: RingMemory) {
    this.memory = memory;
    this.dataSize = memory.dataSize;
    this.control = memory.control;
    this.maxPacketSize = this.dataSize - RING_RESERVED_BYTES;
    // Our own index, but the page is shared: validate it like the peer's.
    const writeIndex = Atomics.load(this.control, RING_CONTROL_WORD.writeIndex) >>> 0;
    if (!isValidRingIndex(writeIndex, this.dataSize)) {
      this.fail('invalid-write-index', indexMessage('write', writeIndex, this.dataSize));
    }
    this.writeIndex = writeIndex;
    this.committedWriteIndex = writeIndex;
    this.cachedReadIndex = writeIndex;
    this.loadReadIndex();
  }

  /** The error that poisoned this writer, if any. */
  get corruptError(): RingCorruptError | null {
    return this.corruption;
  }

  /**
   * Writes one packet past the private write index. `header` is the extended
   * header between descriptor and payload (a multiple of 8 bytes; empty for
   * in-band and completion packets). The transaction id is two unsigned
   * 32-bit halves (no BigInt on the hot path). Returns false, with
   * `neededBytes` set, when the ring lacks room now.
   */
  tryWrite(
    packetType: number,
    flags: number,
    transactionIdLo: number,
    transactionIdHi: number,
    header: Uint8Array,
    payload: Uint8Array,
  ): boolean {
    if (this.corruption !== null) throw this.corruption;
    const dataOffset = PACKET_DESCRIPTOR_SIZE + header.length;
    const payloadLength = payload.length;
    const length = (dataOffset + payloadLength + 7) & ~7;
    const total = length + PACKET_TRAILER_SIZE;
    if (dataOffset + payloadLength > MAX_PACKET_LENGTH || total > this.maxPacketSize) {
      throw new RangeError(
        `a ${dataOffset + payloadLength}-byte packet never fits: this ring takes ${this.maxPacketSize} bytes ` +
          `with the trailer, and length8 caps a packet at ${MAX_PACKET_LENGTH}`,
      );
    }
    if ((header.length & 7) !== 0) throw new RangeError(`extended header must be a multiple of 8 bytes, got ${header.length}`);
    if (packetType >>> 0 !== packetType || packetType > MAX_KNOWN_PACKET_TYPE) {
      throw new RangeError(`packet type ${packetType} is not a VMBus packet type`);
    }
    if ((flags & ~PACKET_KNOWN_FLAGS) !== 0) throw new RangeError(`packet flags 0x${flags.toString(16)} has unknown bits`);

    const size = this.dataSize;
    const at = this.writeIndex;
    if (ringBytesWritable(at, this.cachedReadIndex, size) < total) {
      if (ringBytesWritable(at, this.loadReadIndex(), size) < total) {
        this.neededBytes = total;
        return false;
      }
    }
    const memory = this.memory;
    // Descriptor as two aligned units of little-endian words: type|dataOffset8, length8|flags; id lo, id hi.
    memory.writeUnit(at, packetType | ((dataOffset >>> 3) << 16), (length >>> 3) | (flags << 16));
    memory.writeUnit(at + 8, transactionIdLo, transactionIdHi);
    if (header.length !== 0) memory.writeBytes(at + PACKET_DESCRIPTOR_SIZE, header);
    // Zero the last unit before the payload lands on it: padding must not leak old ring bytes.
    if ((payloadLength & 7) !== 0) memory.writeUnit(at + length - 8, 0, 0);
    if (payloadLength !== 0) memory.writeBytes(at + dataOffset, payload);
    memory.writeUnit(at + length, 0, at);
    this.writeIndex = advanceRingIndex(at, total, size);
    if (this.pendingSendSize !== 0) this.clearPendingSendSize();
    return true;
  }

  /** An in-band packet (type 6); pass `PACKET_FLAG_COMPLETION_REQUESTED` in `flags` to ask for a completion. */
  tryWriteInBand(payload: Uint8Array, transactionIdLo = 0, transactionIdHi = 0, flags = 0): boolean {
    return this.tryWrite(PACKET_TYPE.VM_PKT_DATA_INBAND, flags, transactionIdLo, transactionIdHi, EMPTY, payload);
  }

  /** A completion packet (type 0xB) echoing a request's transaction id. */
  tryWriteCompletion(payload: Uint8Array, transactionIdLo: number, transactionIdHi: number): boolean {
    return this.tryWrite(PACKET_TYPE.VM_PKT_COMP, 0, transactionIdLo, transactionIdHi, EMPTY, payload);
  }

  /**
   * Publishes the write index once for the whole batch. Returns true when the
   * reader must be signalled now: its interrupt mask is clear and it had
   * consumed everything before this batch (empty → non-empty).
   */
  commit(): boolean {
    if (this.corruption !== null) throw this.corruption;
    const next = this.writeIndex;
    const previous = this.committedWriteIndex;
    if (next === previous) return false;
    const control = this.control;
    Atomics.store(control, RING_CONTROL_WORD.writeIndex, next);
    this.committedWriteIndex = next;
    if (Atomics.load(control, RING_CONTROL_WORD.interruptMask) !== 0) return false;
    return this.loadReadIndex() === previous;
  }

  /**
   * After a refused write: asks the reader to signal once `bytes` are free,
   * via the pending send size. Like OpenVMM (`vmbus_async/core.rs`), asks for
   * at least a quarter of the ring so a slow reader is not woken for every
   * packet it frees. Then looks again, closing the race with a reader that
   * freed space before it saw the request: returns true when `bytes` fit now
   * (retry at once), false when the caller should wait for the signal.
   */
  requestSpace(bytes: number = this.neededBytes): boolean {
    if (this.corruption !== null) throw this.corruption;
    if (!(bytes >= 0 && bytes <= this.maxPacketSize)) {
      throw new RangeError(`cannot wait for ${bytes} bytes in a ring whose largest packet is ${this.maxPacketSize}`);
    }
    const quarter = Math.floor(this.maxPacketSize / 4);
    const pending = Math.min(Math.ceil(Math.max(bytes, quarter) / 8) * 8, this.maxPacketSize);
    if (pending !== this.pendingSendSize) {
      Atomics.store(this.control, RING_CONTROL_WORD.pendingSendSize, pending);
      this.pendingSendSize = pending;
    }
    if (ringBytesWritable(this.writeIndex, this.loadReadIndex(), this.dataSize) >= bytes) {
      this.clearPendingSendSize();
      return true;
    }
    return false;
  }

  /** Withdraws a pending send size (a successful `tryWrite` does this itself). */
  clearPendingSendSize(): void {
    Atomics.store(this.control, RING_CONTROL_WORD.pendingSendSize, 0);
    this.pendingSendSize = 0;
  }

  /** Bytes a packet (trailer included) may take now, after loading the reader's index. */
  writableBytes(): number {
    if (this.corruption !== null) throw this.corruption;
    return ringBytesWritable(this.writeIndex, this.loadReadIndex(), this.dataSize);
  }

  /** Bytes written since the last commit. */
  get uncommittedBytes(): number {
    return ringBytesUsed(this.writeIndex, this.committedWriteIndex, this.dataSize);
  }

  /** Loads the reader's index once, validated, and caches it. */
  private loadReadIndex(): number {
    const index = Atomics.load(this.control, RING_CONTROL_WORD.readIndex) >>> 0;
    if (!isValidRingIndex(index, this.dataSize)) this.fail('invalid-read-index', indexMessage('read', index, this.dataSize));
    this.cachedReadIndex = index;
    return index;
  }

  private fail(code: RingCorruptCode, message: string): never {
    this.corruption = new RingCorruptError(code, `ring writer: ${message}`);
    throw this.corruption;
  }
}
