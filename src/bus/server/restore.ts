/**
 * Restoring a server from its saved state, in OpenVMM's three steps
 * (`channels/saved_state.rs` `restore`, channels.rs `restore_channel` and
 * `revoke_unclaimed_channels`):
 *
 * 1. `restoreServer` checks the whole saved state against the server's
 *    configuration and guest memory and rebuilds the connection, the channels
 *    (under the ids the guest knows) and the GPADLs. Nothing is sent.
 * 2. Devices offer their channels again: an offer with the key of a restored
 *    channel takes it over (`bindRestoredOffer`), and the device claims it,
 *    open or closed (`claimRestoredChannel`).
 * 3. `finishRestore` rescinds what nobody claimed (a matched but unclaimed
 *    channel is offered again once the guest releases it), sends the offers
 *    made meanwhile, restarts saved GPADL teardowns and hvsocket requests, and
 *    completes a disconnect that was only waiting for the old host.
 */
import { ALL_FEATURE_FLAGS, FEATURE_FLAG, VMBUS_VERSION, channelConnectionId, isKnownVersion } from '../../wire/messages/index.js';
import { NTSTATUS } from '../../wire/ntstatus.js';
import { MemoryError } from '../../memory/index.js';
import { isRevoked, type ChannelRecord, type ChannelState } from './channel.js';
import { MAX_CHANNEL_ID, MAX_MONITOR_ID, type ConnectionInfo, type RestoreSession, type ServerCore } from './core.js';
import { checkDisconnected } from './disconnect.js';
import { startTeardown } from './gpadls.js';
import type { OfferId, OpenChannelAction } from './notifier.js';
import { sameOfferKey, type Offer } from './offer-params.js';
import { sendWaitingOffers } from './offers.js';
import { openAction, ringProblem } from './open-close.js';
import { requestError, type ServerRequestError } from './request-error.js';
import { revoke } from './rescind-unload.js';
import { SavedStateError, savedStateError } from './saved-state-error.js';
import type { OfferKey, SavedChannel, SavedConnection, ServerSavedState } from './saved-state.js';

/** A restored channel an offer has matched, as its device needs it to claim the channel. */
export interface RestoredChannel {
  readonly key: OfferKey;
  readonly channelId: number;
  readonly monitorId: number | null;
  /** What the guest believes: the channel is closed, being opened, or open. */
  readonly state: 'closed' | 'opening' | 'open';
  /** The open as the device saw it (the `open` action's fields), for an opening or open channel. */
  readonly open: OpenChannelAction | null;
  /** The created GPADLs of the channel, ring included, lowest id first: the device maps what it used again. */
  readonly gpadlIds: readonly number[];
}

/** Rebuilds `core`, a fresh server, from `state`; on any problem returns it and the server must be dropped. */
export function restoreServer(core: ServerCore, state: ServerSavedState): SavedStateError | undefined {
  const { config } = core;
  if (state.vtl !== config.vtl || state.messageConnectionId !== config.messageConnectionId) {
    return savedStateError(
      'incompatible',
      `saved by a server of VTL ${state.vtl} on message connection ${state.messageConnectionId}, ` +
        `this one serves VTL ${config.vtl} on ${config.messageConnectionId}`,
    );
  }
  const info = restoreConnection(core, state);
  if (info instanceof SavedStateError) return info;
  const session: RestoreSession = { unmatched: new Set(), unclaimed: new Set(), teardowns: [] };
  for (const saved of state.channels) {
    const offerId = restoreChannel(core, info, saved);
    if (offerId instanceof SavedStateError) return offerId;
    session.unmatched.add(offerId);
  }
  for (const saved of state.gpadls) {
    const { gpadlId, channelId } = saved;
    if (core.gpadls.has(gpadlId)) return savedStateError('duplicate-id', `two GPADLs have id ${gpadlId}`);
    const offerId = core.channelIds.ownerOf(channelId);
    if (offerId === undefined) {
      return savedStateError('unknown-channel', `GPADL ${gpadlId} is on channel ${channelId}, which the state does not hold`);
    }
    if (saved.state.kind === 'in-progress') {
      const { count, capacity, values } = saved.state;
      if (values.length >= capacity) {
        return savedStateError('bad-gpadl', `GPADL ${gpadlId} in progress already holds ${values.length} of ${capacity} values`);
      }
      core.gpadls.set(gpadlId, { gpadlId, offerId, channelId, state: { kind: 'in-progress', count, capacity, values: [...values] } });
      continue;
    }
    const { ranges } = saved.state;
    const created = core.table.create(gpadlId, { channelId, ranges });
    if (created instanceof MemoryError) return savedStateError('bad-gpadl', `GPADL ${gpadlId}: ${created.message}`);
    core.gpadls.set(gpadlId, { gpadlId, offerId, channelId, state: { kind: 'created', ranges } });
    if (saved.state.kind === 'tearing-down') session.teardowns.push(gpadlId);
  }
  for (const channel of core.channels.values()) {
    const { state: channelState, ids } = channel;
    if (channelState.kind !== 'opening' && channelState.kind !== 'open') continue;
    const problem = ringProblem(core, channel, channelState.request);
    if (problem !== null) return savedStateError('missing-ring-gpadl', `channel ${ids?.channelId ?? 0} is ${channelState.kind}: ${problem}`);
  }
  if (state.hvsockRequests.length > 0 && info === null) return savedStateError('inconsistent', 'hvsocket requests without a connection');
  core.hvsockRequests.push(...state.hvsockRequests);
  core.restoring = session;
  return undefined;
}

/**
 * Called by `offerChannel` for an existing record with the offer's key: a
 * restored channel no offer has matched yet takes the new offer's fields and
 * waits for its claim (a revoked one is offered again, as any revoked channel
 * is). False when the record is not such a channel.
 */
export function bindRestoredOffer(core: ServerCore, channel: ChannelRecord, offer: Offer): boolean {
  const session = core.restoring;
  if (session === null || !session.unmatched.delete(channel.offerId)) return false;
  if (channel.state.kind === 'revoked') return false;
  channel.offer = offer;
  session.unclaimed.add(channel.offerId);
  return true;
}

/** The restored channel `offerId` took over, while it waits for its claim. */
export function restoredChannel(core: ServerCore, offerId: OfferId): RestoredChannel | undefined {
  const channel = core.channels.get(offerId);
  const info = core.connected();
  if (core.restoring?.unclaimed.has(offerId) !== true || channel === undefined || channel.ids === null || info === undefined) return undefined;
  const { state, ids, offer } = channel;
  if (state.kind !== 'closed' && state.kind !== 'opening' && state.kind !== 'open') return undefined;
  const gpadlIds = [...core.gpadls.values()]
    .filter((record) => record.offerId === offerId && record.state.kind === 'created')
    .map((record) => record.gpadlId)
    .sort((a, b) => a - b);
  return {
    key: { interfaceId: offer.interfaceId, instanceId: offer.instanceId, subchannelIndex: offer.subchannelIndex },
    channelId: ids.channelId,
    monitorId: ids.monitorId,
    state: state.kind,
    open: state.kind === 'closed' ? null : openAction(channel, info, state.request),
    gpadlIds,
  };
}

/**
 * The device takes a restored channel back: `open` says whether it holds the
 * channel open. An open channel must be claimed open and a closed one closed.
 * A channel saved while its device was opening it is claimed closed (the new
 * device is asked to open it again, and the guest gets the OPEN_RESULT of that
 * answer) or open (the device took it as opened: OPEN_RESULT(success) now).
 */
export function claimRestoredChannel(core: ServerCore, offerId: OfferId, open: boolean): ServerRequestError | undefined {
  const channel = core.channels.get(offerId);
  const info = core.connected();
  if (channel === undefined) return requestError('unknown-offer', `no offer ${offerId}`);
  if (core.restoring?.unclaimed.has(offerId) !== true || info === undefined || channel.ids === null) {
    return requestError('invalid-state', `offer ${offerId} has no restored channel waiting for a claim`);
  }
  const { state, ids } = channel;
  switch (state.kind) {
    case 'closed':
    case 'open':
      if (open !== (state.kind === 'open')) {
        return requestError('invalid-state', `channel ${ids.channelId} is ${state.kind} for the guest, not ${open ? 'open' : 'closed'}`);
      }
      break;
    case 'opening':
      if (open) {
        core.send({ kind: 'OpenResult', channelId: ids.channelId, openId: state.request.openId, status: NTSTATUS.STATUS_SUCCESS });
        channel.state = { kind: 'open', request: state.request };
      } else {
        core.outbox.action(openAction(channel, info, state.request));
      }
      break;
    default:
      return requestError('invalid-state', `channel ${ids.channelId} is ${state.kind}`);
  }
  core.restoring.unclaimed.delete(offerId);
  return undefined;
}

/** Ends the restore (step 3 above). */
export function finishRestore(core: ServerCore): ServerRequestError | undefined {
  const session = core.restoring;
  if (session === null) return requestError('invalid-state', 'the server is not restoring');
  core.restoring = null;
  const leftOver: [ChannelRecord, number][] = [];
  for (const offerId of [...session.unmatched, ...session.unclaimed]) {
    const channel = core.channels.get(offerId);
    if (channel?.ids != null) leftOver.push([channel, channel.ids.channelId]);
  }
  // Subchannels before their primaries, as a rescind of a primary does (PR #3507).
  const primary = (channel: ChannelRecord): number => (channel.offer.subchannelIndex === 0 ? 1 : 0);
  leftOver.sort(([a, aId], [b, bId]) => primary(a) - primary(b) || aId - bId);
  for (const [channel] of leftOver) {
    // A device may have rescinded its channel before claiming it.
    if (isRevoked(channel.state)) continue;
    revoke(core, channel);
    if (session.unclaimed.has(channel.offerId)) channel.state = { kind: 'reoffered' };
  }
  const info = core.connected();
  if (info?.offersSent === true) sendWaitingOffers(core, info);
  for (const gpadlId of session.teardowns) {
    const record = core.gpadls.get(gpadlId);
    if (record?.state.kind === 'created') startTeardown(core, record, record.state.ranges);
  }
  for (const request of core.hvsockRequests) core.outbox.action({ type: 'hvsock-connect', request });
  checkDisconnected(core);
  return undefined;
}

/** The connection: `null` when there is none to hold channels, else its info; or why the state is refused. */
function restoreConnection(core: ServerCore, state: ServerSavedState): ConnectionInfo | null | SavedStateError {
  const connection: SavedConnection = state.connection;
  core.messageVp = connection.messageVp;
  const holdsNothing = state.channels.length === 0 && state.gpadls.length === 0 && state.heldMessages.length === 0;
  switch (connection.kind) {
    case 'disconnected':
      if (!holdsNothing) return savedStateError('inconsistent', 'channels, GPADLs or held messages without a connection');
      return null;
    case 'disconnecting':
      // The guest holds nothing while disconnecting; released GPADLs still mapped by the old host are not saved.
      if (!holdsNothing) return savedStateError('inconsistent', 'channels, GPADLs or held messages while disconnecting');
      if (connection.next.kind === 'unload-complete' && !isKnownVersion(connection.next.version)) {
        return savedStateError('bad-value', `unload of unknown version 0x${connection.next.version.toString(16)}`);
      }
      core.connection = { kind: 'disconnecting', next: connection.next };
      return null;
    case 'connected':
      break;
  }
  const { params, offersSent, paused } = connection;
  const { version, features, monitorPages } = params;
  // Any version this code speaks, even above `maxVersion`: a guest keeps what it negotiated across a servicing (#3715).
  if (!isKnownVersion(version)) return savedStateError('bad-value', `protocol version 0x${version.toString(16)} is unknown`);
  if ((features & ~ALL_FEATURE_FLAGS) !== 0 || (version < VMBUS_VERSION.Copper && features !== 0)) {
    return savedStateError('bad-value', `feature flags 0x${features.toString(16)} at version 0x${version.toString(16)}`);
  }
  if (monitorPages !== null && (monitorPages.parentToChild === 0n || monitorPages.childToParent === 0n)) {
    return savedStateError('bad-value', 'a monitor page GPA is zero');
  }
  const serverPages = core.config.serverMonitorPages;
  if (
    params.serverMonitorPages &&
    (serverPages === null || serverPages.parentToChild !== monitorPages?.parentToChild || serverPages.childToParent !== monitorPages.childToParent)
  ) {
    return savedStateError('incompatible', "the connection uses the old server's monitor pages, which this server does not provide");
  }
  if (!offersSent && state.channels.length > 0) return savedStateError('inconsistent', 'channels offered before REQUEST_OFFERS');
  if (!paused && state.heldMessages.length > 0) return savedStateError('inconsistent', 'held messages without a PAUSE');
  const info: ConnectionInfo = { ...params, offersSent };
  core.connection = { kind: 'connected', info };
  if (paused) core.outbox.pauseHolding(state.heldMessages, core.target());
  return info;
}

/** One saved channel, under the ids the guest knows; returns its new offer id. */
function restoreChannel(core: ServerCore, info: ConnectionInfo | null, saved: SavedChannel): OfferId | SavedStateError {
  const { offer, ids, state } = saved;
  const { channelId, monitorId } = ids;
  if (info === null) return savedStateError('inconsistent', `channel ${channelId} without a connection`);
  if (!Number.isInteger(channelId) || channelId < 1 || channelId > MAX_CHANNEL_ID) {
    return savedStateError('id-out-of-range', `channel id ${channelId} is outside 1..${MAX_CHANNEL_ID}`);
  }
  if (monitorId !== null && monitorId > MAX_MONITOR_ID) {
    return savedStateError('id-out-of-range', `monitor id ${monitorId} of channel ${channelId} is outside 0..${MAX_MONITOR_ID}`);
  }
  if (ids.connectionId !== channelConnectionId(channelId, core.config.vtl)) {
    return savedStateError('inconsistent', `channel ${channelId} has connection id 0x${ids.connectionId.toString(16)}, not its own`);
  }
  for (const other of core.channels.values()) {
    if (sameOfferKey(other.offer, offer)) {
      return savedStateError('duplicate-id', `two channels have offer key ${offer.interfaceId}/${offer.instanceId}/${offer.subchannelIndex}`);
    }
  }
  if (state.kind === 'opening' || state.kind === 'open') {
    const { request } = state;
    if (request.guestSignal !== null && (info.features & FEATURE_FLAG.GUEST_SPECIFIED_SIGNAL_PARAMETERS) === 0) {
      return savedStateError('inconsistent', `channel ${channelId} has guest-chosen signal parameters the connection did not negotiate`);
    }
    if (request.redirectInterrupt && (info.features & FEATURE_FLAG.CHANNEL_INTERRUPT_REDIRECTION) === 0) {
      return savedStateError('inconsistent', `channel ${channelId} redirects interrupts the connection did not negotiate`);
    }
  }
  const offerId = core.nextOfferId++;
  if (!core.channelIds.take(channelId, offerId)) return savedStateError('duplicate-id', `two channels have id ${channelId}`);
  if (monitorId !== null && !core.monitorIds.take(monitorId, offerId)) {
    return savedStateError('duplicate-id', `two channels have monitor id ${monitorId}`);
  }
  const restored: ChannelState =
    state.kind === 'opening' || state.kind === 'open' ? { kind: state.kind, request: state.request } : { kind: state.kind };
  core.channels.set(offerId, { offerId, offer, state: restored, ids: { ...ids } });
  return offerId;
}
