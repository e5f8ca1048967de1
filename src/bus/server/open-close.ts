/**
 * OPEN_CHANNEL, the device's open completion, CLOSE_CHANNEL and MODIFY_CHANNEL
 * (channels.rs:2998-3136, 3430-3545).
 *
 * The ring GPADL is checked before the device hears of the open, with the
 * rules of OpenVMM's `AlignedGpadlView` (gpadl_ring.rs:38-73): a created GPADL
 * of this channel, one range at offset 0 of whole pages, split at
 * `downstream_ring_buffer_page_offset` into two non-empty halves. A bad ring
 * is answered with OPEN_RESULT(VMBUS_STATUS_UNSUCCESSFUL), as OpenVMM's device
 * layer answers it.
 */
import { PAGE_SIZE } from '../../memory/index.js';
import {
  FEATURE_FLAG,
  OPEN_CHANNEL_FLAG,
  VMBUS_VERSION,
  VP_INDEX_DISABLE_INTERRUPT,
  type MessageOfKind,
} from '../../wire/messages/index.js';
import { NTSTATUS, ntSuccess } from '../../wire/ntstatus.js';
import type { ChannelRecord, OpenRequest } from './channel.js';
import type { ConnectionInfo, ServerCore } from './core.js';
import { checkDisconnected } from './disconnect.js';
import type { OfferId, OpenChannelAction } from './notifier.js';
import { requestError, type ServerRequestError } from './request-error.js';

/** OPEN_CHANNEL (both forms): a closed channel with a good ring goes to the device. */
export function handleOpenChannel(
  core: ServerCore,
  info: ConnectionInfo,
  msg: MessageOfKind<'OpenChannel'> | MessageOfKind<'OpenChannel2'>,
): void {
  const { channelId, openId } = msg;
  const channel = core.visibleChannel(channelId);
  if (typeof channel === 'string') return core.dropped(msg.kind, channel, { channelId });
  switch (channel.state.kind) {
    case 'closed':
      break;
    case 'revoked':
    case 'reoffered':
      // Ignored, as OpenVMM ignores it (channels.rs:3086): the guest is about to see the rescind.
      return core.dropped(msg.kind, `channel ${channelId} is rescinded`, { channelId });
    case 'opening':
    case 'open':
      return core.dropped(msg.kind, `channel ${channelId} is already open`, { channelId });
    case 'client-released':
    case 'opening-released':
      return core.dropped(msg.kind, `channel ${channelId} is released`, { channelId });
  }
  const request = openRequest(info, msg);
  const problem = ringProblem(core, channel, request);
  if (problem !== null) {
    core.rejected(msg.kind, problem, { channelId, gpadlId: request.ringGpadlId });
    core.send({ kind: 'OpenResult', channelId, openId, status: NTSTATUS.VMBUS_STATUS_UNSUCCESSFUL });
    return;
  }
  channel.state = { kind: 'opening', request };
  core.outbox.action(openAction(channel, info, request));
}

/**
 * The device's answer to an `open` action: OPEN_RESULT with its status. If the
 * guest let go of the channel meanwhile, a successful open is closed again.
 */
export function openComplete(core: ServerCore, offerId: OfferId, status: number): ServerRequestError | undefined {
  const channel = core.channels.get(offerId);
  if (channel === undefined) return requestError('unknown-offer', `no offer ${offerId}`);
  if (!Number.isInteger(status) || status < 0 || status > 0xffff_ffff) {
    return requestError('bad-parameter', `status is not a u32 NTSTATUS: ${status}`);
  }
  const state = channel.state;
  if (core.restoring?.unclaimed.has(offerId) === true) {
    return requestError('invalid-state', `offer ${offerId} is a restored channel nobody claimed yet; no device was asked to open it`);
  }
  switch (state.kind) {
    case 'opening': {
      const ids = channel.ids;
      if (ids === null) throw new Error(`opening channel ${offerId} has no channel id`);
      core.send({ kind: 'OpenResult', channelId: ids.channelId, openId: state.request.openId, status });
      channel.state = ntSuccess(status) ? { kind: 'open', request: state.request } : { kind: 'closed' };
      return undefined;
    }
    case 'opening-released':
      if (ntSuccess(status)) core.outbox.action({ type: 'close', offerId, channelId: state.channelId });
      if (state.rescinded) core.channels.delete(offerId);
      else channel.state = { kind: 'client-released' };
      checkDisconnected(core);
      return undefined;
    case 'client-released':
    case 'closed':
    case 'open':
    case 'revoked':
    case 'reoffered':
      return requestError('invalid-state', `offer ${offerId} has no open pending (${state.kind})`);
  }
}

/** CLOSE_CHANNEL: an open channel closes and the device is told to stop. */
export function handleCloseChannel(core: ServerCore, msg: MessageOfKind<'CloseChannel'>): void {
  const { channelId } = msg;
  const channel = core.visibleChannel(channelId);
  if (typeof channel === 'string') return core.dropped(msg.kind, channel, { channelId });
  switch (channel.state.kind) {
    case 'open':
      channel.state = { kind: 'closed' };
      core.outbox.action({ type: 'close', offerId: channel.offerId, channelId });
      return;
    case 'revoked':
    case 'reoffered':
      return core.dropped(msg.kind, `channel ${channelId} is rescinded`, { channelId });
    case 'closed':
    case 'opening':
    case 'client-released':
    case 'opening-released':
      return core.dropped(msg.kind, `channel ${channelId} is not open (${channel.state.kind})`, { channelId });
  }
}

/**
 * MODIFY_CHANNEL: retargets an open channel's interrupts. It cannot disable
 * them. From Iron every request is answered with MODIFY_CHANNEL_RESPONSE;
 * before, there is no answer, not even to a failure (channels.rs:3430-3545).
 */
export function handleModifyChannel(core: ServerCore, info: ConnectionInfo, msg: MessageOfKind<'ModifyChannel'>): void {
  const { channelId, targetVp } = msg;
  const answers = info.version >= VMBUS_VERSION.Iron;
  const fail = (reason: string): void => {
    if (!answers) return core.dropped(msg.kind, reason, { channelId, targetVp });
    core.rejected(msg.kind, reason, { channelId, targetVp });
    core.send({ kind: 'ModifyChannelResponse', channelId, status: NTSTATUS.VMBUS_STATUS_UNSUCCESSFUL });
  };
  if (targetVp === VP_INDEX_DISABLE_INTERRUPT) return fail('MODIFY_CHANNEL cannot disable interrupts');
  const channel = core.visibleChannel(channelId);
  if (typeof channel === 'string') return fail(channel);
  const state = channel.state;
  if (state.kind !== 'open') return fail(`channel ${channelId} is not open (${state.kind})`);
  if (state.request.targetVp === null) return fail(`channel ${channelId} was opened with interrupts disabled`);
  channel.state = { kind: 'open', request: { ...state.request, targetVp } };
  core.outbox.action({ type: 'modify', offerId: channel.offerId, channelId, targetVp });
  if (answers) core.send({ kind: 'ModifyChannelResponse', channelId, status: NTSTATUS.STATUS_SUCCESS });
}

/** What the guest asked for, with OpenChannel2's extras only where their feature was negotiated. */
function openRequest(info: ConnectionInfo, msg: MessageOfKind<'OpenChannel'> | MessageOfKind<'OpenChannel2'>): OpenRequest {
  const v2 = msg.kind === 'OpenChannel2' ? msg : null;
  const guestSignal = (info.features & FEATURE_FLAG.GUEST_SPECIFIED_SIGNAL_PARAMETERS) !== 0 && v2 !== null;
  const redirect = (info.features & FEATURE_FLAG.CHANNEL_INTERRUPT_REDIRECTION) !== 0 && v2 !== null;
  return {
    openId: msg.openId,
    ringGpadlId: msg.ringBufferGpadlId,
    targetVp: msg.targetVp === VP_INDEX_DISABLE_INTERRUPT ? null : msg.targetVp,
    downstreamRingPageOffset: msg.downstreamRingBufferPageOffset,
    userData: msg.userData.slice(),
    guestSignal: guestSignal ? { connectionId: v2.connectionId, eventFlag: v2.eventFlag } : null,
    redirectInterrupt: redirect && (v2.flags & OPEN_CHANNEL_FLAG.REDIRECT_INTERRUPT) !== 0,
  };
}

/** Why the ring GPADL cannot carry the channel's two rings, or null when it can. */
export function ringProblem(core: ServerCore, channel: ChannelRecord, request: OpenRequest): string | null {
  const { ringGpadlId, downstreamRingPageOffset: split } = request;
  const record = core.gpadls.get(ringGpadlId);
  if (record === undefined || record.offerId !== channel.offerId) return `ring GPADL ${ringGpadlId} is not a GPADL of this channel`;
  if (record.state.kind !== 'created') return `ring GPADL ${ringGpadlId} is ${record.state.kind}`;
  const [range, ...more] = record.state.ranges;
  if (range === undefined || more.length > 0) return `ring GPADL ${ringGpadlId} has ${record.state.ranges.length} ranges, not 1`;
  if (range.byteOffset !== 0 || range.byteCount % PAGE_SIZE !== 0) {
    return `ring GPADL ${ringGpadlId} is not whole pages (offset ${range.byteOffset}, ${range.byteCount} bytes)`;
  }
  if (split === 0 || split >= range.pfns.length) {
    return `ring split at page ${split} of ${range.pfns.length} leaves a ring without pages`;
  }
  return null;
}

/** The device's view of an open (OpenVMM `OpenParams::from_request`, channels.rs:1268-1300). */
export function openAction(channel: ChannelRecord, info: ConnectionInfo, request: OpenRequest): OpenChannelAction {
  const ids = channel.ids;
  if (ids === null) throw new Error(`offer ${channel.offerId} opens without a channel id`);
  return {
    type: 'open',
    offerId: channel.offerId,
    channelId: ids.channelId,
    openId: request.openId,
    ringGpadlId: request.ringGpadlId,
    downstreamRingPageOffset: request.downstreamRingPageOffset,
    targetVp: request.targetVp,
    // By default the host signals with the channel id as event flag and the guest on the offer's connection id.
    eventFlag: request.guestSignal?.eventFlag ?? ids.channelId,
    connectionId: request.guestSignal?.connectionId ?? ids.connectionId,
    redirectInterrupt: request.redirectInterrupt,
    // MNF needs interrupts and monitor pages; the guest was sent no monitor id otherwise.
    monitorId: request.targetVp !== null && info.monitorPages !== null ? ids.monitorId : null,
    userData: request.userData.slice(),
    version: info.version,
    features: info.features,
  };
}
