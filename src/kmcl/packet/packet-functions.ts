/**
 * Packet objects: VmbPacketAllocate / VmbPacketFree (the channel's lookaside
 * list), VmbChannelSizeofPacket / VmbPacketInitialize (a packet in caller
 * storage), and the packet's accessors and completion routine.
 */
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import { isBytes, isU32 } from '../arguments.js';
import { channelFrom, packetFrom, packetsInStorage } from '../handles.js';
import type {
  PFN_VMB_PACKET_COMPLETION_ROUTINE,
  PFN_VMB_PACKET_COMPLETION_ROUTINE_EX,
  VMBCHANNEL,
  VMBPACKET,
} from '../types.js';
import { PACKET_IDLE } from './packet.js';

/**
 * Decision: the bytes of a packet object's own state in VmbChannelSizeofPacket
 * (the state itself lives on the JavaScript heap; the inline context follows
 * these bytes in the caller's storage).
 */
export const PACKET_OBJECT_HEADER_SIZE = 64;
/** sizeof(PVOID) on x64: the page asks for room for the maximum packet plus one pointer. */
const POINTER_SIZE = 8;

function align8(bytes: number): number {
  return Math.ceil(bytes / 8) * 8;
}

/**
 * VmbChannelSizeofPacket: storage VmbPacketInitialize needs for this channel:
 * the packet's state, its inline context, the maximum packet size and a
 * pointer. 0 for a bad handle.
 */
export function VmbChannelSizeofPacket(Channel: VMBCHANNEL): number {
  const channel = channelFrom(Channel);
  if (channel === null) return 0;
  const config = channel.config;
  return PACKET_OBJECT_HEADER_SIZE + align8(config.inlinePacketContextSize) + config.maximumPacketSize + POINTER_SIZE;
}

/**
 * VmbPacketAllocate: a packet from the channel's lookaside list, or null (bad
 * handle, or VmbChannelInitSetMaximumPacketCount packets already out). Its
 * default completion routine frees it.
 */
export function VmbPacketAllocate(Channel: VMBCHANNEL): VMBPACKET | null {
  const channel = channelFrom(Channel);
  if (channel === null) return null;
  return channel.pool.allocate()?.handle ?? null;
}

/**
 * VmbPacketFree: back to the lookaside list; the handle is invalid afterwards.
 * Decision: C's VOID becomes an NTSTATUS: STATUS_INVALID_PARAMETER_1 for a bad
 * or freed handle, for a packet from VmbPacketInitialize (not allocated), and
 * for a packet whose transaction is still in progress (it stays as is).
 */
export function VmbPacketFree(VmbPacket: VMBPACKET): NtStatus {
  const packet = packetFrom(VmbPacket);
  if (packet === null || !packet.pooled || packet.state !== PACKET_IDLE) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  packet.channel.pool.free(packet);
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbPacketInitialize: lays a packet object out in `VmbPacket` (a Uint8Array
 * of at least VmbChannelSizeofPacket bytes), which is then the packet's
 * handle. Its completion routine must be set before it is sent. Storage that
 * holds a packet with a transaction in progress is STATUS_INVALID_PARAMETER_2;
 * a ByteCount below VmbChannelSizeofPacket (or beyond the storage) is _3.
 */
export function VmbPacketInitialize(Channel: VMBCHANNEL, VmbPacket: Uint8Array, ByteCount: number): NtStatus {
  const channel = channelFrom(Channel);
  if (channel === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isBytes(VmbPacket)) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  const previous = packetsInStorage.get(VmbPacket);
  if (previous !== undefined && previous.live && previous.state !== PACKET_IDLE) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  if (!isU32(ByteCount) || ByteCount < VmbChannelSizeofPacket(Channel) || ByteCount > VmbPacket.length) {
    return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  }
  if (previous !== undefined && previous.live) previous.channel.pool.release(previous);
  VmbPacket.fill(0, 0, ByteCount);
  const inlineSize = channel.config.inlinePacketContextSize;
  const inlineContext = VmbPacket.subarray(PACKET_OBJECT_HEADER_SIZE, PACKET_OBJECT_HEADER_SIZE + inlineSize);
  packetsInStorage.set(VmbPacket, channel.pool.initializeIn(VmbPacket, inlineContext));
  return NTSTATUS.STATUS_SUCCESS;
}

/** VmbPacketGetChannel: the packet's channel; null for a bad handle. */
export function VmbPacketGetChannel(PacketObject: VMBPACKET): VMBCHANNEL | null {
  return packetFrom(PacketObject)?.channel.handle ?? null;
}

/** VmbPacketSetPointer: keeps any value with the packet. Decision: C's VOID becomes an NTSTATUS. */
export function VmbPacketSetPointer(PacketObject: VMBPACKET, Pointer: unknown): NtStatus {
  const packet = packetFrom(PacketObject);
  if (packet === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  packet.pointer = Pointer;
  return NTSTATUS.STATUS_SUCCESS;
}

/** VmbPacketGetPointer: the value VmbPacketSetPointer kept (null initially, and for a bad handle). */
export function VmbPacketGetPointer(PacketObject: VMBPACKET): unknown {
  return packetFrom(PacketObject)?.pointer ?? null;
}

/**
 * VmbPacketSetCompletionRoutine: the routine called once per transaction
 * (replacing the default one, which frees the packet). Decision: C's VOID
 * becomes an NTSTATUS; a routine that is not a function is STATUS_INVALID_PARAMETER_2.
 */
export function VmbPacketSetCompletionRoutine(
  PacketObject: VMBPACKET,
  CompletionRoutine: PFN_VMB_PACKET_COMPLETION_ROUTINE,
): NtStatus {
  const packet = packetFrom(PacketObject);
  if (packet === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (typeof CompletionRoutine !== 'function') return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  packet.routine = CompletionRoutine;
  packet.routineEx = null;
  packet.autoFree = false;
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbPacketSetCompletionRoutineEx (V5, no DDI page). Decision: as
 * VmbPacketSetCompletionRoutine, with a context value passed to the routine
 * on every completion.
 */
export function VmbPacketSetCompletionRoutineEx(
  PacketObject: VMBPACKET,
  CompletionRoutine: PFN_VMB_PACKET_COMPLETION_ROUTINE_EX,
  CompletionContext: unknown,
): NtStatus {
  const packet = packetFrom(PacketObject);
  if (packet === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (typeof CompletionRoutine !== 'function') return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  packet.routineEx = CompletionRoutine;
  packet.routineContext = CompletionContext;
  packet.routine = null;
  packet.autoFree = false;
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbPacketGetInlinePacketContextPointer (V5, no DDI page). Decision: the
 * packet's inline context, VmbChannelInitSetInlinePacketContextSize bytes
 * (inside the caller's storage for a VmbPacketInitialize packet), zeroed when
 * the packet is made or freed; null for a bad handle.
 */
export function VmbPacketGetInlinePacketContextPointer(PacketObject: VMBPACKET): Uint8Array | null {
  return packetFrom(PacketObject)?.inlineContext ?? null;
}
