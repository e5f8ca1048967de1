/**
 * Offers: local offer requests, REQUEST_OFFERS, and the OFFER_CHANNEL message.
 *
 * Channel ids are assigned when an offer is sent, lowest free first; at
 * REQUEST_OFFERS the waiting offers are sorted by (interface, order, instance)
 * first, so a guest sees the same ids for the same devices after hibernation
 * (channels.rs:2700-2760, issue #2018). Offers made later go out at once.
 */
import { FEATURE_FLAG, OFFER_FLAG, channelConnectionId } from '../../wire/messages/index.js';
import type { ChannelRecord } from './channel.js';
import { MAX_CHANNEL_ID, type ConnectionInfo, type ServerCore } from './core.js';
import type { OfferId } from './notifier.js';
import { normalizeOffer, sameOfferKey, type OfferParams } from './offer-params.js';
import { ServerRequestError, requestError } from './request-error.js';
import { bindRestoredOffer } from './restore.js';

/** OfferChannel `monitor_id` of a channel without one (openvmm-vmbus.md §6.6). */
export const NO_MONITOR_ID = 0xff;

/**
 * Adds an offer. An offer with the key of a rescinded channel the guest has
 * not released yet replaces it and is sent once the guest releases the old one
 * (channels.rs:1809-1855).
 */
export function offerChannel(core: ServerCore, params: OfferParams): OfferId | ServerRequestError {
  const offer = normalizeOffer(params);
  if (offer instanceof ServerRequestError) return offer;
  for (const channel of core.channels.values()) {
    if (!sameOfferKey(channel.offer, offer)) continue;
    if (bindRestoredOffer(core, channel, offer)) return channel.offerId;
    if (channel.state.kind !== 'revoked') {
      return requestError('duplicate-offer', `offer ${offer.interfaceId}/${offer.instanceId}/${offer.subchannelIndex} exists`);
    }
    channel.offer = offer;
    channel.state = { kind: 'reoffered' };
    return channel.offerId;
  }
  // Every record may come to need a channel id, so records are bounded by ids.
  if (core.channels.size >= MAX_CHANNEL_ID) return requestError('too-many-channels', `${MAX_CHANNEL_ID} channels are offered`);
  const channel: ChannelRecord = { offerId: core.nextOfferId++, offer, state: { kind: 'client-released' }, ids: null };
  core.channels.set(channel.offerId, channel);
  const info = core.connected();
  // While restoring, new offers wait for the end of the restore, after the rescinds of the channels nobody claimed (#1681).
  if (info?.offersSent === true && core.restoring === null) {
    assignIds(core, channel);
    channel.state = { kind: 'closed' };
    sendOffer(core, channel, info);
  }
  return channel.offerId;
}

/** REQUEST_OFFERS: every waiting offer in a stable order, then ALL_OFFERS_DELIVERED. */
export function handleRequestOffers(core: ServerCore, info: ConnectionInfo): void {
  if (info.offersSent) {
    core.dropped('RequestOffers', 'offers were already sent on this connection');
    return;
  }
  info.offersSent = true;
  sendWaitingOffers(core, info);
  core.send({ kind: 'AllOffersDelivered' });
}

/** Gives ids to every offer the guest does not know yet, in a stable order, and sends them. */
export function sendWaitingOffers(core: ServerCore, info: ConnectionInfo): void {
  const waiting = [...core.channels.values()].filter((c) => c.state.kind === 'client-released');
  // Canonical GUID strings compare like OpenVMM's Guid ordering (Data1, Data2, Data3, then Data4 bytes).
  // Subchannel index and offer id only break ties, where OpenVMM's unstable sort leaves the order open.
  waiting.sort(
    (a, b) =>
      compare(a.offer.interfaceId, b.offer.interfaceId) ||
      compare(a.offer.order, b.offer.order) ||
      compare(a.offer.instanceId, b.offer.instanceId) ||
      a.offer.subchannelIndex - b.offer.subchannelIndex ||
      a.offerId - b.offerId,
  );
  for (const channel of waiting) {
    assignIds(core, channel);
    channel.state = { kind: 'closed' };
    sendOffer(core, channel, info);
  }
}

/**
 * Sends OFFER_CHANNEL with the values of channels.rs:3983-4020: offer flags the
 * connection did not negotiate are cleared, the monitor id is sent only when
 * the connection has monitor pages, and every channel is dedicated.
 */
export function sendOffer(core: ServerCore, channel: ChannelRecord, info: ConnectionInfo): void {
  const ids = channel.ids;
  // Offers are only sent for channels that hold ids; a missing one is a server bug.
  if (ids === null) throw new Error(`offer ${channel.offerId} has no channel id`);
  let flags = channel.offer.flags;
  if ((info.features & FEATURE_FLAG.CONFIDENTIAL_CHANNELS) === 0) {
    flags &= ~(OFFER_FLAG.CONFIDENTIAL_RING_BUFFER | OFFER_FLAG.CONFIDENTIAL_EXTERNAL_MEMORY);
  }
  if ((info.features & FEATURE_FLAG.GPA_PINNING) === 0) flags &= ~OFFER_FLAG.REQUIRE_PINNED_EXTERNAL_MEMORY;
  const monitorId = info.monitorPages === null ? null : ids.monitorId;
  core.send({
    kind: 'OfferChannel',
    interfaceId: channel.offer.interfaceId,
    instanceId: channel.offer.instanceId,
    flags,
    mmioMegabytes: channel.offer.mmioMegabytes,
    userDefined: channel.offer.userDefined.slice(),
    subchannelIndex: channel.offer.subchannelIndex,
    mmioMegabytesOptional: channel.offer.mmioMegabytesOptional,
    channelId: ids.channelId,
    monitorId: monitorId ?? NO_MONITOR_ID,
    monitorAllocated: monitorId === null ? 0 : 1,
    isDedicated: 1,
    connectionId: ids.connectionId,
  });
}

/** Gives a channel its channel id, event connection id and, if it asked for MNF, a monitor id. */
export function assignIds(core: ServerCore, channel: ChannelRecord): void {
  const channelId = core.channelIds.allocate(channel.offerId);
  // offerChannel keeps records ≤ ids, so an id is always free here.
  if (channelId === undefined) throw new Error('no free channel id');
  const monitorId = channel.offer.monitored ? (core.monitorIds.allocate(channel.offerId) ?? null) : null;
  channel.ids = { channelId, connectionId: channelConnectionId(channelId, core.config.vtl), monitorId };
}

/** Frees a channel's ids: the guest no longer refers to it. */
export function releaseIds(core: ServerCore, channel: ChannelRecord): void {
  if (channel.ids === null) return;
  core.channelIds.free(channel.ids.channelId, channel.offerId);
  if (channel.ids.monitorId !== null) core.monitorIds.free(channel.ids.monitorId, channel.offerId);
  channel.ids = null;
}

function compare(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
