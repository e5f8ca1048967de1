/**
 * Whole ring packets as objects, for tools and tests: `decodePacket` reads one
 * packet as it sits in the ring (descriptor through padding, no trailer) and
 * `encodePacket` writes one. Decoding then encoding gives the same bytes.
 *
 * The ring engine (`src/ring/`) does not build these objects on its hot path;
 * it shares the descriptor rules through `checkPacketDescriptor`.
 *
 * Field names are OpenVMM `vmbus_ring` names in camelCase; 64-bit values are
 * `bigint`. Layouts: openvmm-vmbus.md §6.3, linux-vmbus.md §A.2.
 */
import { WireError, wireError } from './wire-error.js';
import { PACKET_TYPE, isKnownPacketType, packetTypeName, type PacketType } from './packet-types.js';
import {
  MAX_PACKET_LENGTH,
  PACKET_DESCRIPTOR_SIZE,
  PACKET_KNOWN_FLAGS,
  checkPacketDescriptor,
  decodePacketDescriptor,
  descriptorProblemCode,
  describeDescriptorProblem,
  encodePacketDescriptor,
  isU16,
  isU32,
  isU64,
} from './packet-descriptor.js';
import { decodeGpaRanges, gpaRangesSize, validateGpaRange, writeGpaRanges, type GpaRange } from './gpa-range.js';
import {
  TRANSFER_PAGE_HEADER_SIZE,
  TRANSFER_PAGE_RANGE_SIZE,
  decodeTransferPageRanges,
  validateTransferPageRange,
  writeTransferPageRanges,
  type TransferPageRange,
} from './transfer-pages.js';

/** GPA-direct header after the descriptor: reserved u32 @16, rangeCount u32 @20 (`lib.rs:181-184`). */
export const GPA_DIRECT_HEADER_SIZE = 8;

type GpaDirectType = typeof PACKET_TYPE.VM_PKT_DATA_USING_GPA_DIRECT;
type TransferPagesType = typeof PACKET_TYPE.VM_PKT_DATA_USING_XFER_PAGES;
/** Types whose bytes after the descriptor are an optional header and the payload. */
export type SimplePacketType = Exclude<PacketType, GpaDirectType | TransferPagesType>;

interface PacketFields {
  dataOffset8: number;
  length8: number;
  flags: number;
  transactionId: bigint;
  /**
   * Bytes between the end of the type's header and `dataOffset8 * 8`. Empty in
   * the packets Linux, Windows and OpenVMM send; kept so re-encoding is exact.
   */
  extraHeader: Uint8Array;
  /** Bytes from `dataOffset8 * 8` to `length8 * 8`, padding included (the length is not on the wire). */
  payload: Uint8Array;
}

/** In-band (6), completion (0xB), and every other named type without its own header decoder. */
export interface SimplePacket extends PacketFields {
  packetType: SimplePacketType;
}

export interface GpaDirectPacket extends PacketFields {
  packetType: GpaDirectType;
  /** May hold garbage (`lib.rs` `GpaDirectHeader`); kept for exact re-encoding. */
  reserved: number;
  ranges: GpaRange[];
}

export interface TransferPagesPacket extends PacketFields {
  packetType: TransferPagesType;
  transferPageSetId: number;
  /** u16; its low byte is Linux's `sender_owns_set`. May hold garbage. */
  reserved: number;
  ranges: TransferPageRange[];
}

export type Packet = SimplePacket | GpaDirectPacket | TransferPagesPacket;

/** Fields the encoder derives or defaults: offsets, flags 0, transaction id 0, empty bytes. */
type Derivable = 'dataOffset8' | 'length8' | 'flags' | 'transactionId' | 'extraHeader' | 'payload';
type Init<T extends Packet, D extends keyof T> = Omit<T, D> & Partial<Pick<T, D>>;
export type PacketInit =
  | Init<SimplePacket, Derivable>
  | Init<GpaDirectPacket, Derivable | 'reserved'>
  | Init<TransferPagesPacket, Derivable | 'reserved'>;

/** Decodes one packet; `bytes` must be exactly `length8 * 8` long. */
export function decodePacket(bytes: Uint8Array): Packet | WireError {
  const desc = decodePacketDescriptor(bytes);
  if (desc instanceof WireError) return desc;
  const { packetType, dataOffset8, length8, flags, transactionId } = desc;
  const problem = checkPacketDescriptor(packetType, dataOffset8, length8, flags, bytes.length);
  if (problem !== null) {
    return wireError(
      descriptorProblemCode(problem),
      describeDescriptorProblem(problem, packetType, dataOffset8, length8, flags, bytes.length),
    );
  }
  const length = length8 * 8;
  if (bytes.length > length) {
    return wireError('oversized', `${bytes.length} bytes given for a packet of length8 ${length8} (${length} bytes)`);
  }
  const dataOffset = dataOffset8 * 8;
  const payload = bytes.slice(dataOffset, length);
  const fields = { dataOffset8, length8, flags, transactionId };

  if (packetType === PACKET_TYPE.VM_PKT_DATA_USING_GPA_DIRECT) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const reserved = view.getUint32(PACKET_DESCRIPTOR_SIZE, true);
    const rangeCount = view.getUint32(PACKET_DESCRIPTOR_SIZE + 4, true);
    if (rangeCount === 0) {
      // OpenVMM rejects these (`lib.rs:431-435`): external data with no ranges.
      return wireError('bad-value', 'GPA-direct packet with zero ranges');
    }
    const rangeStart = PACKET_DESCRIPTOR_SIZE + GPA_DIRECT_HEADER_SIZE;
    const ranges = decodeGpaRanges(bytes.subarray(rangeStart, dataOffset), rangeCount);
    if (ranges instanceof WireError) return ranges;
    const extraHeader = bytes.slice(rangeStart + gpaRangesSize(ranges), dataOffset);
    return { packetType, ...fields, reserved, ranges, extraHeader, payload };
  }
  if (packetType === PACKET_TYPE.VM_PKT_DATA_USING_XFER_PAGES) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const transferPageSetId = view.getUint16(PACKET_DESCRIPTOR_SIZE, true);
    const reserved = view.getUint16(PACKET_DESCRIPTOR_SIZE + 2, true);
    const rangeCount = view.getUint32(PACKET_DESCRIPTOR_SIZE + 4, true);
    const rangeStart = PACKET_DESCRIPTOR_SIZE + TRANSFER_PAGE_HEADER_SIZE;
    const ranges = decodeTransferPageRanges(bytes.subarray(rangeStart, dataOffset), rangeCount);
    if (ranges instanceof WireError) return ranges;
    const extraHeader = bytes.slice(rangeStart + ranges.length * TRANSFER_PAGE_RANGE_SIZE, dataOffset);
    return { packetType, ...fields, transferPageSetId, reserved, ranges, extraHeader, payload };
  }
  // Known (checkPacketDescriptor rejected the rest) and not one of the two above.
  const extraHeader = bytes.slice(PACKET_DESCRIPTOR_SIZE, dataOffset);
  return { packetType: packetType as SimplePacketType, ...fields, extraHeader, payload };
}

/**
 * Encodes one packet after validating every field. `dataOffset8` and `length8`
 * are derived when absent; when given they may leave room, which is zero-filled
 * (header room only when `extraHeader` is absent).
 */
export function encodePacket(p: PacketInit): Uint8Array | WireError {
  const packetType = p.packetType as number;
  if (!isKnownPacketType(packetType)) {
    return wireError('unknown-type', `packet type ${packetTypeName(packetType)} is not a VMBus packet type`);
  }
  const flags = p.flags ?? 0;
  if (!isU16(flags)) return wireError('bad-value', `flags is not a u16: ${flags}`);
  if ((flags & ~PACKET_KNOWN_FLAGS) !== 0) {
    return wireError('unknown-flags', `flags 0x${flags.toString(16)} has bits other than COMPLETION_REQUESTED`);
  }
  const transactionId = p.transactionId ?? 0n;
  if (!isU64(transactionId)) return wireError('bad-value', `transactionId is not a u64: ${String(transactionId)}`);

  const header = typeHeaderSize(p);
  if (header instanceof WireError) return header;
  const extra = p.extraHeader;
  let dataOffset: number;
  if (extra !== undefined) {
    dataOffset = header + extra.length;
    if (dataOffset % 8 !== 0) {
      return wireError('bad-size', `headers end at byte ${dataOffset}; the payload must start 8-aligned`);
    }
    if (p.dataOffset8 !== undefined && p.dataOffset8 * 8 !== dataOffset) {
      return wireError('bad-descriptor', `dataOffset8 ${p.dataOffset8} disagrees with headers ending at byte ${dataOffset}`);
    }
  } else if (p.dataOffset8 !== undefined) {
    if (!isU16(p.dataOffset8) || p.dataOffset8 * 8 < header) {
      return wireError('bad-descriptor', `dataOffset8 ${p.dataOffset8} leaves no room for ${header} header bytes`);
    }
    dataOffset = p.dataOffset8 * 8;
  } else {
    dataOffset = header;
  }

  const payload = p.payload ?? new Uint8Array(0);
  const minLength = Math.ceil((dataOffset + payload.length) / 8) * 8;
  const length = p.length8 === undefined ? minLength : p.length8 * 8;
  if (p.length8 !== undefined && (!isU16(p.length8) || length < minLength)) {
    return wireError('bad-descriptor', `length8 ${p.length8} is shorter than the ${minLength} bytes of headers and payload`);
  }
  if (length > MAX_PACKET_LENGTH) {
    return wireError('oversized', `packet of ${length} bytes exceeds the u16 length8 limit (${MAX_PACKET_LENGTH})`);
  }

  const out = new Uint8Array(length);
  const descError = encodePacketDescriptor(
    { packetType, dataOffset8: dataOffset / 8, length8: length / 8, flags, transactionId },
    out,
  );
  if (descError !== null) return descError;
  const view = new DataView(out.buffer);
  let at = PACKET_DESCRIPTOR_SIZE;
  if (p.packetType === PACKET_TYPE.VM_PKT_DATA_USING_GPA_DIRECT) {
    view.setUint32(at, p.reserved ?? 0, true);
    view.setUint32(at + 4, p.ranges.length, true);
    at = writeGpaRanges(p.ranges, out, at + GPA_DIRECT_HEADER_SIZE);
  } else if (p.packetType === PACKET_TYPE.VM_PKT_DATA_USING_XFER_PAGES) {
    view.setUint16(at, p.transferPageSetId, true);
    view.setUint16(at + 2, p.reserved ?? 0, true);
    view.setUint32(at + 4, p.ranges.length, true);
    at = writeTransferPageRanges(p.ranges, out, at + TRANSFER_PAGE_HEADER_SIZE);
  }
  if (extra !== undefined) out.set(extra, at);
  out.set(payload, dataOffset);
  return out;
}

/** Bytes of descriptor plus type header, after validating the type-specific fields. */
function typeHeaderSize(p: PacketInit): number | WireError {
  if (p.packetType === PACKET_TYPE.VM_PKT_DATA_USING_GPA_DIRECT) {
    if (p.reserved !== undefined && !isU32(p.reserved)) return wireError('bad-value', `reserved is not a u32: ${p.reserved}`);
    if (p.ranges.length === 0) return wireError('bad-value', 'GPA-direct packet with zero ranges');
    for (let i = 0; i < p.ranges.length; i++) {
      const problem = validateGpaRange(p.ranges[i]!, i);
      if (problem !== null) return problem;
    }
    return PACKET_DESCRIPTOR_SIZE + GPA_DIRECT_HEADER_SIZE + gpaRangesSize(p.ranges);
  }
  if (p.packetType === PACKET_TYPE.VM_PKT_DATA_USING_XFER_PAGES) {
    if (!isU16(p.transferPageSetId)) return wireError('bad-value', `transferPageSetId is not a u16: ${p.transferPageSetId}`);
    if (p.reserved !== undefined && !isU16(p.reserved)) return wireError('bad-value', `reserved is not a u16: ${p.reserved}`);
    for (let i = 0; i < p.ranges.length; i++) {
      const problem = validateTransferPageRange(p.ranges[i]!, i);
      if (problem !== null) return problem;
    }
    return PACKET_DESCRIPTOR_SIZE + TRANSFER_PAGE_HEADER_SIZE + p.ranges.length * TRANSFER_PAGE_RANGE_SIZE;
  }
  return PACKET_DESCRIPTOR_SIZE;
}
