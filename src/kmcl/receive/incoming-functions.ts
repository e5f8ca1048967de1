/**
 * What a driver does with an incoming packet (VMBPACKETCOMPLETION) and the
 * knobs of the incoming queue: complete, fail, defer to PASSIVE_LEVEL, get
 * the external data or the client context; the transaction quota, the
 * processing level, the DPC budget.
 */
import { MemoryError } from '../../memory/index.js';
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import { asBoolean, hasOnlyFlags, holdsBytes, isOut, isU32 } from '../arguments.js';
import { VMBUS_CHANNEL_PACKET_EXTERNAL_DATA_FLAGS, VMBUS_CHANNEL_PACKET_EXTERNAL_DATA_FLAG_READ_ONLY } from '../flags.js';
import { channelFrom, deliveredIncomingFrom, incomingFrom } from '../handles.js';
import type { Out, VMBCHANNEL, VMBPACKETCOMPLETION } from '../types.js';
import { ExternalDataMapping } from './external-data.js';

/**
 * VmbChannelPacketComplete: the driver is done with the packet. Its external
 * data mapping ends; if the peer asked for a completion, one carrying
 * `BufSize` bytes of `PacketCompletionBuffer` goes back (queued if the ring is
 * full; dropped if the channel is gone). Decision: C's VOID becomes an
 * NTSTATUS: _1 for a packet the driver does not hold, _2 for a buffer shorter
 * than BufSize, _3 for a BufSize the channel's outgoing ring can never carry.
 */
export function VmbChannelPacketComplete(
  PacketCompletionContext: VMBPACKETCOMPLETION,
  PacketCompletionBuffer: Uint8Array | null,
  BufSize: number,
): NtStatus {
  const incoming = deliveredIncomingFrom(PacketCompletionContext);
  if (incoming === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isU32(BufSize)) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  if (!holdsBytes(PacketCompletionBuffer, BufSize)) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  const sends = incoming.channel.sends;
  if (sends.attached && BufSize > sends.largestBody) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  incoming.channel.completeIncoming(incoming, PacketCompletionBuffer, BufSize);
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbChannelPacketFail: the packet is malformed beyond recovery: it is
 * retired without a completion and the incoming queue stops (until the
 * channel is disabled and enabled again). Decision: C's VOID becomes an NTSTATUS.
 */
export function VmbChannelPacketFail(PacketCompletionContext: VMBPACKETCOMPLETION): NtStatus {
  const incoming = deliveredIncomingFrom(PacketCompletionContext);
  if (incoming === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  const channel = incoming.channel;
  channel.incoming.failed = true;
  incoming.mapping?.invalidate();
  incoming.mapping = null;
  channel.incoming.release(incoming);
  channel.incoming.retired();
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbChannelPacketDeferToPassive: only from inside the process-packet call
 * for this packet (else STATUS_INVALID_PARAMETER_1). When the call returns,
 * the packet goes to the passive queue and is delivered again from there;
 * the packets after it wait, so the order is kept. Decision: C's VOID
 * becomes an NTSTATUS.
 */
export function VmbChannelPacketDeferToPassive(PacketCompletionContext: VMBPACKETCOMPLETION): NtStatus {
  const incoming = deliveredIncomingFrom(PacketCompletionContext);
  if (incoming === null || !incoming.inCallback) {
    return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  }
  incoming.channel.incoming.requestDeferral(incoming);
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbChannelPacketGetExternalData: maps the GPA ranges of a GPA-direct packet
 * (checked against guest memory and the VmbChannelInitSetMaximumExternalData
 * limits), read-only with VMBUS_CHANNEL_PACKET_EXTERNAL_DATA_FLAG_READ_ONLY.
 * The mapping is valid until the packet is completed. Never STATUS_PENDING
 * (guest memory is always resident). Statuses: _1 bad packet, _2 unknown
 * flags, _3 bad out-parameter; STATUS_NOT_FOUND for a packet without external
 * data; STATUS_NOT_SUPPORTED for transfer-page external data (the client
 * interface cannot name the transfer page set); STATUS_INVALID_BUFFER_SIZE
 * beyond the limits; STATUS_DATA_ERROR for ranges outside guest memory.
 */
export function VmbChannelPacketGetExternalData(
  PacketCompletionContext: VMBPACKETCOMPLETION,
  Flags: number,
  Mdl: Out<ExternalDataMapping | null>,
): NtStatus {
  const incoming = deliveredIncomingFrom(PacketCompletionContext);
  if (incoming === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!hasOnlyFlags(Flags, VMBUS_CHANNEL_PACKET_EXTERNAL_DATA_FLAGS)) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  if (!isOut(Mdl)) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  if (incoming.flags === 0) return NTSTATUS.STATUS_NOT_FOUND;
  const ranges = incoming.ranges;
  if (ranges === null) return NTSTATUS.STATUS_NOT_SUPPORTED;
  const config = incoming.channel.config;
  if (config.maximumExternalDataSize !== 0) {
    let bytes = 0;
    for (const range of ranges) bytes += range.byteCount;
    if (bytes > config.maximumExternalDataSize || ranges.length > config.maximumExternalDataChainLength) {
      return NTSTATUS.STATUS_INVALID_BUFFER_SIZE;
    }
  }
  const readOnly = (Flags & VMBUS_CHANNEL_PACKET_EXTERNAL_DATA_FLAG_READ_ONLY) !== 0;
  if (incoming.mapping === null || incoming.mapping.readOnly !== readOnly) {
    const mapping = ExternalDataMapping.map(incoming.channel.context.memory, ranges, readOnly);
    if (mapping instanceof MemoryError) return NTSTATUS.STATUS_DATA_ERROR;
    incoming.mapping?.invalidate();
    incoming.mapping = mapping;
  }
  Mdl.value = incoming.mapping;
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbChannelPacketGetClientContext (V2, no DDI page). Decision: the packet's
 * client context area (VmbChannelInitSetClientContextSize bytes, zeroed at
 * each delivery); null for a bad handle or a context size of 0.
 */
export function VmbChannelPacketGetClientContext(PacketCompletionContext: VMBPACKETCOMPLETION): Uint8Array | null {
  const incoming = incomingFrom(PacketCompletionContext);
  if (incoming === null || incoming.clientContext.length === 0) return null;
  return incoming.clientContext;
}

/**
 * VmbChannelSetTransactionQuota: at most `Quota` delivered packets may be
 * outstanding; beyond it no packet is taken from the ring until one is
 * completed (raising the quota does not restart a blocked queue, a
 * completion does). Zero is STATUS_INVALID_PARAMETER_2. Decision: C's VOID
 * becomes an NTSTATUS.
 */
export function VmbChannelSetTransactionQuota(Channel: VMBCHANNEL, Quota: number): NtStatus {
  const channel = channelFrom(Channel);
  if (channel === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isU32(Quota) || Quota === 0) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  channel.incoming.quota = Quota;
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbChannelSetIncomingProcessingAtPassive: with TRUE every process-packet
 * call comes from the passive queue (a later macrotask), never from the
 * signal handler. Decision: C's VOID becomes an NTSTATUS (_2 for a value
 * that is not a BOOLEAN).
 */
export function VmbChannelSetIncomingProcessingAtPassive(Channel: VMBCHANNEL, RequirePassive: boolean): NtStatus {
  const channel = channelFrom(Channel);
  if (channel === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  const requirePassive = asBoolean(RequirePassive);
  if (requirePassive === null) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  channel.incoming.requirePassive = requirePassive;
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbChannelSetAllowableDpcCpuUsage (V5, no DDI page). Decision: the time, in
 * 100 ns units, one DISPATCH_LEVEL drain may run before it yields to the
 * event loop (the batch ends, EvtVmbChannelProcessingComplete runs, and the
 * drain continues on a later turn); 0 removes the limit.
 */
export function VmbChannelSetAllowableDpcCpuUsage(Channel: VMBCHANNEL, Usage: number): NtStatus {
  const channel = channelFrom(Channel);
  if (channel === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isU32(Usage)) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  channel.incoming.dpcBudget = Usage;
  return NTSTATUS.STATUS_SUCCESS;
}
