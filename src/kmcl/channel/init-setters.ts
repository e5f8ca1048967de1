/**
 * The init-time setters any channel has (VmbChannelInitSet*). Each is valid
 * only while the channel is disabled and not changing state: otherwise, as
 * for a bad handle, STATUS_INVALID_PARAMETER_1 ("invalid or in an invalid
 * state" on every setter's page). A bad value is the status of its parameter
 * number and changes nothing.
 */
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import { hasOnlyFlags, isOptionalFunction, isU32 } from '../arguments.js';
import { VMBUS_CHANNEL_INIT_FLAGS } from '../flags.js';
import { channelFrom } from '../handles.js';
import {
  VMB_CHANNEL_STATE_CHANGE_CALLBACKS_SIZE,
  VMB_CHANNEL_STATE_CHANGE_CALLBACKS_VERSION,
  type PFN_VMB_CHANNEL_PROCESSING_COMPLETE,
  type PFN_VMB_CHANNEL_PROCESSING_COMPLETE_EX,
  type PFN_VMB_CHANNEL_PROCESS_PACKET,
  type PFN_VMB_CHANNEL_PROCESS_PACKET_EX,
  type VMBCHANNEL,
  type VMB_CHANNEL_STATE_CHANGE_CALLBACKS,
} from '../types.js';
import type { KmclChannel } from './channel.js';
import {
  MAXIMUM_CLIENT_CONTEXT_SIZE,
  MAXIMUM_INLINE_PACKET_CONTEXT_SIZE,
  MAXIMUM_PACKET_SIZE_LIMIT,
  type ChannelConfig,
} from './channel-config.js';

/** The channel behind a handle if it may be configured now, else null. */
export function configurableChannel(handle: unknown): KmclChannel | null {
  const channel = channelFrom(handle);
  return channel !== null && channel.configurable ? channel : null;
}

/** The longest UNICODE_STRING in characters: its Length is a USHORT count of bytes. */
const MAXIMUM_FRIENDLY_NAME_LENGTH = 0x7fff;

/** VmbChannelInitSetClientContextSize: context bytes on each incoming packet (at most 64 KiB, a decision). */
export function VmbChannelInitSetClientContextSize(Channel: VMBCHANNEL, ContextSize: number): NtStatus {
  const channel = configurableChannel(Channel);
  if (channel === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isU32(ContextSize) || ContextSize > MAXIMUM_CLIENT_CONTEXT_SIZE) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  channel.config.clientContextSize = ContextSize;
  return NTSTATUS.STATUS_SUCCESS;
}

/** VmbChannelInitSetFlags: VMBUS_CHANNEL_INIT_FLAG_IS_PIPE is the only flag; other bits are STATUS_INVALID_PARAMETER_2. */
export function VmbChannelInitSetFlags(Channel: VMBCHANNEL, Flags: number): NtStatus {
  const channel = configurableChannel(Channel);
  if (channel === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!hasOnlyFlags(Flags, VMBUS_CHANNEL_INIT_FLAGS)) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  channel.config.flags = Flags;
  return NTSTATUS.STATUS_SUCCESS;
}

/** VmbChannelInitSetFriendlyName: `Name` (PCUNICODE_STRING) is a string of at most 32767 characters. */
export function VmbChannelInitSetFriendlyName(Channel: VMBCHANNEL, Name: string): NtStatus {
  const channel = configurableChannel(Channel);
  if (channel === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (typeof Name !== 'string' || Name.length > MAXIMUM_FRIENDLY_NAME_LENGTH) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  channel.config.friendlyName = Name;
  return NTSTATUS.STATUS_SUCCESS;
}

/** VmbChannelInitSetMaximumExternalData: zero DataSize is STATUS_INVALID_PARAMETER_2, zero ChainLength _3. */
export function VmbChannelInitSetMaximumExternalData(Channel: VMBCHANNEL, DataSize: number, ChainLength: number): NtStatus {
  const channel = configurableChannel(Channel);
  if (channel === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isU32(DataSize) || DataSize === 0) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  if (!isU32(ChainLength) || ChainLength === 0) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  channel.config.maximumExternalDataSize = DataSize;
  channel.config.maximumExternalDataChainLength = ChainLength;
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbChannelInitSetMaximumPacketSize: zero is STATUS_INVALID_PARAMETER_2, and
 * so is a size no packet descriptor can carry (length8 is a u16).
 */
export function VmbChannelInitSetMaximumPacketSize(Channel: VMBCHANNEL, PacketSize: number): NtStatus {
  const channel = configurableChannel(Channel);
  if (channel === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isU32(PacketSize) || PacketSize === 0 || PacketSize > MAXIMUM_PACKET_SIZE_LIMIT) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  channel.config.maximumPacketSize = PacketSize;
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbChannelInitSetProcessPacketCallbacks: ProcessPacketCallback is required
 * (STATUS_INVALID_PARAMETER_2), ProcessingCompleteCallback optional (_3 if not
 * a function). Replaces callbacks set with the Ex form.
 */
export function VmbChannelInitSetProcessPacketCallbacks(
  Channel: VMBCHANNEL,
  ProcessPacketCallback: PFN_VMB_CHANNEL_PROCESS_PACKET,
  ProcessingCompleteCallback: PFN_VMB_CHANNEL_PROCESSING_COMPLETE | null,
): NtStatus {
  return setProcessPacketCallbacks(Channel, ProcessPacketCallback, ProcessingCompleteCallback, (config, process, complete) => {
    config.processPacket = process;
    config.processingComplete = complete;
    config.processPacketEx = null;
    config.processingCompleteEx = null;
  });
}

/**
 * VmbChannelInitSetProcessPacketCallbacksEx (V5, no DDI page). Decision: as
 * the V1 form with the Ex callback types (types.ts says what they add);
 * replaces callbacks set with the V1 form.
 */
export function VmbChannelInitSetProcessPacketCallbacksEx(
  Channel: VMBCHANNEL,
  ProcessPacketCallback: PFN_VMB_CHANNEL_PROCESS_PACKET_EX,
  ProcessingCompleteCallback: PFN_VMB_CHANNEL_PROCESSING_COMPLETE_EX | null,
): NtStatus {
  return setProcessPacketCallbacks(Channel, ProcessPacketCallback, ProcessingCompleteCallback, (config, process, complete) => {
    config.processPacketEx = process;
    config.processingCompleteEx = complete;
    config.processPacket = null;
    config.processingComplete = null;
  });
}

// The checks both forms share; `store` sets one form's callbacks and clears the other's.
function setProcessPacketCallbacks<P, C>(
  Channel: VMBCHANNEL,
  ProcessPacketCallback: P,
  ProcessingCompleteCallback: C | null,
  store: (config: ChannelConfig, process: P, complete: C | null) => void,
): NtStatus {
  const channel = configurableChannel(Channel);
  if (channel === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (typeof ProcessPacketCallback !== 'function') return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  if (!isOptionalFunction(ProcessingCompleteCallback)) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  store(channel.config, ProcessPacketCallback, ProcessingCompleteCallback ?? null);
  return NTSTATUS.STATUS_SUCCESS;
}

const STATE_CALLBACK_NAMES = [
  'EvtChannelOpened',
  'EvtChannelClosed',
  'EvtChannelSuspend',
  'EvtChannelStarted',
  'EvtChannelPostStarted',
] as const;

/**
 * VmbChannelInitSetStateChangeCallbacks: the structure must carry the Version
 * and Size VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT writes, and each member
 * must be a function or null; otherwise STATUS_INVALID_PARAMETER_2. The
 * structure is copied (the driver may reuse it).
 */
export function VmbChannelInitSetStateChangeCallbacks(
  Channel: VMBCHANNEL,
  StateChangeCallbacks: VMB_CHANNEL_STATE_CHANGE_CALLBACKS,
): NtStatus {
  const channel = configurableChannel(Channel);
  if (channel === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  const callbacks = StateChangeCallbacks as Partial<VMB_CHANNEL_STATE_CHANGE_CALLBACKS> | null;
  if (
    typeof callbacks !== 'object' ||
    callbacks === null ||
    callbacks.Version !== VMB_CHANNEL_STATE_CHANGE_CALLBACKS_VERSION ||
    callbacks.Size !== VMB_CHANNEL_STATE_CHANGE_CALLBACKS_SIZE ||
    !STATE_CALLBACK_NAMES.every((name) => isOptionalFunction(callbacks[name]))
  ) {
    return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  }
  channel.config.stateCallbacks = Object.freeze({
    Version: callbacks.Version,
    Size: callbacks.Size,
    EvtChannelOpened: callbacks.EvtChannelOpened ?? null,
    EvtChannelClosed: callbacks.EvtChannelClosed ?? null,
    EvtChannelSuspend: callbacks.EvtChannelSuspend ?? null,
    EvtChannelStarted: callbacks.EvtChannelStarted ?? null,
    EvtChannelPostStarted: callbacks.EvtChannelPostStarted ?? null,
  });
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbChannelInitSetInlinePacketContextSize (V5, no DDI page). Decision: the
 * bytes of context each packet object carries inline (see
 * VmbPacketGetInlinePacketContextPointer), at most 64 KiB; it is laid out when
 * a packet object is made, so once the channel has made one the setting is
 * STATUS_INVALID_PARAMETER_1 (wrong state).
 */
export function VmbChannelInitSetInlinePacketContextSize(Channel: VMBCHANNEL, ContextSize: number): NtStatus {
  const channel = configurableChannel(Channel);
  if (channel === null || channel.pool.createdCount > 0) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isU32(ContextSize) || ContextSize > MAXIMUM_INLINE_PACKET_CONTEXT_SIZE) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  channel.config.inlinePacketContextSize = ContextSize;
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbChannelInitSetMaximumPacketCount (V4, no DDI page). Decision: the most
 * packet objects VmbPacketAllocate hands out at once (it returns null beyond
 * that), which also bounds the packets a full ring can queue. Zero is
 * STATUS_INVALID_PARAMETER_2.
 */
export function VmbChannelInitSetMaximumPacketCount(Channel: VMBCHANNEL, PacketCount: number): NtStatus {
  const channel = configurableChannel(Channel);
  if (channel === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isU32(PacketCount) || PacketCount === 0) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  channel.config.maximumPacketCount = PacketCount;
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbChannelInitSetBounceBufferSizes (V3, no DDI page). Decision: reserve
 * `PoolPageCount` guest pages for bounce buffers when the channel opens
 * (STATUS_INVALID_PARAMETER_2 if zero), one buffer taking at most
 * `MaximumBufferPageCount` of them (_3 if zero or above the pool).
 */
export function VmbChannelInitSetBounceBufferSizes(
  Channel: VMBCHANNEL,
  PoolPageCount: number,
  MaximumBufferPageCount: number,
): NtStatus {
  const channel = configurableChannel(Channel);
  if (channel === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isU32(PoolPageCount) || PoolPageCount === 0) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  if (!isU32(MaximumBufferPageCount) || MaximumBufferPageCount === 0 || MaximumBufferPageCount > PoolPageCount) {
    return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  }
  channel.config.bounceBuffers = { poolPageCount: PoolPageCount, maximumBufferPageCount: MaximumBufferPageCount };
  return NTSTATUS.STATUS_SUCCESS;
}
