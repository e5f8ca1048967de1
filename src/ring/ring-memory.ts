/**
 * The memory seam under the ring engine: a control page the engine reads and
 * writes with `Atomics`, and a data area it copies packets in and out of,
 * wrapping at the end. Implementations: `FlatRingMemory` (one contiguous byte
 * array) and `PagedRingMemory` (4 KiB pages scattered in guest memory).
 */
import { copyByteRange } from './shared-copy.js';
import { copyUnitRun } from './unit-copy.js';
import {
  FEATURE_SUPPORTS_PENDING_SEND_SIZE,
  RING_CONTROL_PAGE_SIZE,
  RING_CONTROL_WORD,
  ringDataSizeProblem,
} from '../wire/ring-control.js';

// Descriptor and trailer words are stored and parsed through Int32Array views,
// whose byte order is the platform's; VMBus is little-endian, so refuse anything else.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('kmcl ring engine needs a little-endian platform');
}

export interface RingMemory {
  /** The control page as 32-bit words (indices in `RING_CONTROL_WORD`), for `Atomics`. */
  readonly control: Int32Array;
  /** Bytes in the data area: whole 4 KiB pages, at least one. */
  readonly dataSize: number;
  /**
   * Copies `byteLength` bytes (a multiple of 8, at most `dataSize`) starting at
   * data offset `offset` into `target` from unit `targetUnit`. `offset` is
   * 8-aligned and below `2 * dataSize`; offsets and copies past the end wrap,
   * as if the data pages were mapped twice back to back.
   */
  read(offset: number, byteLength: number, target: CopyTarget, targetUnit: number): void;
  /** Copies all of `source` (at most `dataSize` bytes) to data offset `offset`, wrapping as above. */
  writeBytes(offset: number, source: Uint8Array): void;
  /**
   * Stores one 8-byte unit as two little-endian 32-bit words (`low` first) at an
   * 8-aligned data offset below `2 * dataSize` (wraps). A unit never straddles the end.
   */
  writeUnit(offset: number, low: number, high: number): void;
  /**
   * The whole data area as one run of memory in ring order, when it is one
   * (always for `FlatRingMemory`; for `PagedRingMemory` when the pages sit back
   * to back in one buffer, as a fresh GPADL's usually do), else null. The
   * writer lays packets that do not wrap straight into it: about a third of a
   * small packet's cost is the seam's calls otherwise.
   */
  readonly contiguous: ContiguousRingData | null;
}

/** Three views of the same `dataSize` bytes: the data area, from offset 0. */
export interface ContiguousRingData {
  readonly bytes: Uint8Array;
  readonly words: Int32Array;
  readonly units: BigInt64Array;
}

/** The views of `ContiguousRingData` over `dataSize` bytes of `bytes` from `offset` (8-aligned). */
export function contiguousRingData(bytes: Uint8Array, offset: number, dataSize: number): ContiguousRingData {
  return {
    bytes: bytes.subarray(offset, offset + dataSize),
    words: wordView(bytes, offset, dataSize),
    units: unitView(bytes, offset, dataSize),
  };
}

/**
 * A private buffer packets are copied into, seen two ways: as 8-byte units for
 * small copies and as bytes for bulk ones. Made once by its owner.
 */
export interface CopyTarget {
  readonly units: BigInt64Array;
  /** The same memory as `units`. */
  readonly bytes: Uint8Array;
}

/** A `CopyTarget` over all of `buffer` (its length a multiple of 8). */
export function copyTarget(buffer: ArrayBuffer): CopyTarget {
  return { units: new BigInt64Array(buffer), bytes: new Uint8Array(buffer) };
}

/**
 * Copies of at most this many 8-byte units run unit by unit (`copyUnitRun`):
 * below ~512 bytes that beats a bulk copy, whose view allocation and call
 * cost ~60-150 ns; above it the bulk copy (native from 2 KiB) wins.
 */
export const SMALL_COPY_UNITS = 64;

/** Copies `count` units of ring memory (`units`, the same memory as `bytes`) from unit `from` into `target` at unit `to`. */
export function copyUnits(units: BigInt64Array, bytes: Uint8Array, from: number, count: number, target: CopyTarget, to: number): void {
  if (count <= SMALL_COPY_UNITS) {
    copyUnitRun(units, from, count, target.units, to);
  } else {
    copyByteRange(target.bytes, to << 3, bytes, from << 3, count << 3);
  }
}

/** Throws a RangeError naming the problem when `dataSize` is not a usable data area size. */
export function assertRingDataSize(dataSize: number): void {
  const problem = ringDataSizeProblem(dataSize);
  if (problem !== null) throw new RangeError(problem);
}

/** An `Int32Array` over a 4096-byte control page view (8-aligned, as `Atomics` and our word copies need). */
export function controlWords(page: Uint8Array): Int32Array {
  if (page.length < RING_CONTROL_PAGE_SIZE) {
    throw new RangeError(`ring control page needs ${RING_CONTROL_PAGE_SIZE} bytes, got ${page.length}`);
  }
  return wordView(page, 0, RING_CONTROL_PAGE_SIZE);
}

/** An `Int32Array` over `length` bytes of `bytes` from `offset`; the start must be 8-aligned. */
export function wordView(bytes: Uint8Array, offset: number, length: number): Int32Array {
  return new Int32Array(bytes.buffer, alignedStart(bytes, offset), length / 4);
}

/** A `BigInt64Array` over `length` bytes of `bytes` from `offset`; the start must be 8-aligned. */
export function unitView(bytes: Uint8Array, offset: number, length: number): BigInt64Array {
  return new BigInt64Array(bytes.buffer, alignedStart(bytes, offset), length / 8);
}

function alignedStart(bytes: Uint8Array, offset: number): number {
  const start = bytes.byteOffset + offset;
  if (start % 8 !== 0) {
    throw new RangeError(`ring memory must start 8-byte aligned in its buffer, starts at byte ${start}`);
  }
  return start;
}

export interface RingInitOptions {
  /** Feature bits to advertise; default `FEATURE_SUPPORTS_PENDING_SEND_SIZE`, as Linux sets on every ring it creates. */
  featureBits?: number;
  /** Start with the reader's interrupt mask set (OpenVMM does this on rings it reads). Default false. */
  interruptMask?: boolean;
}

/**
 * Puts a fresh ring's control page in its starting state: empty (both indices
 * 0), no pending send size, the given feature bits. Done once by whoever
 * creates the ring, before either end attaches.
 */
export function initializeRing(memory: RingMemory, options: RingInitOptions = {}): void {
  const control = memory.control;
  control.fill(0, 0, RING_CONTROL_WORD.featureBits + 1);
  Atomics.store(control, RING_CONTROL_WORD.interruptMask, options.interruptMask === true ? 1 : 0);
  Atomics.store(control, RING_CONTROL_WORD.featureBits, options.featureBits ?? FEATURE_SUPPORTS_PENDING_SEND_SIZE);
}
