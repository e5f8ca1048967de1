/**
 * The ring control page: the first 4 KiB page of each ring (one ring per
 * direction), followed by the data pages. Layout from openvmm-vmbus.md §6.2
 * (`vmbus_ring/src/lib.rs:98-157`) and linux-vmbus.md §A.1.1
 * (`struct hv_ring_buffer`), which agree: write index @0, read index @4,
 * interrupt mask @8, pending send size @12, feature bits @64, data @4096.
 *
 * Indices are byte offsets into the data area, 8-aligned and below its size.
 */
import { WireError, wireError } from './wire-error.js';

/** Hyper-V page size; rings are made of whole pages. */
export const RING_PAGE_SIZE = 4096;
export const RING_CONTROL_PAGE_SIZE = RING_PAGE_SIZE;
/** Byte offset of the data area from the start of the ring (after the control page). */
export const RING_DATA_OFFSET = RING_PAGE_SIZE;

/** Byte offsets of the control fields. */
export const RING_WRITE_INDEX_OFFSET = 0;
export const RING_READ_INDEX_OFFSET = 4;
export const RING_INTERRUPT_MASK_OFFSET = 8;
export const RING_PENDING_SEND_SIZE_OFFSET = 12;
export const RING_FEATURE_BITS_OFFSET = 64;

/**
 * The same fields as indices into an `Int32Array` over the control page, the
 * view `Atomics` needs (OpenVMM keeps the same `[AtomicU32; 32]` view).
 */
export const RING_CONTROL_WORD = {
  writeIndex: RING_WRITE_INDEX_OFFSET / 4,
  readIndex: RING_READ_INDEX_OFFSET / 4,
  interruptMask: RING_INTERRUPT_MASK_OFFSET / 4,
  pendingSendSize: RING_PENDING_SEND_SIZE_OFFSET / 4,
  featureBits: RING_FEATURE_BITS_OFFSET / 4,
} as const;

/** Bytes of the control page that carry fields (OpenVMM reads the first 128). */
export const RING_CONTROL_USED_SIZE = RING_FEATURE_BITS_OFFSET + 4;

/**
 * Feature bit 0: the ring's producer sets pending send size when it is blocked
 * (and signals the other ring's producer when it frees space), so the consumer
 * must signal on the not-enough → enough crossing (`lib.rs:157`).
 */
export const FEATURE_SUPPORTS_PENDING_SEND_SIZE = 1;

/** Ring indices and the pending send size are multiples of this. */
export const RING_INDEX_ALIGNMENT = 8;

/** The control fields, unsigned 32-bit each. */
export interface RingControl {
  writeIndex: number;
  readIndex: number;
  interruptMask: number;
  pendingSendSize: number;
  featureBits: number;
}

/** Reads the control fields from the start of a control page. */
export function decodeRingControl(bytes: Uint8Array): RingControl | WireError {
  if (bytes.length < RING_CONTROL_USED_SIZE) {
    return wireError('truncated', `ring control needs ${RING_CONTROL_USED_SIZE} bytes, got ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    writeIndex: view.getUint32(RING_WRITE_INDEX_OFFSET, true),
    readIndex: view.getUint32(RING_READ_INDEX_OFFSET, true),
    interruptMask: view.getUint32(RING_INTERRUPT_MASK_OFFSET, true),
    pendingSendSize: view.getUint32(RING_PENDING_SEND_SIZE_OFFSET, true),
    featureBits: view.getUint32(RING_FEATURE_BITS_OFFSET, true),
  };
}

/** Writes the control fields into `page` (at least 68 bytes); other bytes are untouched. */
export function encodeRingControl(control: RingControl, page: Uint8Array): WireError | null {
  if (page.length < RING_CONTROL_USED_SIZE) {
    return wireError('truncated', `ring control needs ${RING_CONTROL_USED_SIZE} bytes, got ${page.length}`);
  }
  for (const [name, value] of Object.entries(control)) {
    if (!isU32(value)) return wireError('bad-value', `ring control ${name} is not a u32: ${value}`);
  }
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  view.setUint32(RING_WRITE_INDEX_OFFSET, control.writeIndex, true);
  view.setUint32(RING_READ_INDEX_OFFSET, control.readIndex, true);
  view.setUint32(RING_INTERRUPT_MASK_OFFSET, control.interruptMask, true);
  view.setUint32(RING_PENDING_SEND_SIZE_OFFSET, control.pendingSendSize, true);
  view.setUint32(RING_FEATURE_BITS_OFFSET, control.featureBits, true);
  return null;
}

/** `index` is a valid position in a data area of `dataSize` bytes: below it and 8-aligned. */
export function isValidRingIndex(index: number, dataSize: number): boolean {
  return index >>> 0 === index && index < dataSize && (index & (RING_INDEX_ALIGNMENT - 1)) === 0;
}

/** Why a data area size is unusable, or null: whole pages, at least one, and u32 indices. */
export function ringDataSizeProblem(dataSize: number): string | null {
  if (!Number.isInteger(dataSize) || dataSize < RING_PAGE_SIZE) {
    return `ring data area must hold at least one ${RING_PAGE_SIZE}-byte page, got ${dataSize} bytes`;
  }
  if (dataSize % RING_PAGE_SIZE !== 0) {
    return `ring data area must be a multiple of ${RING_PAGE_SIZE} bytes, got ${dataSize}`;
  }
  if (dataSize > 0xffff_ffff) return `ring data area must fit u32 indices, got ${dataSize} bytes`;
  return null;
}

function isU32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff;
}
