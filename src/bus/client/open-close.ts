/**
 * Opening, closing and retargeting a channel: OPEN_CHANNEL / OPEN_RESULT,
 * CLOSE_CHANNEL, MODIFY_CHANNEL / MODIFY_CHANNEL_RESPONSE (openvmm-vmbus.md §6.7,
 * §6.9; linux-vmbus.md §A.3.3-A.3.4).
 */
import {
  FEATURE_FLAG,
  OPEN_CHANNEL_FLAG,
  VP_INDEX_DISABLE_INTERRUPT,
  messageAllowed,
  openChannelKind,
} from '../../wire/messages/index.js';
import type { ChannelMessage, MessageOfKind } from '../../wire/messages/index.js';
import { MAX_CONNECTION_ID } from './connect.js';
import { post, runningSession } from './core.js';
import type { ClientCore, Verdict } from './core.js';
import { LOCAL_COMPLETION_STATUS } from './events.js';
import type { ChannelRecord } from './offers.js';
import { ClientRequestError, checkUint, refuse } from './request-error.js';
import type { Session } from './session.js';

/** Bytes of OPEN_CHANNEL user data (protocol.rs:723-732). */
export const OPEN_USER_DATA_SIZE = 120;

/** What the caller asks of `openChannel`. */
export interface OpenRequest {
  /** A live GPADL of this channel holding both rings: one range, offset 0, whole pages. */
  readonly ringGpadlId: number;
  /** Pages of the guest→host ring incl. its control page; the host→guest ring starts there (openvmm-vmbus.md §6.4). */
  readonly downstreamRingPageOffset: number;
  /** The VP for host→guest interrupts; VP_INDEX_DISABLE_INTERRUPT for none. */
  readonly targetVp: number;
  /** Up to 120 bytes for the host; zero-padded. */
  readonly userData?: Uint8Array;
  /** OpenChannel2's connection id; needs guest_specified_signal_parameters. Default: the offer's. */
  readonly connectionId?: number;
  /** OpenChannel2's event flag; needs guest_specified_signal_parameters. Default: the channel id. */
  readonly eventFlag?: number;
  /** OpenChannel2's redirect_interrupt flag; needs channel_interrupt_redirection. */
  readonly redirectInterrupt?: boolean;
}

/** The channel a local request names, if it exists and was not rescinded. */
function liveChannel(core: ClientCore, channelId: number): ChannelRecord | ClientRequestError {
  const record = core.channels.get(channelId);
  if (record === undefined) return refuse('unknown-channel', `no channel ${String(channelId)}`);
  if (record.rescinded) return refuse('channel-rescinded', `channel ${channelId} was rescinded`);
  return record;
}

/**
 * Sends OPEN_CHANNEL (OpenChannel2 at 6.0 with a signal feature) with a fresh
 * open id, which OPEN_RESULT must echo; returns that id.
 */
export function openChannel(core: ClientCore, channelId: number, request: OpenRequest): number | ClientRequestError {
  const session = runningSession(core, 'openChannel');
  if (session instanceof ClientRequestError) return session;
  const record = liveChannel(core, channelId);
  if (record instanceof ClientRequestError) return record;
  if (record.lifecycle.state !== 'closed') return refuse('channel-state', `channel ${channelId} is ${record.lifecycle.state}`);
  if (typeof request !== 'object' || request === null) return refuse('bad-argument', 'an open request must be an object');
  const fields = openFields(core, record, request);
  if (fields instanceof ClientRequestError) return fields;
  const signal = signalFields(session, record, request);
  if (signal instanceof ClientRequestError) return signal;

  const openId = core.nextOpenId;
  core.nextOpenId = (openId + 1) >>> 0;
  const open = { channelId, openId, ...fields };
  const message: ChannelMessage =
    openChannelKind(session.version, session.features) === 'OpenChannel2'
      ? { kind: 'OpenChannel2', ...open, ...signal }
      : { kind: 'OpenChannel', ...open };
  record.lifecycle = { state: 'opening', openId, ringGpadlId: fields.ringBufferGpadlId };
  post(core, session, message);
  return openId;
}

/** The OpenChannel fields after the channel and open ids, checked against the ring GPADL. */
function openFields(core: ClientCore, record: ChannelRecord, request: OpenRequest) {
  const channelId = record.offer.channelId;
  const { ringGpadlId, downstreamRingPageOffset, targetVp, userData } = request;
  const gpadl = core.gpadls.get(ringGpadlId);
  if (gpadl === undefined || gpadl.channelId !== channelId) {
    return refuse('unknown-gpadl', `no GPADL ${String(ringGpadlId)} on channel ${channelId}`);
  }
  if (gpadl.state !== 'created') return refuse('gpadl-state', `ring GPADL ${ringGpadlId} is ${gpadl.state}`);
  if (gpadl.ringPages === null) return refuse('bad-argument', `GPADL ${ringGpadlId} is not one page-aligned range from offset 0`);
  // Both rings need at least their control page (gpadl_ring.rs:55-73).
  const offsetProblem = checkUint('downstreamRingPageOffset', downstreamRingPageOffset, gpadl.ringPages - 1);
  if (offsetProblem !== undefined || downstreamRingPageOffset === 0) {
    const offset = String(downstreamRingPageOffset);
    return refuse('bad-argument', `downstreamRingPageOffset ${offset} does not split the ${gpadl.ringPages}-page ring GPADL in two`);
  }
  const vpProblem = checkUint('targetVp', targetVp, 0xffff_ffff);
  if (vpProblem !== undefined) return vpProblem;
  const data = new Uint8Array(OPEN_USER_DATA_SIZE);
  if (userData !== undefined) {
    if (!(userData instanceof Uint8Array) || userData.length > OPEN_USER_DATA_SIZE) {
      return refuse('bad-argument', `userData must be a Uint8Array of at most ${OPEN_USER_DATA_SIZE} bytes`);
    }
    data.set(userData);
  }
  return { ringBufferGpadlId: ringGpadlId, targetVp, downstreamRingBufferPageOffset: downstreamRingPageOffset, userData: data };
}

/**
 * OpenChannel2's tail. The host honours connection id and event flag only with
 * guest_specified_signal_parameters and the flags only with
 * channel_interrupt_redirection (channels.rs:3038-3055), so asking for either
 * without its feature is refused rather than silently ignored.
 */
function signalFields(session: Session, record: ChannelRecord, request: OpenRequest) {
  const { connectionId, eventFlag, redirectInterrupt } = request;
  const guestSignal = (session.features & FEATURE_FLAG.GUEST_SPECIFIED_SIGNAL_PARAMETERS) !== 0;
  const redirection = (session.features & FEATURE_FLAG.CHANNEL_INTERRUPT_REDIRECTION) !== 0;
  if ((connectionId !== undefined || eventFlag !== undefined) && !guestSignal) {
    return refuse('not-negotiated', 'a guest-specified connection id or event flag needs guest_specified_signal_parameters');
  }
  if (redirectInterrupt !== undefined && typeof redirectInterrupt !== 'boolean') {
    return refuse('bad-argument', 'redirectInterrupt must be a boolean');
  }
  if (redirectInterrupt === true && !redirection) {
    return refuse('not-negotiated', 'redirecting interrupts needs channel_interrupt_redirection');
  }
  const chosenConnectionId = connectionId ?? record.offer.connectionId;
  const chosenEventFlag = eventFlag ?? record.offer.channelId;
  const problem = checkUint('connectionId', chosenConnectionId, MAX_CONNECTION_ID) ?? checkUint('eventFlag', chosenEventFlag, 0xffff);
  if (problem !== undefined) return problem;
  return {
    connectionId: chosenConnectionId,
    eventFlag: chosenEventFlag,
    flags: redirectInterrupt === true ? OPEN_CHANNEL_FLAG.REDIRECT_INTERRUPT : 0,
  };
}

/** OPEN_RESULT settles the open with the same channel and open id (linux-vmbus.md §A.4 item 11). */
export function handleOpenResult(core: ClientCore, msg: MessageOfKind<'OpenResult'>): Verdict {
  const record = core.channels.get(msg.channelId);
  if (record === undefined) return `OPEN_RESULT for unknown channel ${msg.channelId}`;
  const { lifecycle } = record;
  if (lifecycle.state !== 'opening') return `OPEN_RESULT for channel ${msg.channelId}, which is ${lifecycle.state}`;
  if (lifecycle.openId !== msg.openId) {
    return `OPEN_RESULT for channel ${msg.channelId} with open id ${msg.openId}; the open waiting has id ${lifecycle.openId}`;
  }
  record.lifecycle = msg.status === 0 ? { ...lifecycle, state: 'open' } : { state: 'closed' };
  core.outbox.emit({ kind: 'open-result', channelId: msg.channelId, openId: msg.openId, status: msg.status, cause: 'host' });
  return undefined;
}

/**
 * Closes an open channel. CLOSE_CHANNEL has no answer. A rescinded channel is
 * closed locally only: the host has already stopped it and ignores the message
 * (channels.rs:3123). A modify still waiting ends: the host answers none on a
 * closed channel (channels.rs:3506-3520).
 */
export function closeChannel(core: ClientCore, channelId: number): ClientRequestError | undefined {
  const session = runningSession(core, 'closeChannel');
  if (session instanceof ClientRequestError) return session;
  const record = core.channels.get(channelId);
  if (record === undefined) return refuse('unknown-channel', `no channel ${String(channelId)}`);
  if (record.lifecycle.state !== 'open') return refuse('channel-state', `channel ${channelId} is ${record.lifecycle.state}`);
  record.lifecycle = { state: 'closed' };
  if (!record.rescinded) post(core, session, { kind: 'CloseChannel', channelId });
  const { pendingModify } = record;
  if (pendingModify !== null) {
    record.pendingModify = null;
    const status = LOCAL_COMPLETION_STATUS.closed;
    core.outbox.emit({ kind: 'modify-channel-result', channelId, targetVp: pendingModify.targetVp, status, cause: 'closed' });
  }
  return undefined;
}

/**
 * Sends MODIFY_CHANNEL (from 4.1) to move an open channel's interrupts to
 * another VP. From 5.3 the host answers; before, it never does, so the request
 * completes as it is sent (linux-vmbus.md §A.3.3).
 */
export function modifyChannel(core: ClientCore, channelId: number, targetVp: number): ClientRequestError | undefined {
  const session = runningSession(core, 'modifyChannel');
  if (session instanceof ClientRequestError) return session;
  if (!messageAllowed('MODIFY_CHANNEL', session.version, session.features)) {
    return refuse('not-negotiated', 'MODIFY_CHANNEL needs version 4.1');
  }
  const record = liveChannel(core, channelId);
  if (record instanceof ClientRequestError) return record;
  if (record.lifecycle.state !== 'open') return refuse('channel-state', `channel ${channelId} is ${record.lifecycle.state}`);
  if (record.pendingModify !== null) return refuse('busy', `a modify of channel ${channelId} is waiting for its response`);
  const vpProblem = checkUint('targetVp', targetVp, 0xffff_ffff);
  if (vpProblem !== undefined) return vpProblem;
  // The host cannot turn a channel's interrupts off by modify (openvmm-vmbus.md §2.3 "Target VP").
  if (targetVp === VP_INDEX_DISABLE_INTERRUPT) return refuse('bad-argument', 'MODIFY_CHANNEL cannot disable interrupts');
  post(core, session, { kind: 'ModifyChannel', channelId, targetVp });
  if (messageAllowed('MODIFY_CHANNEL_RESPONSE', session.version, session.features)) {
    record.pendingModify = { targetVp };
  } else {
    const status = LOCAL_COMPLETION_STATUS.unacknowledged;
    core.outbox.emit({ kind: 'modify-channel-result', channelId, targetVp, status, cause: 'unacknowledged' });
  }
  return undefined;
}

export function handleModifyChannelResponse(core: ClientCore, msg: MessageOfKind<'ModifyChannelResponse'>): Verdict {
  const record = core.channels.get(msg.channelId);
  if (record === undefined) return `MODIFY_CHANNEL_RESPONSE for unknown channel ${msg.channelId}`;
  const { pendingModify } = record;
  if (pendingModify === null) return `MODIFY_CHANNEL_RESPONSE for channel ${msg.channelId}, which has no modify waiting`;
  record.pendingModify = null;
  core.outbox.emit({
    kind: 'modify-channel-result',
    channelId: msg.channelId,
    targetVp: pendingModify.targetVp,
    status: msg.status,
    cause: 'host',
  });
  return undefined;
}
