/**
 * Taking channels away: a local rescind, the guest's REL_ID_RELEASED, and the
 * release of everything on UNLOAD or a new INITIATE_CONTACT
 * (channels.rs:2576-2697, 3234-3390, 3845-3908).
 *
 * A rescinded channel keeps its id until the guest sends REL_ID_RELEASED, so
 * the guest never sees an id reused under it (#977). Its GPADLs stay usable
 * until then: ones in progress may still complete (PR #3959), and teardowns
 * already waiting for an unmap still end in GPADL_TORNDOWN.
 */
import type { MessageOfKind } from '../../wire/messages/index.js';
import type { ChannelRecord } from './channel.js';
import type { ConnectionInfo, NextAction, ServerCore } from './core.js';
import { checkDisconnected } from './disconnect.js';
import { releaseChannelGpadls } from './gpadls.js';
import type { OfferId } from './notifier.js';
import { releaseIds, sendOffer } from './offers.js';
import { requestError, type ServerRequestError } from './request-error.js';

/**
 * Rescinds an offer. Rescinding a primary channel first rescinds its
 * subchannels (same interface and instance, index > 0), lowest index first,
 * as OpenVMM's device layer does (PR #3507). The caller asked for it, so no
 * `close` action follows for an open channel: the caller stops its device.
 */
export function rescindChannel(core: ServerCore, offerId: OfferId): ServerRequestError | undefined {
  const channel = core.channels.get(offerId);
  if (channel === undefined) return requestError('unknown-offer', `no offer ${offerId}`);
  if (channel.state.kind === 'revoked') return requestError('invalid-state', `offer ${offerId} is already rescinded`);
  if (channel.offer.subchannelIndex === 0) {
    const subchannels = [...core.channels.values()]
      .filter(
        (c) =>
          c.offer.subchannelIndex > 0 &&
          c.offer.interfaceId === channel.offer.interfaceId &&
          c.offer.instanceId === channel.offer.instanceId &&
          c.state.kind !== 'revoked',
      )
      .sort((a, b) => a.offer.subchannelIndex - b.offer.subchannelIndex);
    for (const subchannel of subchannels) revoke(core, subchannel);
  }
  revoke(core, channel);
  return undefined;
}

/** REL_ID_RELEASED: the guest is done with a closed or rescinded channel. */
export function handleRelIdReleased(core: ServerCore, info: ConnectionInfo, msg: MessageOfKind<'RelIdReleased'>): void {
  const { channelId } = msg;
  const channel = core.visibleChannel(channelId);
  if (typeof channel === 'string') return core.dropped(msg.kind, channel, { channelId });
  switch (channel.state.kind) {
    case 'closed':
    case 'revoked':
    case 'reoffered':
      clientRelease(core, channel, info);
      checkDisconnected(core);
      return;
    case 'opening':
    case 'open':
      return core.dropped(msg.kind, `channel ${channelId} is ${channel.state.kind}; close it first`, { channelId });
    case 'client-released':
    case 'opening-released':
      return core.dropped(msg.kind, `channel ${channelId} is released`, { channelId });
  }
}

/** UNLOAD: release everything, then UNLOAD_COMPLETE once nothing is held any more. */
export function handleUnload(core: ServerCore, info: ConnectionInfo): void {
  requestDisconnect(core, { kind: 'unload-complete', version: info.version });
}

/**
 * Releases every channel for the guest and waits, in `disconnecting`, until
 * devices and mappings have let go; then `next` runs. Called while connected
 * or already disconnecting (then `next` replaces the one waiting, as OpenVMM does).
 */
export function requestDisconnect(core: ServerCore, next: NextAction): void {
  for (const channel of [...core.channels.values()]) clientRelease(core, channel, null);
  // hvsocket requests belong to the connection; answers that come later find nothing.
  core.hvsockRequests.length = 0;
  if (core.connection.kind === 'disconnecting') core.connection.next = next;
  else core.connection = { kind: 'disconnecting', next };
  checkDisconnected(core);
}

/**
 * Drops every reference the guest holds to a channel: its id and its GPADLs
 * (channels.rs:3234-3330). An open channel is closed first, so its device
 * hears `close` before being asked to unmap; an opening one is closed when the
 * device answers. A re-offered channel released by a connected guest is
 * offered again under the same id.
 */
function clientRelease(core: ServerCore, channel: ChannelRecord, info: ConnectionInfo | null): void {
  const state = channel.state;
  let reoffer = false;
  switch (state.kind) {
    case 'closed':
    case 'revoked':
      channel.state = { kind: 'client-released' };
      break;
    case 'reoffered':
      reoffer = info !== null;
      channel.state = reoffer ? { kind: 'closed' } : { kind: 'client-released' };
      break;
    case 'opening':
      if (channel.ids !== null) channel.state = { kind: 'opening-released', channelId: channel.ids.channelId, rescinded: false };
      break;
    case 'open':
      channel.state = { kind: 'client-released' };
      if (channel.ids !== null) core.outbox.action({ type: 'close', offerId: channel.offerId, channelId: channel.ids.channelId });
      break;
    case 'client-released':
    case 'opening-released':
      break;
  }
  releaseChannelGpadls(core, channel);
  if (reoffer && info !== null) {
    sendOffer(core, channel, info);
    return;
  }
  releaseIds(core, channel);
  // A rescinded channel ends here; its offer is gone.
  if (state.kind === 'revoked') core.channels.delete(channel.offerId);
}

/** Rescinds one channel (channels.rs:3845-3908). */
export function revoke(core: ServerCore, channel: ChannelRecord): void {
  const state = channel.state;
  switch (state.kind) {
    case 'client-released':
      // The guest never saw it, or let go of it: nothing to tell it.
      core.channels.delete(channel.offerId);
      return;
    case 'opening-released':
      channel.state = { ...state, rescinded: true };
      return;
    case 'reoffered':
      // The guest still holds the earlier rescind; the new offer is simply withdrawn.
      channel.state = { kind: 'revoked' };
      return;
    case 'closed':
    case 'opening':
    case 'open': {
      channel.state = { kind: 'revoked' };
      const ids = channel.ids;
      if (ids !== null) core.send({ kind: 'RescindChannelOffer', channelId: ids.channelId });
      return;
    }
    case 'revoked':
      return;
  }
}
