/**
 * Restoring a server channel from its saved chunks
 * (VmbChannelRestoreFromBuffer), before VmbChannelEnable: chunk 0 gives the
 * channel its saved settings, each later chunk gives back one packet object,
 * through EvtVmbChannelRestorePacket (the VSP allocates a packet and hands it
 * the LibBuf with VmbPacketRestore) or, without callbacks, by the KMCL
 * itself (a packet from the lookaside list with the default completion
 * routine). Enable then offers the channel; if the bus is restoring and the
 * guest kept the channel open, the channel takes it back (server-lifecycle.ts).
 */
import { SavedStateError } from '../../bus/server/index.js';
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import { coversBytes, hasOnlyFlags, isU32 } from '../arguments.js';
import type { KmclChannel } from '../channel/channel.js';
import { reportDriverFault } from '../driver-fault.js';
import { VMBUS_CHANNEL_INIT_FLAGS } from '../flags.js';
import type { VMBCHANNEL } from '../types.js';
import { decodeChunk, savedStateStatus, type SavedChunk, type SavedServerChannel } from './channel-saved-state.js';
import { restorePacket } from './packet-restore.js';
import type { ServerChannel } from './server-channel.js';
import { configurableServer, type ServerEndpoint } from './server-endpoint.js';
import { VMBUS_SERVER_CHANNEL_INIT_FLAGS } from './server-flags.js';
import { MAXIMUM_TARGET_VTL } from './server-init-setters.js';

/** A restore between its first chunk and its last. */
export class ChannelRestore {
  /** The index of the chunk that must come next. */
  next = 1;
  constructor(
    readonly saveId: number,
    readonly count: number,
  ) {}
}

/**
 * VmbChannelRestoreFromBuffer: restores the whole chunks in `BufferSize`
 * bytes of `Buffer` (one or more, in order). STATUS_MORE_PROCESSING_REQUIRED
 * while chunks of the save are still to come, STATUS_SUCCESS after the last.
 * Failures end the restore (start again from chunk 0, on a new channel):
 * STATUS_REVISION_MISMATCH for a format version this code does not read;
 * STATUS_DATA_ERROR for bytes that are corrupt, cut short, out of order or
 * of another save; STATUS_INVALID_DEVICE_STATE for a save of a channel this
 * one cannot be (another interface or instance, a subchannel into a primary
 * or back) or a channel restored already; a restore callback's failure
 * status. Argument statuses: _1 a bad handle, a client channel or one that is
 * not disabled; _2 a buffer shorter than BufferSize; _3 a size that is no ULONG.
 */
export function VmbChannelRestoreFromBuffer(Channel: VMBCHANNEL, Buffer: Uint8Array | null, BufferSize: number): NtStatus {
  const endpoint = configurableServer(Channel);
  if (endpoint === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isU32(BufferSize)) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  if (!coversBytes(Buffer, BufferSize)) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  const { server } = endpoint;
  // One copy: the caller cannot change the bytes between their checks and their use.
  const bytes = Buffer === null ? new Uint8Array(0) : Buffer.slice(0, BufferSize);
  let offset = 0;
  do {
    const decoded = decodeChunk(bytes.subarray(offset));
    if (decoded instanceof SavedStateError) return abandon(server, savedStateStatus(decoded));
    const status = restoreChunk(endpoint, decoded.chunk);
    if (status !== NTSTATUS.STATUS_SUCCESS) return abandon(server, status);
    offset += decoded.size;
  } while (offset < bytes.length);
  return server.restore === null ? NTSTATUS.STATUS_SUCCESS : NTSTATUS.STATUS_MORE_PROCESSING_REQUIRED;
}

/** A failed chunk ends the restore in progress. */
function abandon(server: ServerChannel, status: NtStatus): NtStatus {
  server.restore = null;
  return status;
}

function restoreChunk(endpoint: ServerEndpoint, chunk: SavedChunk): NtStatus {
  const { server } = endpoint;
  const session = server.restore;
  const body = chunk.body;
  if (body.kind === 'channel') {
    if (session !== null) return NTSTATUS.STATUS_DATA_ERROR;
    if (server.restored !== null) return NTSTATUS.STATUS_INVALID_DEVICE_STATE;
    const status = applyChannel(endpoint, body.channel);
    if (status !== NTSTATUS.STATUS_SUCCESS) return status;
    server.restored = body.channel;
    if (chunk.count > 1) server.restore = new ChannelRestore(chunk.saveId, chunk.count);
    return NTSTATUS.STATUS_SUCCESS;
  }
  if (session === null || chunk.saveId !== session.saveId || chunk.count !== session.count || chunk.index !== session.next) {
    return NTSTATUS.STATUS_DATA_ERROR;
  }
  const status = restorePacketChunk(endpoint, body.libState, body.vspState);
  if (status !== NTSTATUS.STATUS_SUCCESS) return status;
  session.next++;
  if (session.next === session.count) server.restore = null;
  return NTSTATUS.STATUS_SUCCESS;
}

/** Gives the channel the saved settings, after checking they fit it and hold together. */
function applyChannel({ channel, server }: ServerEndpoint, saved: SavedServerChannel): NtStatus {
  if (
    !hasOnlyFlags(saved.serverFlags, VMBUS_SERVER_CHANNEL_INIT_FLAGS) ||
    !hasOnlyFlags(saved.initFlags, VMBUS_CHANNEL_INIT_FLAGS) ||
    saved.targetVtl > MAXIMUM_TARGET_VTL
  ) {
    return NTSTATUS.STATUS_DATA_ERROR;
  }
  if (!fitsIdentity(channel, server, saved)) return NTSTATUS.STATUS_INVALID_DEVICE_STATE;
  if (channel.config.primaryChannel === null) {
    server.interfaceId = saved.interfaceId;
    server.instanceId = saved.instanceId;
  }
  server.flags = saved.serverFlags;
  server.mmioMegabytes = saved.mmioMegabytes;
  server.mmioMegabytesOptional = saved.mmioMegabytesOptional;
  server.targetVtl = saved.targetVtl;
  channel.config.flags = saved.initFlags;
  return NTSTATUS.STATUS_SUCCESS;
}

/** A primary takes a primary's save (its interface and instance, when set, the saved ones); a subchannel a subchannel's. */
function fitsIdentity(channel: KmclChannel, server: ServerChannel, saved: SavedServerChannel): boolean {
  const primary = channel.config.primaryChannel?.server ?? null;
  if (primary !== null) {
    return saved.subchannelIndex > 0 && (primary.interfaceId === null || (primary.interfaceId === saved.interfaceId && primary.instanceId === saved.instanceId));
  }
  if (saved.subchannelIndex !== 0) return false;
  return server.interfaceId === null || (server.interfaceId === saved.interfaceId && server.instanceId === saved.instanceId);
}

/** One saved packet object: through the VSP's restore callback, or by the KMCL alone without callbacks. */
function restorePacketChunk({ channel, server }: ServerEndpoint, libState: Uint8Array, vspState: Uint8Array): NtStatus {
  const callbacks = server.packetCallbacks;
  if (callbacks === null) {
    const packet = channel.pool.allocate();
    if (packet === null) return NTSTATUS.STATUS_INSUFFICIENT_RESOURCES;
    const status = restorePacket(packet, libState);
    if (status !== NTSTATUS.STATUS_SUCCESS) channel.pool.free(packet);
    return status;
  }
  try {
    const status = callbacks.ex
      ? callbacks.restore(channel.handle, libState, libState.length, vspState, vspState.length, callbacks.context)
      : callbacks.restore(channel.handle, libState, libState.length, vspState, vspState.length);
    return typeof status === 'number' ? status >>> 0 : NTSTATUS.STATUS_UNSUCCESSFUL;
  } catch (error) {
    reportDriverFault(error);
    return NTSTATUS.STATUS_UNSUCCESSFUL;
  }
}
