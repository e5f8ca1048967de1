/**
 * Saving a server channel (VmbChannelSaveBegin / SaveContinue / SaveEnd).
 * SaveBegin takes the whole state at once, while nothing moves: the
 * channel's settings and state, and every packet object in use (queued, or
 * in the ring waiting for its completion) with the VSP's own state of it,
 * got through EvtVmbChannelSavePacket's two-call protocol. SaveContinue then
 * hands the chunks out, whole, as many as fit each buffer. The chunk format
 * is in channel-saved-state.ts.
 */
import { NTSTATUS, ntSuccess, type NtStatus } from '../../wire/ntstatus.js';
import { coversBytes, isOut, isU32 } from '../arguments.js';
import type { KmclChannel } from '../channel/channel.js';
import { reportDriverFault } from '../driver-fault.js';
import { EMPTY_BYTES, PACKET_AWAITING_COMPLETION, PACKET_QUEUED, type KmclPacket } from '../packet/packet.js';
import type { Out, VMBCHANNEL } from '../types.js';
import { MAXIMUM_PACKET_VSP_STATE, encodeChunk, encodePacketState, type SavedPacket, type SavedServerChannel } from './channel-saved-state.js';
import type { PacketSaveRestoreCallbacks, ServerChannel } from './server-channel.js';
import { serverEndpoint } from './server-endpoint.js';

/** A save between VmbChannelSaveBegin and VmbChannelSaveEnd: its chunks, and how many were handed out. */
export class ChannelSave {
  next = 0;
  constructor(readonly chunks: readonly Uint8Array[]) {}
}

/** Tells the chunks of one save from another's (a restore takes chunks of one save only). */
let lastSaveId = 0;

/**
 * VmbChannelSaveBegin: takes the channel's state for SaveContinue to hand
 * out. Decision: the channel must be offered or open and not running
 * (VmbChannelPause first, so no packet moves and none is outstanding), with
 * no save begun and not ended: else STATUS_INVALID_DEVICE_STATE; _1 for a
 * bad handle or a client channel. A save callback's failure (after its size
 * call), a size above MAXIMUM_PACKET_VSP_STATE (STATUS_INVALID_BUFFER_SIZE)
 * or a throw (STATUS_UNSUCCESSFUL) fails the save and nothing is kept.
 */
export function VmbChannelSaveBegin(Channel: VMBCHANNEL): NtStatus {
  const endpoint = serverEndpoint(Channel);
  if (endpoint === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  const { channel, server } = endpoint;
  const saved = savedChannelOf(channel, server);
  if (saved === null || server.save !== null || channel.started || channel.transitioning) return NTSTATUS.STATUS_INVALID_DEVICE_STATE;
  const packets = [...channel.pool.packets()].filter((packet) => packet.state === PACKET_QUEUED || packet.state === PACKET_AWAITING_COMPLETION);
  const saveId = (lastSaveId = (lastSaveId + 1) >>> 0 || 1);
  const count = 1 + packets.length;
  const chunks = [encodeChunk({ saveId, index: 0, count, body: { kind: 'channel', channel: saved } })];
  for (const packet of packets) {
    const vspState = vspStateOf(channel, server.packetCallbacks, packet);
    if (typeof vspState === 'number') return vspState;
    const libState = encodePacketState(savedPacketOf(channel, packet));
    chunks.push(encodeChunk({ saveId, index: chunks.length, count, body: { kind: 'packet', libState, vspState } }));
  }
  server.save = new ChannelSave(chunks);
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbChannelSaveContinue: copies the next whole chunks that fit into
 * `SaveBuffer`, their size in `BytesFilled.value`, and the size of the chunk
 * that comes next in `BytesRequired.value` (0 once all are out). Returns
 * STATUS_SUCCESS when the last chunk is out, STATUS_BUFFER_OVERFLOW when some
 * were copied and more remain, STATUS_BUFFER_TOO_SMALL when the next chunk
 * does not fit the buffer at all. Statuses: _1 bad handle or client channel,
 * _2 a buffer shorter than SaveBufferSize, _3 a size that is no ULONG, _4 / _5
 * bad out-parameters; STATUS_INVALID_DEVICE_STATE without SaveBegin.
 */
export function VmbChannelSaveContinue(
  Channel: VMBCHANNEL,
  SaveBuffer: Uint8Array | null,
  SaveBufferSize: number,
  BytesFilled: Out<number>,
  BytesRequired: Out<number>,
): NtStatus {
  const endpoint = serverEndpoint(Channel);
  if (endpoint === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isU32(SaveBufferSize)) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  if (!coversBytes(SaveBuffer, SaveBufferSize)) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  if (!isOut<number>(BytesFilled)) return NTSTATUS.STATUS_INVALID_PARAMETER_4;
  if (!isOut<number>(BytesRequired)) return NTSTATUS.STATUS_INVALID_PARAMETER_5;
  const save = endpoint.server.save;
  if (save === null) return NTSTATUS.STATUS_INVALID_DEVICE_STATE;
  let filled = 0;
  for (let chunk = save.chunks[save.next]; chunk !== undefined && chunk.length <= SaveBufferSize - filled; chunk = save.chunks[save.next]) {
    SaveBuffer!.set(chunk, filled);
    filled += chunk.length;
    save.next++;
  }
  const pending = save.chunks[save.next];
  BytesFilled.value = filled;
  BytesRequired.value = pending?.length ?? 0;
  if (pending === undefined) return NTSTATUS.STATUS_SUCCESS;
  return filled === 0 ? NTSTATUS.STATUS_BUFFER_TOO_SMALL : NTSTATUS.STATUS_BUFFER_OVERFLOW;
}

/**
 * VmbChannelSaveEnd: drops the save's chunks. Decision: C's VOID becomes an
 * NTSTATUS: _1 for a bad handle or a client channel, else STATUS_SUCCESS
 * (also with no save begun).
 */
export function VmbChannelSaveEnd(Channel: VMBCHANNEL): NtStatus {
  const endpoint = serverEndpoint(Channel);
  if (endpoint === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  endpoint.server.save = null;
  return NTSTATUS.STATUS_SUCCESS;
}

/** The channel record of a save, or null when the channel is not offered or open. */
function savedChannelOf(channel: KmclChannel, server: ServerChannel): SavedServerChannel | null {
  // A subchannel is offered with its primary's interface and instance.
  const interfaceId = server.primary?.interfaceId ?? server.interfaceId;
  const instanceId = server.primary?.instanceId ?? server.instanceId;
  const open = channel.lifecycle === 'opened';
  if ((!open && channel.lifecycle !== 'enabled') || interfaceId === null || instanceId === null) return null;
  return {
    interfaceId,
    instanceId,
    subchannelIndex: server.subchannelIndex,
    mmioMegabytes: server.mmioMegabytes,
    mmioMegabytesOptional: server.mmioMegabytesOptional,
    serverFlags: server.flags,
    initFlags: channel.config.flags,
    targetVtl: server.targetVtl,
    state: open ? 'open' : 'offered',
    channelId: open ? server.channelId : null,
  };
}

function savedPacketOf(channel: KmclChannel, packet: KmclPacket): SavedPacket {
  if (packet.state === PACKET_AWAITING_COMPLETION) return { state: 'waiting', transactionId: channel.pool.transactionIdOf(packet) };
  return { state: 'queued', packetType: packet.packetType, ringFlags: packet.ringFlags, header: packet.header, payload: packet.payload };
}

/**
 * The VSP's state of `packet` through EvtVmbChannelSavePacket: first with an
 * empty buffer (success: nothing to save), then, after a failure naming
 * BytesNeeded, with a buffer of that size. The second call's BytesNeeded,
 * when at most the buffer, is the size it used. A failure without a size is
 * the VSP refusing the save.
 */
function vspStateOf(channel: KmclChannel, callbacks: PacketSaveRestoreCallbacks | null, packet: KmclPacket): Uint8Array | NtStatus {
  if (callbacks === null) return EMPTY_BYTES;
  const needed: Out<number> = { value: 0 };
  const first = callSave(callbacks, channel, packet, EMPTY_BYTES, needed);
  if (ntSuccess(first)) return EMPTY_BYTES;
  const size = needed.value;
  if (!isU32(size) || size === 0) return first;
  if (size > MAXIMUM_PACKET_VSP_STATE) return NTSTATUS.STATUS_INVALID_BUFFER_SIZE;
  const buffer = new Uint8Array(size);
  const used: Out<number> = { value: size };
  const second = callSave(callbacks, channel, packet, buffer, used);
  if (!ntSuccess(second)) return second;
  return isU32(used.value) && used.value <= size ? buffer.subarray(0, used.value) : buffer;
}

function callSave(
  callbacks: PacketSaveRestoreCallbacks,
  channel: KmclChannel,
  packet: KmclPacket,
  buffer: Uint8Array,
  needed: Out<number>,
): NtStatus {
  try {
    const status = callbacks.ex
      ? callbacks.save(channel.handle, packet.handle, buffer, buffer.length, needed, callbacks.context)
      : callbacks.save(channel.handle, packet.handle, buffer, buffer.length, needed);
    return typeof status === 'number' ? status >>> 0 : NTSTATUS.STATUS_UNSUCCESSFUL;
  } catch (error) {
    reportDriverFault(error);
    return NTSTATUS.STATUS_UNSUCCESSFUL;
  }
}
