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
import { MAX_PACKET_LENGTH } from '../wire/packet-descriptor.js';
import { RING_CONTROL_WORD, isValidRingIndex } from '../wire/ring-control.js';
import type { ContiguousRingData, RingMemory } from './ring-memory.js';
import { RingCorruptError, type RingCorruptCode } from './ring-corrupt-error.js';
import { copyBytes } from './shared-copy.js';
import { copyUnitRun } from './unit-copy.js';
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
  /** Where a packet that cannot go straight into the ring is laid first; grown on demand. */
  private staging: ContiguousRingData = copyViews(new ArrayBuffer(0));
  /** The payload seen last, and its 8-byte units once it came twice in a row (see `unitsOf`). */
  private lastPayload: Uint8Array = EMPTY;
  private lastPayloadUnits: BigInt64Array | null = null;
  /** The buffer the ring's contiguous data lives in: a payload viewing it may overlap its target. */
  private readonly ringBuffer: ArrayBufferLike | null;

  constructor(memory: RingMemory) {
    this.memory = memory;
    this.dataSize = memory.dataSize;
    this.control = memory.control;
    this.maxPacketSize = this.dataSize - RING_RESERVED_BYTES;
    this.ringBuffer = memory.contiguous?.bytes.buffer ?? null;
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
    // Literal wire sizes on this path (see ring-indices.ts): 16 descriptor, 8 trailer, 0xd last type, 1 known flag.
    const headerLength = header.length;
    const unpadded = 16 + headerLength + payload.length;
    const length = (unpadded + 7) & ~7;
    const total = length + 8;
    if (
      total > this.maxPacketSize ||
      unpadded > 524_280 ||
      (headerLength & 7) !== 0 ||
      packetType >>> 0 !== packetType ||
      packetType > 0xd ||
      (flags & ~1) !== 0
    ) {
      refusePacket(packetType, flags, headerLength, unpadded, total, this.maxPacketSize);
    }
    const size = this.dataSize;
    const at = this.writeIndex;
    if (ringBytesWritable(at, this.cachedReadIndex, size) < total) {
      if (ringBytesWritable(at, this.loadReadIndex(), size) < total) {
        this.neededBytes = total;
        return false;
      }
    }
    const flat = this.memory.contiguous;
    if (flat !== null && at + total <= size) {
      layPacket(flat, at, at, packetType, flags, transactionIdLo, transactionIdHi, header, payload, this.unitsOf(payload), length);
    } else if (flat !== null && payload.buffer !== this.ringBuffer && header.buffer !== this.ringBuffer) {
      writeWrappingPacket(this.memory, at, packetType, flags, transactionIdLo, transactionIdHi, header, payload, length);
    } else {
      // Pages scattered in guest memory, or bytes viewing the ring itself (a first piece
      // could overwrite what the second copies): lay it privately, then one copy through the seam.
      const staging = this.stagingFor(total);
      layPacket(staging, 0, at, packetType, flags, transactionIdLo, transactionIdHi, header, payload, this.unitsOf(payload), length);
      this.memory.writeBytes(at, staging.bytes.subarray(0, total));
    }
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

  /** The staging buffer, with room for `bytes` (a power of two from 256 B, so it grows a few times at most). */
  private stagingFor(bytes: number): ContiguousRingData {
    if (this.staging.bytes.length < bytes) this.staging = copyViews(new ArrayBuffer(Math.max(256, 2 ** Math.ceil(Math.log2(bytes)))));
    return this.staging;
  }

  /**
   * `payload` as 8-byte units, for a copy without a runtime call (~25 ns less
   * for 64 bytes than `set`), or null to copy it with `set`. Only a payload
   * passed twice in a row gets a view (drivers reuse their send buffers; a
   * fresh view per packet would cost more than it saves), and only one that
   * is 8-aligned, whole units and small (above 512 bytes `set` wins), and
   * not a view of the ring's own buffer (it could overlap where it goes, which
   * `set` copies as if through a temporary and a unit copy would not). The
   * lengths are compared at every use: a detached or shrunk buffer changes
   * them, and then the view is not used.
   */
  private unitsOf(payload: Uint8Array): BigInt64Array | null {
    const length = payload.length;
    if (payload !== this.lastPayload) {
      this.lastPayload = payload;
      this.lastPayloadUnits = null;
      return null;
    }
    let units = this.lastPayloadUnits;
    if (units === null && (length & 7) === 0 && length <= 512 && (payload.byteOffset & 7) === 0 && payload.buffer !== this.ringBuffer) {
      units = this.lastPayloadUnits = new BigInt64Array(payload.buffer, payload.byteOffset, length >>> 3);
    }
    return units !== null && units.length === length >>> 3 ? units : null;
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

/**
 * Lays one packet (descriptor, header, payload, zeroed padding, trailer) at
 * byte `base` of `target`, for ring offset `at`, which the trailer records.
 * `length` is the padded packet length; `payloadUnits` is the payload as
 * 8-byte units when `unitsOf` gave them. Wire sizes are literals, as in
 * `tryWrite`.
 */
function layPacket(
  target: ContiguousRingData,
  base: number,
  at: number,
  packetType: number,
  flags: number,
  transactionIdLo: number,
  transactionIdHi: number,
  header: Uint8Array,
  payload: Uint8Array,
  payloadUnits: BigInt64Array | null,
  length: number,
): void {
  const words = target.words;
  const word = base >>> 2;
  const dataOffset = 16 + header.length;
  words[word] = descriptorTypeWord(packetType, dataOffset);
  words[word + 1] = descriptorLengthWord(length, flags);
  words[word + 2] = transactionIdLo;
  words[word + 3] = transactionIdHi;
  if (header.length !== 0) copyBytes(target.bytes, base + 16, header);
  // Zero the last unit before the payload lands on it: padding must not leak old ring bytes.
  const padding = word + (length >>> 2) - 2;
  if ((payload.length & 7) !== 0) {
    words[padding] = 0;
    words[padding + 1] = 0;
  }
  if (payloadUnits !== null) {
    copyUnitRun(payloadUnits, 0, payloadUnits.length, target.units, (base + dataOffset) >>> 3);
  } else if (payload.length !== 0) {
    copyBytes(target.bytes, base + dataOffset, payload);
  }
  // Trailer: the packet's start offset in the high word (Linux's prev_indices).
  words[padding + 2] = 0;
  words[padding + 3] = at;
}

/**
 * `layPacket` for a packet that runs past the end of the data area, written
 * straight into the ring through the seam's wrapping `writeUnit` and
 * `writeBytes` (header and payload in up to two pieces each). Spares the
 * staging copy of the whole packet (one packet in sixteen wraps a 256 KiB
 * ring at 16 KiB).
 */
function writeWrappingPacket(
  memory: RingMemory,
  at: number,
  packetType: number,
  flags: number,
  transactionIdLo: number,
  transactionIdHi: number,
  header: Uint8Array,
  payload: Uint8Array,
  length: number,
): void {
  const dataOffset = 16 + header.length;
  memory.writeUnit(at, descriptorTypeWord(packetType, dataOffset), descriptorLengthWord(length, flags));
  memory.writeUnit(at + 8, transactionIdLo, transactionIdHi);
  if (header.length !== 0) memory.writeBytes(at + 16, header);
  // As in layPacket: padding zeroed before the payload lands on its unit.
  if ((payload.length & 7) !== 0) memory.writeUnit(at + length - 8, 0, 0);
  if (payload.length !== 0) memory.writeBytes(at + dataOffset, payload);
  memory.writeUnit(at + length, 0, at);
}

/** Descriptor word 0, little-endian: packet type, then dataOffset8. */
function descriptorTypeWord(packetType: number, dataOffset: number): number {
  return packetType | ((dataOffset >>> 3) << 16);
}

/** Descriptor word 1, little-endian: length8, then flags. */
function descriptorLengthWord(length: number, flags: number): number {
  return (length >>> 3) | (flags << 16);
}

/** The three views of a private staging buffer. */
function copyViews(buffer: ArrayBuffer): ContiguousRingData {
  return { bytes: new Uint8Array(buffer), words: new Int32Array(buffer), units: new BigInt64Array(buffer) };
}

/** Throws the RangeError that says why `tryWrite` refused its arguments (the cold half of its one test). */
function refusePacket(
  packetType: number,
  flags: number,
  headerLength: number,
  unpadded: number,
  total: number,
  maxPacketSize: number,
): never {
  if (unpadded > MAX_PACKET_LENGTH || total > maxPacketSize) {
    throw new RangeError(
      `a ${unpadded}-byte packet never fits: this ring takes ${maxPacketSize} bytes ` +
        `with the trailer, and length8 caps a packet at ${MAX_PACKET_LENGTH}`,
    );
  }
  if ((headerLength & 7) !== 0) throw new RangeError(`extended header must be a multiple of 8 bytes, got ${headerLength}`);
  if (packetType >>> 0 !== packetType || packetType > MAX_KNOWN_PACKET_TYPE) {
    throw new RangeError(`packet type ${packetType} is not a VMBus packet type`);
  }
  throw new RangeError(`packet flags 0x${flags.toString(16)} has unknown bits`);
}
