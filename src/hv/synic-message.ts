import { wireError, type WireError } from '../wire/wire-error.js';
import type { SharedBytes } from './shared-bytes.js';

/**
 * The SynIC message format (HV_MESSAGE) and event-flag geometry.
 *
 * Facts: Hyper-V TLFS "SIM and SIEF pages", HV_MESSAGE / HV_SYNIC_EVENT_FLAGS;
 * Linux `include/asm-generic/hyperv-tlfs.h:252-331` (linux-vmbus.md §A.3.1);
 * OpenVMM `vm/hv1/hvdef/src/lib.rs:1234-1259` (openvmm-vmbus.md §6.1).
 */

/** Synthetic interrupt sources per virtual processor. */
export const SINT_COUNT = 16;
/** SINT 0 is reserved for the hypervisor's own messages (TLFS HV_PORT_INFO: "range of 1 through 15"). */
export const FIRST_PORT_SINT = 1;
/** Size of one SIMP/SIEFP page. */
export const SYNIC_PAGE_SIZE = 4096;
/** One message slot: 16-byte header + 240-byte payload. */
export const HV_MESSAGE_SIZE = 256;
/** Largest payload a posted message may carry. */
export const HV_MESSAGE_PAYLOAD_MAX = 240;

/** Byte offsets inside one HV_MESSAGE. */
export const HV_MESSAGE_LAYOUT = {
  /** u32 message type; HVMSG_NONE (0) marks an empty slot. */
  TYPE: 0,
  /** u8 payload size. */
  PAYLOAD_SIZE: 4,
  /** u8 flags, bit 0 = MessagePending. */
  FLAGS: 5,
  /** u16 reserved. */
  RESERVED: 6,
  /** u64 port id (24-bit HV_PORT_ID in the low bits) / sender. */
  PORT: 8,
  /** 240-byte payload. */
  PAYLOAD: 16,
} as const;

/** The message type of an empty slot. */
export const HVMSG_NONE = 0;
/** Flags bit 0: more messages are queued behind this one; write EOM to get the next. */
export const HV_MESSAGE_FLAG_PENDING = 0x01;
/** Types with the top bit set are the hypervisor's own; a partition may not post them (TLFS HvCallPostMessage). */
export const HV_MESSAGE_TYPE_HYPERVISOR_BIT = 0x8000_0000;

/** Bytes of event flags per SINT in the SIEFP (HV_EVENT_FLAGS_BYTE_COUNT). */
export const EVENT_FLAGS_BYTES_PER_SINT = 256;
/** Event flags per SINT (HV_EVENT_FLAGS_COUNT = 256 × 8); flag n is bit n%8 of byte n/8. */
export const EVENT_FLAG_COUNT = EVENT_FLAGS_BYTES_PER_SINT * 8;

/** A message as the receiver sees it: copied out of the slot, owned by the handler. */
export interface HvMessage {
  readonly messageType: number;
  /** The id of the port the message arrived through. */
  readonly portId: number;
  readonly payload: Uint8Array;
}

/**
 * Writes a complete message at `offset`: every byte but the type first, the
 * type last with a release store, so a reader that sees a non-zero type sees the
 * whole message (the order Hyper-V uses to fill a SIMP slot).
 */
export function writeMessage(
  memory: SharedBytes,
  offset: number,
  messageType: number,
  portId: number,
  payload: Uint8Array,
): void {
  const { u8 } = memory;
  u8.fill(0, offset + HV_MESSAGE_LAYOUT.PAYLOAD_SIZE, offset + HV_MESSAGE_SIZE);
  u8[offset + HV_MESSAGE_LAYOUT.PAYLOAD_SIZE] = payload.length;
  memory.view.setUint32(offset + HV_MESSAGE_LAYOUT.PORT, portId, true);
  u8.set(payload, offset + HV_MESSAGE_LAYOUT.PAYLOAD);
  Atomics.store(memory.i32, offset >> 2, messageType | 0);
}

/** Moves a queued message into a free slot, type last (see `writeMessage`). */
export function copyMessage(memory: SharedBytes, from: number, to: number): void {
  memory.u8.copyWithin(to + HV_MESSAGE_LAYOUT.PAYLOAD_SIZE, from + HV_MESSAGE_LAYOUT.PAYLOAD_SIZE, from + HV_MESSAGE_SIZE);
  Atomics.store(memory.i32, to >> 2, Atomics.load(memory.i32, from >> 2));
}

/**
 * Copies the slot at `offset` out of shared memory once and validates the copy:
 * `undefined` for an empty slot, a WireError if the header is impossible.
 */
export function readMessage(memory: SharedBytes, offset: number): HvMessage | WireError | undefined {
  if (Atomics.load(memory.i32, offset >> 2) === HVMSG_NONE) return undefined;
  const copy = memory.u8.slice(offset, offset + HV_MESSAGE_SIZE);
  const header = new DataView(copy.buffer);
  const size = header.getUint8(HV_MESSAGE_LAYOUT.PAYLOAD_SIZE);
  if (size > HV_MESSAGE_PAYLOAD_MAX) {
    return wireError('oversized', `SynIC message payload size ${size} exceeds ${HV_MESSAGE_PAYLOAD_MAX}`);
  }
  return {
    messageType: header.getUint32(HV_MESSAGE_LAYOUT.TYPE, true),
    portId: header.getUint32(HV_MESSAGE_LAYOUT.PORT, true),
    payload: copy.subarray(HV_MESSAGE_LAYOUT.PAYLOAD, HV_MESSAGE_LAYOUT.PAYLOAD + size),
  };
}
