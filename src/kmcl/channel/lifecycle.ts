/**
 * A client channel's lifetime: VmbChannelEnable (find the offer, open it with
 * rings of the configured size, EvtChannelOpened, then start), the close that
 * VmbChannelDisable or the peer's rescind sets off (EvtChannelSuspend, wait for
 * the driver's outstanding packets, CLOSE_CHANNEL, EvtChannelClosed), and
 * VmbChannelCleanup. Callback order: Opened, Started, PostStarted; Suspend; Closed.
 * A server channel's Enable (offer) and Disable (rescind) are in
 * src/kmcl/server/server-lifecycle.ts.
 */
import { NTSTATUS, ntSuccess, type NtStatus } from '../../wire/ntstatus.js';
import { busFailureStatus, type OpenChannelOptions } from '../bus-port.js';
import { reportDriverFault } from '../driver-fault.js';
import { channelFrom, channelsInStorage } from '../handles.js';
import type { VMBCHANNEL } from '../types.js';
import { releaseQuietly } from '../device-object.js';
import { BounceBufferPool } from '../bounce-buffer.js';
import type { KmclChannel } from './channel.js';
import { callOpened, callStateCallback } from './state-callbacks.js';
import { offerBound, offerMatchOf, releaseOffer, waitForOffer, type OfferMatch } from './offer-binding.js';
import { startChannel, suspendChannel } from './pause-start.js';
import { disableServerChannel, enableServerChannel } from '../server/server-lifecycle.js';

/**
 * VmbChannelEnable: starts connecting a disabled channel and returns at once
 * (the header: Enable does not wait for the open). EvtChannelOpened follows
 * when the channel opens; if the open fails after the offer was found, the
 * PnP-failure callback of VmbClientChannelInitSetTargetPnp gets the status.
 * Decision: a channel with no target (no TargetPnp, no primary channel, and
 * allocated on the VMBus device rather than an offer's device object) gets
 * STATUS_INVALID_DEVICE_STATE. A server channel is offered instead
 * (enableServerChannel).
 */
export function VmbChannelEnable(Channel: VMBCHANNEL): NtStatus {
  const channel = channelFrom(Channel);
  if (channel === null || !channel.configurable) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (channel.isServer) return enableServerChannel(channel);
  const match = offerMatchOf(channel);
  if (match === null) return NTSTATUS.STATUS_INVALID_DEVICE_STATE;
  channel.lifecycle = 'enabled';
  channel.peerGone = false;
  channel.offerRescinded = false;
  channel.faultDetail = null;
  const abort = new AbortController();
  channel.enableAbort = abort;
  void channel.transition(() => openChannel(channel, match, abort.signal));
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbChannelDisable: closes the channel and resolves once it is torn down.
 * Outgoing transactions end at once with STATUS_CANCELLED (a synchronous
 * request reports STATUS_DEVICE_REMOVED). Decision: C's VOID becomes an
 * NTSTATUS: STATUS_INVALID_PARAMETER_1 for a bad handle, else STATUS_SUCCESS
 * (also for a channel that is already disabled). A server channel's offer is
 * rescinded instead (disableServerChannel).
 */
export function VmbChannelDisable(Channel: VMBCHANNEL): Promise<NtStatus> {
  const channel = channelFrom(Channel);
  if (channel === null) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_1);
  if (channel.lifecycle === 'disabled' && !channel.transitioning) return Promise.resolve(NTSTATUS.STATUS_SUCCESS);
  if (channel.isServer) return disableServerChannel(channel);
  channel.enableAbort?.abort();
  if (channel.lifecycle !== 'disabled') {
    channel.lifecycle = 'closing';
    channel.sends.sendsEnabled = false;
    channel.sends.cancelAll(NTSTATUS.STATUS_CANCELLED);
  }
  return channel.transition(() => closeChannel(channel, NTSTATUS.STATUS_CANCELLED)).then(() => NTSTATUS.STATUS_SUCCESS);
}

/**
 * VmbChannelCleanup: disposes of a disabled channel. Packets still queued
 * (sent while the channel was not open) complete with STATUS_CANCELLED;
 * every packet handle of the channel becomes invalid, then the channel's.
 * Decision: C's VOID becomes an NTSTATUS; a channel that is not disabled
 * (or still changing state) is STATUS_INVALID_PARAMETER_1 and stays as is.
 */
export function VmbChannelCleanup(Channel: VMBCHANNEL): NtStatus {
  const channel = channelFrom(Channel);
  if (channel === null || !channel.configurable) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  channel.sends.cancelAll(NTSTATUS.STATUS_CANCELLED);
  channel.pool.dispose();
  channel.live = false;
  if (channel.storage !== null) channelsInStorage.delete(channel.storage);
  return NTSTATUS.STATUS_SUCCESS;
}

function openOptions(channel: KmclChannel): OpenChannelOptions {
  const config = channel.config;
  const needed = config.ringPagesNeeded();
  const options: OpenChannelOptions = {
    incomingRingPages: Math.max(config.incomingRingPages, needed),
    outgoingRingPages: Math.max(config.outgoingRingPages, needed),
  };
  if (config.targetProcessorIndex !== undefined) options.targetVp = config.targetProcessorIndex;
  return options;
}

async function openChannel(channel: KmclChannel, match: OfferMatch, signal: AbortSignal): Promise<void> {
  const device = channel.guestDevice;
  const bus = device.context.bus;
  let offer;
  try {
    offer = await waitForOffer(channel, match, signal);
  } catch {
    return; // Disabled before an offer came.
  }
  channel.offer = offer;
  channel.targetDevice = device.childForChannel(offer.channelId) ?? null;
  offerBound(channel);
  channel.unwatchRescind = bus.onRescind(offer.channelId, () => rescinded(channel));
  if (channel.lifecycle !== 'enabled') return;
  let endpoint;
  try {
    endpoint = await bus.openChannel(offer.channelId, openOptions(channel));
  } catch (error) {
    unbind(channel);
    channel.lifecycle = 'disabled';
    pnpFailure(channel, busFailureStatus(error, NTSTATUS.STATUS_UNSUCCESSFUL));
    return;
  }
  channel.endpoint = endpoint;
  // Closing already (Disable, rescind): the close queued behind this step closes the endpoint.
  if (channel.lifecycle !== 'enabled') return;
  channel.attachDataPlane(endpoint);
  if (channel.config.bounceBuffers !== null) {
    const pool = BounceBufferPool.reserve(device.context, channel.config.bounceBuffers);
    if (typeof pool === 'number') {
      await rollBack(channel);
      pnpFailure(channel, pool);
      return;
    }
    channel.bounceBuffers = pool;
  }
  channel.lifecycle = 'opened';
  channel.inOpenWindow = true;
  const status = await callOpened(channel);
  if (!ntSuccess(status)) {
    // The driver refused: back to a state where no traffic flows, without Closed (it never opened).
    await rollBack(channel);
    return;
  }
  channel.openedCompleted = true;
  if (channel.lifecycle !== 'opened' || channel.peerGone) return;
  if (channel.autoPause) {
    channel.autoPause = false;
    return;
  }
  await startChannel(channel);
}

/** Undoes an open the driver or the reservation refused: the endpoint closes, the channel is disabled. */
async function rollBack(channel: KmclChannel): Promise<void> {
  channel.stopDataPlane();
  channel.sends.cancelAll(NTSTATUS.STATUS_CANCELLED);
  const endpoint = channel.endpoint;
  channel.endpoint = null;
  if (endpoint !== null) await endpoint.close().catch(() => undefined);
  channel.inOpenWindow = false;
  releaseBounceBuffers(channel);
  unbind(channel);
  channel.lifecycle = 'disabled';
}

/** The host rescinded the bound offer: everything outgoing ends with STATUS_DEVICE_REMOVED, then the channel closes. */
function rescinded(channel: KmclChannel): void {
  channel.offerRescinded = true;
  channel.enableAbort?.abort();
  if (channel.lifecycle === 'disabled') return;
  channel.lifecycle = 'closing';
  channel.peerWentAway(NTSTATUS.STATUS_DEVICE_REMOVED);
}

/** Queues the close after the peer went away (rescind or a broken ring). */
export function closeAfterPeerLoss(channel: KmclChannel): void {
  channel.lifecycle = 'closing';
  void channel.transition(() => closeChannel(channel, NTSTATUS.STATUS_DEVICE_REMOVED));
}

/**
 * Closes an enabled or open channel: Suspend (if started) and the wait for
 * outstanding incoming packets, CLOSE_CHANNEL, Closed (if Opened succeeded),
 * then what the driver left behind (GPADLs, bounce buffers) and the offer.
 */
async function closeChannel(channel: KmclChannel, status: NtStatus): Promise<void> {
  if (channel.lifecycle === 'disabled') return;
  channel.lifecycle = 'closing';
  if (channel.started) await suspendChannel(channel);
  channel.sends.cancelAll(channel.peerGone ? NTSTATUS.STATUS_DEVICE_REMOVED : status);
  channel.stopDataPlane();
  const endpoint = channel.endpoint;
  channel.endpoint = null;
  if (endpoint !== null) await endpoint.close().catch(() => undefined);
  if (channel.openedCompleted) {
    channel.openedCompleted = false;
    await callStateCallback(channel, 'EvtChannelClosed');
  }
  channel.inOpenWindow = false;
  await teardownLeftoverGpadls(channel);
  releaseBounceBuffers(channel);
  unbind(channel);
  channel.peerGone = false;
  channel.lifecycle = 'disabled';
}

/** The driver should delete its GPADLs in EvtChannelClosed; whatever it left is torn down here. */
async function teardownLeftoverGpadls(channel: KmclChannel): Promise<void> {
  const offer = channel.offer;
  if (offer === null) return;
  for (const gpadlId of [...channel.gpadls]) {
    channel.gpadls.delete(gpadlId);
    await channel.guestDevice.context.bus.teardownGpadl(offer.channelId, gpadlId).catch(() => undefined);
  }
}

function releaseBounceBuffers(channel: KmclChannel): void {
  channel.bounceBuffers?.releaseAll();
  channel.bounceBuffers = null;
}

/** Forgets the bound offer; after a rescind, tells the bus the channel id may be reused. */
function unbind(channel: KmclChannel): void {
  channel.unwatchRescind?.();
  channel.unwatchRescind = null;
  const offer = channel.offer;
  if (offer === null) return;
  releaseOffer(channel, offer);
  if (channel.offerRescinded) releaseQuietly(channel.guestDevice.context.bus, offer.channelId);
  channel.offer = null;
  channel.targetDevice = null;
}

function pnpFailure(channel: KmclChannel, status: NtStatus): void {
  const callback = channel.config.target?.pnpFailure ?? null;
  if (callback === null) return;
  try {
    callback(channel.handle, status);
  } catch (error) {
    reportDriverFault(error);
  }
}
