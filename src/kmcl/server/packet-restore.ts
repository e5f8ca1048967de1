/**
 * VmbPacketRestore: a packet object takes back the transaction a saved one
 * had. A packet saved while waiting for its completion waits for it again
 * under the id the guest knows (the channel's packet pool maps it); one saved
 * queued, never in the ring, is queued again to be sent once the channel runs.
 */
import { SavedStateError } from '../../bus/server/index.js';
import { decodeGpaRanges } from '../../wire/gpa-range.js';
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import { GPA_DIRECT_HEADER_SIZE } from '../../wire/packet.js';
import { WireError } from '../../wire/wire-error.js';
import { coversBytes, isU32 } from '../arguments.js';
import { packetFrom } from '../handles.js';
import { EMPTY_BYTES, PACKET_IDLE, type KmclPacket } from '../packet/packet.js';
import type { VMBPACKET } from '../types.js';
import { decodePacketState, savedStateStatus } from './channel-saved-state.js';

/**
 * VmbPacketRestore: restores `BufferSize` bytes of `Buffer` (the LibBuf an
 * EvtVmbChannelRestorePacket call got) into `PacketObject`. Statuses: _1 a
 * bad packet, one with a transaction in progress or no completion routine,
 * or one whose channel is not a disabled server channel (restores come
 * before VmbChannelEnable); _2 a buffer shorter than BufferSize; _3 a size
 * that is no ULONG; STATUS_REVISION_MISMATCH / STATUS_DATA_ERROR for bytes
 * of an unknown format or corrupt, a transaction id restored already, or a
 * queued packet whose external data is not in the guest's memory.
 */
export function VmbPacketRestore(PacketObject: VMBPACKET, Buffer: Uint8Array | null, BufferSize: number): NtStatus {
  const packet = packetFrom(PacketObject);
  const channel = packet?.channel ?? null;
  if (packet === null || channel === null || channel.server === null || channel.lifecycle !== 'disabled') return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (packet.state !== PACKET_IDLE || !packet.hasCompletionRoutine) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isU32(BufferSize)) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  if (!coversBytes(Buffer, BufferSize)) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  return restorePacket(packet, Buffer === null ? new Uint8Array(0) : Buffer.slice(0, BufferSize));
}

/** Restores a checked packet from LibBuf bytes the caller cannot change any more. */
export function restorePacket(packet: KmclPacket, bytes: Uint8Array): NtStatus {
  const saved = decodePacketState(bytes);
  if (saved instanceof SavedStateError) return savedStateStatus(saved);
  const channel = packet.channel;
  if (saved.state === 'waiting') {
    if (!channel.pool.restoreAwaiting(packet, saved.transactionId)) return NTSTATUS.STATUS_DATA_ERROR;
    channel.sends.awaitingCount++;
    return NTSTATUS.STATUS_SUCCESS;
  }
  if (saved.header.length > 0 && !externalDataInMemory(packet, saved.header)) return NTSTATUS.STATUS_DATA_ERROR;
  packet.packetType = saved.packetType;
  packet.ringFlags = saved.ringFlags;
  // Into the packet's own storage, as a send lays a packet out.
  packet.header = saved.header.length === 0 ? EMPTY_BYTES : packet.headerArea(saved.header.length);
  packet.header.set(saved.header);
  packet.payload = packet.copyArea(saved.payload.length);
  packet.payload.set(saved.payload);
  // The channel is disabled: the send queue keeps it until the channel runs.
  return channel.sends.submit(packet);
}

/** A GPA-direct header (reserved u32, range count u32, the ranges) whose every page is in the channel's guest memory. */
function externalDataInMemory(packet: KmclPacket, header: Uint8Array): boolean {
  if (header.length < GPA_DIRECT_HEADER_SIZE) return false;
  const rangeCount = new DataView(header.buffer, header.byteOffset, header.byteLength).getUint32(4, true);
  const ranges = decodeGpaRanges(header.subarray(GPA_DIRECT_HEADER_SIZE), rangeCount);
  if (ranges instanceof WireError || rangeCount === 0) return false;
  const memory = packet.channel.context.memory;
  return ranges.every((range) => range.gpns.every((gpn) => gpn <= BigInt(Number.MAX_SAFE_INTEGER) && memory.hasPfn(Number(gpn))));
}
