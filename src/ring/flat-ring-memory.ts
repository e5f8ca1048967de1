/**
 * Ring memory over one contiguous byte array: the control page, then the
 * data pages. The bytes can be a plain `ArrayBuffer`, a `SharedArrayBuffer`
 * another thread maps too, or a mapped file's contents.
 */
import { RING_CONTROL_PAGE_SIZE, RING_DATA_OFFSET, RING_PAGE_SIZE } from '../wire/ring-control.js';
import {
  assertRingDataSize,
  contiguousRingData,
  controlWords,
  copyUnits,
  type ContiguousRingData,
  type CopyTarget,
  type RingMemory,
} from './ring-memory.js';
import { copyBytes } from './shared-copy.js';

export interface FlatRingAllocateOptions {
  /** Back the ring with a `SharedArrayBuffer` (default) so a worker can map the same bytes. */
  shared?: boolean;
}

export class FlatRingMemory implements RingMemory {
  readonly control: Int32Array;
  readonly dataSize: number;
  /** The whole ring: control page, then data area. */
  readonly bytes: Uint8Array;
  readonly contiguous: ContiguousRingData;

  /** `bytes`: a control page and whole data pages, starting 8-aligned in its buffer. */
  constructor(bytes: Uint8Array) {
    const dataSize = bytes.length - RING_CONTROL_PAGE_SIZE;
    assertRingDataSize(dataSize);
    this.bytes = bytes;
    this.control = controlWords(bytes);
    this.dataSize = dataSize;
    this.contiguous = contiguousRingData(bytes, RING_DATA_OFFSET, dataSize);
  }

  /** A zeroed ring of `dataPages` data pages (plus its control page). */
  static allocate(dataPages: number, options: FlatRingAllocateOptions = {}): FlatRingMemory {
    assertRingDataSize(dataPages * RING_PAGE_SIZE);
    const length = RING_CONTROL_PAGE_SIZE + dataPages * RING_PAGE_SIZE;
    const buffer = options.shared === false ? new ArrayBuffer(length) : new SharedArrayBuffer(length);
    return new FlatRingMemory(new Uint8Array(buffer));
  }

  read(offset: number, byteLength: number, target: CopyTarget, targetUnit: number): void {
    const size = this.dataSize;
    const start = offset >= size ? offset - size : offset;
    const first = size - start;
    const { units, bytes } = this.contiguous;
    if (byteLength <= first) {
      copyUnits(units, bytes, start >>> 3, byteLength >>> 3, target, targetUnit);
    } else {
      copyUnits(units, bytes, start >>> 3, first >>> 3, target, targetUnit);
      copyUnits(units, bytes, 0, (byteLength - first) >>> 3, target, targetUnit + (first >>> 3));
    }
  }

  writeBytes(offset: number, source: Uint8Array): void {
    const size = this.dataSize;
    const start = offset >= size ? offset - size : offset;
    const first = size - start;
    const data = this.contiguous.bytes;
    if (source.length <= first) {
      copyBytes(data, start, source);
    } else {
      copyBytes(data, start, source.subarray(0, first));
      copyBytes(data, 0, source.subarray(first));
    }
  }

  writeUnit(offset: number, low: number, high: number): void {
    const size = this.dataSize;
    const word = (offset >= size ? offset - size : offset) >>> 2;
    const words = this.contiguous.words;
    words[word] = low;
    words[word + 1] = high;
  }
}
