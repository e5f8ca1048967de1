/**
 * The 16-byte descriptor at the start of every ring packet, the 8-byte trailer
 * after it, and the rules that tie the descriptor to the bytes around it.
 *
 * Layout (openvmm-vmbus.md §6.3, `vmbus_ring/src/lib.rs:89-96`; linux-vmbus.md
 * §A.2, `struct vmpacket_descriptor`):
 *   packetType u16 @0, dataOffset8 u16 @2, length8 u16 @4, flags u16 @6, transactionId u64 @8.
 * `dataOffset8` and `length8` count 8-byte units from the descriptor start;
 * `length8` covers descriptor + headers + payload + padding, not the trailer.
 * Trailer (`Footer`, `lib.rs:191-195`; linux-vmbus.md §A.1.2): reserved u32 = 0,
 * offset u32 = ring index where the packet starts.
 */
import { WireError, wireError } from './wire-error.js';
import { MAX_KNOWN_PACKET_TYPE, PACKET_TYPE, packetTypeName } from './packet-types.js';

export const PACKET_DESCRIPTOR_SIZE = 16;
export const PACKET_TRAILER_SIZE = 8;
/** Packets, headers and ring indices are multiples of this. */
export const PACKET_ALIGNMENT = 8;

/** The sender wants a completion packet (type 0xB) echoing the transaction id. */
export const PACKET_FLAG_COMPLETION_REQUESTED = 1;
/** Every flag bit a receiver accepts (`lib.rs:383-385`); any other bit is corruption. */
export const PACKET_KNOWN_FLAGS = PACKET_FLAG_COMPLETION_REQUESTED;

/** The smallest `dataOffset8`: the descriptor itself. */
export const MIN_DATA_OFFSET8 = PACKET_DESCRIPTOR_SIZE / 8;
/** GPA-direct and transfer-page packets carry an 8-byte header after the descriptor. */
export const MIN_EXTENDED_DATA_OFFSET8 = MIN_DATA_OFFSET8 + 1;
/** `length8` is a u16: no packet exceeds 524,280 bytes whatever the ring size. */
export const MAX_PACKET_LENGTH = 0xffff * 8;

export interface PacketDescriptor {
  packetType: number;
  dataOffset8: number;
  length8: number;
  flags: number;
  transactionId: bigint;
}

export interface PacketTrailer {
  reserved: number;
  /** The ring index where the packet starts. */
  offset: number;
}

/**
 * What is wrong with a descriptor, as a stable string so a caller on the hot
 * path can test it without allocating. Checked in OpenVMM's order
 * (`lib.rs:376-445`), plus the extended-header check of commit 4386c390b.
 */
export type DescriptorProblem =
  /** `dataOffset8 < 2`: the payload would start inside the descriptor. */
  | 'data-offset-too-small'
  /** `length8 < dataOffset8`. */
  | 'length-before-data-offset'
  /** `length8 * 8` is more than the bytes that hold the packet. */
  | 'length-exceeds-available'
  | 'unknown-flags'
  | 'unknown-type'
  /** GPA-direct or transfer-page packet with `dataOffset8 < 3`: no room for its header. */
  | 'extended-header-too-small';

/**
 * Checks the descriptor fields against each other and against the
 * `availableBytes` that can hold the packet (not counting a ring trailer).
 * Returns null when the descriptor is well formed.
 */
export function checkPacketDescriptor(
  packetType: number,
  dataOffset8: number,
  length8: number,
  flags: number,
  availableBytes: number,
): DescriptorProblem | null {
  // Literals, not the constants above: this runs for every packet read, and Node 20 reads a
  // module constant through its cell at every use (checked against the names below).
  if (length8 < dataOffset8) return 'length-before-data-offset';
  if (dataOffset8 < 2) return 'data-offset-too-small';
  if (length8 * 8 > availableBytes) return 'length-exceeds-available';
  if ((flags & ~1) !== 0) return 'unknown-flags';
  if (packetType > 0xd) return 'unknown-type';
  // GPA direct (9) and transfer pages (7) carry an 8-byte header after the descriptor.
  if ((packetType === 9 || packetType === 7) && dataOffset8 < 3) return 'extended-header-too-small';
  return null;
}

if (
  MIN_DATA_OFFSET8 !== 2 ||
  MIN_EXTENDED_DATA_OFFSET8 !== 3 ||
  PACKET_KNOWN_FLAGS !== 1 ||
  MAX_KNOWN_PACKET_TYPE !== 0xd ||
  PACKET_TYPE.VM_PKT_DATA_USING_GPA_DIRECT !== 9 ||
  PACKET_TYPE.VM_PKT_DATA_USING_XFER_PAGES !== 7
) {
  throw new Error('checkPacketDescriptor: a literal no longer matches its wire constant');
}

/** The wire error code for a descriptor problem. */
export function descriptorProblemCode(problem: DescriptorProblem): 'bad-descriptor' | 'unknown-flags' | 'unknown-type' {
  return problem === 'unknown-flags' || problem === 'unknown-type' ? problem : 'bad-descriptor';
}

const DESCRIPTOR_PROBLEM_TEXT: Record<DescriptorProblem, string> = {
  'data-offset-too-small': 'dataOffset8 is below 2 (the descriptor itself)',
  'length-before-data-offset': 'length8 is below dataOffset8',
  'length-exceeds-available': 'length8 reaches past the bytes that hold the packet',
  'unknown-flags': 'flags has bits other than COMPLETION_REQUESTED',
  'unknown-type': 'packet type is not a VMBus packet type',
  'extended-header-too-small': 'dataOffset8 is below 3, leaving no room for the GPA-direct/transfer-page header',
};

/** A sentence naming the problem and the fields that show it (for error messages). */
export function describeDescriptorProblem(
  problem: DescriptorProblem,
  packetType: number,
  dataOffset8: number,
  length8: number,
  flags: number,
  availableBytes: number,
): string {
  return (
    `${DESCRIPTOR_PROBLEM_TEXT[problem]} (type ${packetTypeName(packetType)}, dataOffset8 ${dataOffset8}, ` +
    `length8 ${length8}, flags 0x${flags.toString(16)}, ${availableBytes} bytes available)`
  );
}

/** Reads a descriptor; checks only that 16 bytes are there (see `checkPacketDescriptor`). */
export function decodePacketDescriptor(bytes: Uint8Array, offset = 0): PacketDescriptor | WireError {
  if (offset < 0 || bytes.length - offset < PACKET_DESCRIPTOR_SIZE) {
    return wireError('truncated', `packet descriptor needs ${PACKET_DESCRIPTOR_SIZE} bytes at ${offset}, got ${bytes.length}`);
  }
  const view = dataView(bytes);
  return {
    packetType: view.getUint16(offset, true),
    dataOffset8: view.getUint16(offset + 2, true),
    length8: view.getUint16(offset + 4, true),
    flags: view.getUint16(offset + 6, true),
    transactionId: view.getBigUint64(offset + 8, true),
  };
}

/** Writes a descriptor after checking every field fits its width. */
export function encodePacketDescriptor(desc: PacketDescriptor, out: Uint8Array, offset = 0): WireError | null {
  if (offset < 0 || out.length - offset < PACKET_DESCRIPTOR_SIZE) {
    return wireError('truncated', `packet descriptor needs ${PACKET_DESCRIPTOR_SIZE} bytes at ${offset}, got ${out.length}`);
  }
  for (const name of ['packetType', 'dataOffset8', 'length8', 'flags'] as const) {
    if (!isU16(desc[name])) return wireError('bad-value', `descriptor ${name} is not a u16: ${desc[name]}`);
  }
  if (!isU64(desc.transactionId)) {
    return wireError('bad-value', `descriptor transactionId is not a u64: ${String(desc.transactionId)}`);
  }
  const view = dataView(out);
  view.setUint16(offset, desc.packetType, true);
  view.setUint16(offset + 2, desc.dataOffset8, true);
  view.setUint16(offset + 4, desc.length8, true);
  view.setUint16(offset + 6, desc.flags, true);
  view.setBigUint64(offset + 8, desc.transactionId, true);
  return null;
}

export function decodePacketTrailer(bytes: Uint8Array, offset = 0): PacketTrailer | WireError {
  if (offset < 0 || bytes.length - offset < PACKET_TRAILER_SIZE) {
    return wireError('truncated', `packet trailer needs ${PACKET_TRAILER_SIZE} bytes at ${offset}, got ${bytes.length}`);
  }
  const view = dataView(bytes);
  return { reserved: view.getUint32(offset, true), offset: view.getUint32(offset + 4, true) };
}

/** Writes the trailer of a packet that starts at ring index `packetStart`. */
export function encodePacketTrailer(packetStart: number, out: Uint8Array, offset = 0): WireError | null {
  if (offset < 0 || out.length - offset < PACKET_TRAILER_SIZE) {
    return wireError('truncated', `packet trailer needs ${PACKET_TRAILER_SIZE} bytes at ${offset}, got ${out.length}`);
  }
  if (!Number.isInteger(packetStart) || packetStart < 0 || packetStart > 0xffff_ffff) {
    return wireError('bad-value', `packet start is not a u32: ${packetStart}`);
  }
  const view = dataView(out);
  view.setUint32(offset, 0, true);
  view.setUint32(offset + 4, packetStart, true);
  return null;
}

/** Rounds a byte count up to the 8-byte packet alignment. */
export function alignPacketLength(bytes: number): number {
  return Math.ceil(bytes / PACKET_ALIGNMENT) * PACKET_ALIGNMENT;
}

/**
 * Ring bytes a packet takes: descriptor, extended header, payload padded to 8,
 * and the trailer (`PacketSize`, `lib.rs:778-798`).
 */
export function packetRingSize(extendedHeaderLength: number, payloadLength: number): number {
  return alignPacketLength(PACKET_DESCRIPTOR_SIZE + extendedHeaderLength + payloadLength) + PACKET_TRAILER_SIZE;
}

/** Ring bytes of an in-band or completion packet: `16 + round8(n) + 8`. */
export function inBandPacketSize(payloadLength: number): number {
  return packetRingSize(0, payloadLength);
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function isU16(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xffff;
}

export function isU32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff;
}

export function isU64(value: bigint): boolean {
  return typeof value === 'bigint' && value >= 0n && value <= 0xffff_ffff_ffff_ffffn;
}
