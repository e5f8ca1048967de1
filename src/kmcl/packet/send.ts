/**
 * VmbPacketSend and its external-data forms. A send checks its arguments,
 * lays the packet out (in-band, or GPA-direct with the MDL's or PFNs' ranges)
 * and hands it to the channel's send queue: into the ring now if the channel
 * is running and nothing waits before it, else queued in order (before the
 * channel opens, while it is paused, while the ring is full).
 *
 * The completion routine runs exactly once per send: after the peer's
 * completion packet (WAIT_FOR_COMPLETION), after the packet entered the ring
 * (otherwise), or with a status when the channel goes away first.
 */
import { Mdl, MemoryError, PAGE_SIZE, type GpaRange } from '../../memory/index.js';
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import { PACKET_FLAG_COMPLETION_REQUESTED } from '../../wire/packet-descriptor.js';
import { PACKET_TYPE } from '../../wire/packet-types.js';
import { hasOnlyFlags, holdsBytes, isU32 } from '../arguments.js';
import { PIPE_HEADER_SIZE } from '../channel/channel-config.js';
import {
  VMBUS_CHANNEL_FORMAT_FLAGS,
  VMBUS_CHANNEL_FORMAT_FLAG_FORCE_MDL_LENGTH,
  VMBUS_CHANNEL_FORMAT_FLAG_PAGED_BUFFER,
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION,
  VMBUS_CHANNEL_INIT_FLAG_IS_PIPE,
} from '../flags.js';
import { packetFrom } from '../handles.js';
import { PIPE_PACKET_TYPE_DATA } from '../receive/incoming-parse.js';
import type { VMBPACKET } from '../types.js';
import { writeGpaDirectHeader } from './gpa-direct-header.js';
import { EMPTY_BYTES, PACKET_IDLE, type KmclPacket } from './packet.js';

/** Format flags VmbPacketSend accepts (FORCE_MDL_LENGTH belongs to VmbPacketSendWithExternalMdl). */
export const SEND_FLAGS = VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION | VMBUS_CHANNEL_FORMAT_FLAG_PAGED_BUFFER;

/**
 * VmbPacketSend: `BufferLength` bytes of `Buffer` in-band, and the
 * `ExternalDataMdl` chain (optional) as GPA-direct ranges. Statuses:
 * STATUS_INVALID_PARAMETER_1 bad packet, or one with a transaction in progress
 * or no completion routine; _2 Buffer shorter than BufferLength; _3
 * BufferLength above the channel's maximum packet size; _4 an MDL that is not
 * valid in guest memory or beyond the external-data limits; _5 unknown flags,
 * or external data without WAIT_FOR_COMPLETION (decision: the peer may use
 * the pages until it completes, so the sender must wait for that);
 * STATUS_INVALID_BUFFER_SIZE for a packet the open ring can never hold.
 */
export function VmbPacketSend(
  PacketObject: VMBPACKET,
  Buffer: Uint8Array | null,
  BufferLength: number,
  ExternalDataMdl: Mdl | null,
  Flags: number,
): NtStatus {
  const packet = sendablePacketWithInline(PacketObject, Buffer, BufferLength);
  if (typeof packet === 'number') return packet;
  let ranges: GpaRange[] | null = null;
  if (ExternalDataMdl !== null && ExternalDataMdl !== undefined) {
    ranges = mdlRanges(packet, ExternalDataMdl, 0, 0, false);
    if (ranges === null) return NTSTATUS.STATUS_INVALID_PARAMETER_4;
  }
  if (!checkFlags(packet, Flags, SEND_FLAGS, ranges !== null)) return NTSTATUS.STATUS_INVALID_PARAMETER_5;
  return submit(packet, Buffer, BufferLength, ranges, Flags);
}

/**
 * VmbPacketSendWithExternalMdl: as VmbPacketSend with `MdlLength` bytes of the
 * chain from `MdlOffset` (0: to the end). WAIT_FOR_COMPLETION must be set;
 * FORCE_MDL_LENGTH takes MdlLength from the first MDL even past its byte
 * count, up to the end of its last page. Statuses as VmbPacketSend, with _4 a
 * missing or invalid MDL, _5 an offset outside it, _6 a length outside it,
 * _7 the flags.
 */
export function VmbPacketSendWithExternalMdl(
  PacketObject: VMBPACKET,
  Buffer: Uint8Array | null,
  BufferLength: number,
  ExternalDataMdl: Mdl,
  MdlOffset: number,
  MdlLength: number,
  Flags: number,
): NtStatus {
  const packet = sendablePacketWithInline(PacketObject, Buffer, BufferLength);
  if (typeof packet === 'number') return packet;
  if (!(ExternalDataMdl instanceof Mdl) || ExternalDataMdl.validate(packet.channel.context.memory) !== undefined) {
    return NTSTATUS.STATUS_INVALID_PARAMETER_4;
  }
  if (!isU32(MdlOffset)) return NTSTATUS.STATUS_INVALID_PARAMETER_5;
  if (!isU32(MdlLength)) return NTSTATUS.STATUS_INVALID_PARAMETER_6;
  if (!checkFlags(packet, Flags, VMBUS_CHANNEL_FORMAT_FLAGS, true)) return NTSTATUS.STATUS_INVALID_PARAMETER_7;
  const force = (Flags & VMBUS_CHANNEL_FORMAT_FLAG_FORCE_MDL_LENGTH) !== 0;
  const extent = force ? ExternalDataMdl.pfns.length * PAGE_SIZE - ExternalDataMdl.byteOffset : ExternalDataMdl.chainByteCount;
  if (MdlOffset >= extent) return NTSTATUS.STATUS_INVALID_PARAMETER_5;
  const ranges = mdlRanges(packet, ExternalDataMdl, MdlOffset, MdlLength, force);
  if (ranges === null) return NTSTATUS.STATUS_INVALID_PARAMETER_6;
  return submit(packet, Buffer, BufferLength, ranges, Flags);
}

/**
 * VmbPacketSendWithExternalPfns: as VmbPacketSend with the first `PfnLength`
 * pages of `ExternalDataPfns`, whole, as one GPA range. WAIT_FOR_COMPLETION
 * must be set. Statuses as VmbPacketSend, with _4 a PFN list that is not an
 * array of pages in guest memory, _5 a PfnLength of 0 or beyond the list,
 * _6 the flags.
 */
export function VmbPacketSendWithExternalPfns(
  PacketObject: VMBPACKET,
  Buffer: Uint8Array | null,
  BufferLength: number,
  ExternalDataPfns: readonly number[],
  PfnLength: number,
  Flags: number,
): NtStatus {
  const packet = sendablePacketWithInline(PacketObject, Buffer, BufferLength);
  if (typeof packet === 'number') return packet;
  if (!Array.isArray(ExternalDataPfns)) return NTSTATUS.STATUS_INVALID_PARAMETER_4;
  if (!isU32(PfnLength) || PfnLength === 0 || PfnLength > ExternalDataPfns.length || PfnLength > 0xfffff) {
    return NTSTATUS.STATUS_INVALID_PARAMETER_5;
  }
  const memory = packet.channel.context.memory;
  const pfns = ExternalDataPfns.slice(0, PfnLength);
  if (!pfns.every((pfn) => memory.hasPfn(pfn))) return NTSTATUS.STATUS_INVALID_PARAMETER_4;
  const ranges: GpaRange[] = [{ byteOffset: 0, byteCount: PfnLength * PAGE_SIZE, pfns }];
  if (!withinExternalLimits(packet, ranges, 1)) return NTSTATUS.STATUS_INVALID_PARAMETER_4;
  if (!checkFlags(packet, Flags, SEND_FLAGS, true)) return NTSTATUS.STATUS_INVALID_PARAMETER_6;
  return submit(packet, Buffer, BufferLength, ranges, Flags);
}

/**
 * The checks every send starts with, in parameter order: the packet (_1), then
 * the inline buffer and its length (_2, _3). The packet, or the status to return.
 */
function sendablePacketWithInline(handle: unknown, buffer: unknown, length: unknown): KmclPacket | NtStatus {
  const packet = sendablePacket(handle);
  if (packet === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  return checkInline(packet, buffer, length) ?? packet;
}

/** A live packet with no transaction in progress and a completion routine, else null. */
function sendablePacket(handle: unknown): KmclPacket | null {
  const packet = packetFrom(handle);
  return packet !== null && packet.state === PACKET_IDLE && packet.hasCompletionRoutine ? packet : null;
}

function checkInline(packet: KmclPacket, buffer: unknown, length: unknown): NtStatus | null {
  if (!isU32(length)) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  if (!holdsBytes(buffer, length)) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  if (length > packet.channel.config.maximumPacketSize) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  return null;
}

/** Known flags only; external data needs WAIT_FOR_COMPLETION; a pipe has neither transactions nor external data. */
export function checkFlags(packet: KmclPacket, flags: unknown, known: number, external: boolean): boolean {
  if (!hasOnlyFlags(flags, known)) return false;
  const wait = (flags & VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION) !== 0;
  if (isPipe(packet)) return !wait && !external;
  return !external || wait;
}

function isPipe(packet: KmclPacket): boolean {
  return (packet.channel.config.flags & VMBUS_CHANNEL_INIT_FLAG_IS_PIPE) !== 0;
}

/** The GPA ranges of `length` bytes of the MDL chain from `offset` (0: to the end), or null when they do not exist or break the limits. */
export function mdlRanges(packet: KmclPacket, mdl: unknown, offset: number, length: number, force: boolean): GpaRange[] | null {
  if (!(mdl instanceof Mdl) || mdl.validate(packet.channel.context.memory) !== undefined) return null;
  let ranges: GpaRange[] | MemoryError;
  if (force) {
    // Only the first MDL, and up to the end of its pages rather than its byte count.
    const start = mdl.byteOffset + offset;
    const byteCount = length === 0 ? mdl.byteCount - Math.min(offset, mdl.byteCount) : length;
    const firstPage = Math.floor(start / PAGE_SIZE);
    const pages = Math.ceil((start % PAGE_SIZE + byteCount) / PAGE_SIZE);
    if (byteCount === 0 || firstPage + pages > mdl.pfns.length) return null;
    ranges = [{ byteOffset: start % PAGE_SIZE, byteCount, pfns: mdl.pfnSlice(firstPage, firstPage + pages) }];
  } else {
    ranges = mdl.toGpaRanges(offset, length === 0 ? undefined : length);
  }
  if (ranges instanceof MemoryError) return null;
  return withinExternalLimits(packet, ranges, force ? 1 : [...mdl.pieces()].length) ? ranges : null;
}

/** The VmbChannelInitSetMaximumExternalData limits, when set. */
function withinExternalLimits(packet: KmclPacket, ranges: readonly GpaRange[], chainLength: number): boolean {
  const config = packet.channel.config;
  if (config.maximumExternalDataSize === 0) return true;
  let bytes = 0;
  for (const range of ranges) bytes += range.byteCount;
  return bytes <= config.maximumExternalDataSize && chainLength <= config.maximumExternalDataChainLength;
}

/**
 * Lays the packet out for checked arguments and hands it to the send queue.
 * `now`: only if it enters the ring at once (STATUS_BUFFER_OVERFLOW otherwise, nothing queued).
 * Pipe framing and copies are out of line, so the plain send stays small enough for V8 to inline.
 */
export function submit(
  packet: KmclPacket,
  buffer: Uint8Array | null,
  length: number,
  ranges: GpaRange[] | null,
  flags: number,
  now = false,
): NtStatus {
  const source = buffer ?? EMPTY_BYTES;
  if (isPipe(packet)) packet.payload = pipeFramed(packet, source, length);
  else if ((flags & VMBUS_CHANNEL_FORMAT_FLAG_PAGED_BUFFER) !== 0) packet.payload = copied(packet, source, length);
  else packet.payload = source.length === length ? source : source.subarray(0, length);
  if (ranges === null) {
    packet.packetType = PACKET_TYPE.VM_PKT_DATA_INBAND;
    packet.header = EMPTY_BYTES;
  } else {
    packet.packetType = PACKET_TYPE.VM_PKT_DATA_USING_GPA_DIRECT;
    writeGpaDirectHeader(packet, ranges);
  }
  packet.ringFlags = (flags & VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION) !== 0 ? PACKET_FLAG_COMPLETION_REQUESTED : 0;
  const status = now ? packet.channel.sends.submitNow(packet) : packet.channel.sends.submit(packet);
  if (status !== NTSTATUS.STATUS_SUCCESS) {
    packet.header = EMPTY_BYTES;
    packet.payload = EMPTY_BYTES;
  }
  return status;
}

/** `length` bytes of `source` behind a pipe header, in the packet's copy area (the header is part of the in-band payload). */
function pipeFramed(packet: KmclPacket, source: Uint8Array, length: number): Uint8Array {
  // openvmm-vmbus.md §6.3 PipeHeader: type u32, len u32.
  const framed = packet.copyArea(PIPE_HEADER_SIZE + length);
  framed[0] = PIPE_PACKET_TYPE_DATA;
  framed.fill(0, 1, 4);
  framed[4] = length & 0xff;
  framed[5] = (length >>> 8) & 0xff;
  framed[6] = (length >>> 16) & 0xff;
  framed[7] = (length >>> 24) & 0xff;
  framed.set(source.subarray(0, length), PIPE_HEADER_SIZE);
  return framed;
}

/** `length` bytes of `source` copied into the packet's copy area (PAGED_BUFFER: the caller may reuse its buffer at once). */
function copied(packet: KmclPacket, source: Uint8Array, length: number): Uint8Array {
  const copy = packet.copyArea(length);
  copy.set(source.length === length ? source : source.subarray(0, length));
  return copy;
}
