/**
 * A server channel's lifetime. VmbChannelEnable offers it on its guest's bus
 * and returns at once. The guest's open raises EvtChannelOpened; once it
 * succeeded the guest gets OPEN_RESULT and, if the channel is not paused
 * (the host starts channels manually, VmbChannelStart), Started and
 * PostStarted follow. The guest's close raises Suspend (if started) and
 * Closed, and the channel is offered again: the guest may open it anew.
 * VmbChannelDisable closes an open channel the same way, rescinds the offer
 * and waits for the guest to release it, at most the host device's release
 * timeout (it then returns STATUS_IO_TIMEOUT and says why in the channel's
 * fault detail: the host side is torn down, the guest still holds the id).
 *
 * When the guest goes away (close, unload, rescind), the data plane stops
 * before the bus is told the device closed: the bus unmaps the rings next.
 * Outgoing transactions then end with STATUS_CANCELLED (the Suspend page: the
 * server retires them, the guest may never complete them).
 *
 * Servicing: on a bus being restored, Enable of a channel restored from its
 * saved chunks takes back the channel the guest kept open (guestKeptOpen).
 */
import { NTSTATUS, ntSuccess, type NtStatus } from '../../wire/ntstatus.js';
import { busFailureStatus } from '../bus-port.js';
import type { KmclChannel } from '../channel/channel.js';
import { startIfActive, suspendChannel } from '../channel/pause-start.js';
import { callOpened, callStateCallback } from '../channel/state-callbacks.js';
import type { HostChannelHandlers, HostOpenRequest, HostRestoreRequest } from './host-bus-port.js';
import { unmapLeftoverGpadls } from './gpadl-map.js';
import type { ServerChannel } from './server-channel.js';
import { VMBUS_SERVER_CHANNEL_INIT_FLAG_FORCE_NEW_CHANNEL } from './server-flags.js';
import { planOffer } from './server-offer.js';

/**
 * VmbChannelEnable for a server channel: offers it (see planOffer for the
 * statuses of settings that cannot be offered; a bus that refuses the offer
 * gives its own status). The MMIO space is reserved here: the required
 * megabytes and the optional ones when the window has room for both;
 * STATUS_INSUFFICIENT_RESOURCES when not even the required ones fit.
 */
export function enableServerChannel(channel: KmclChannel): NtStatus {
  const server = channel.server;
  if (server === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  const plan = planOffer(channel, server);
  if (typeof plan === 'number') return plan;
  const { device, options, primary } = plan;
  const required = options.mmioMegabytes ?? 0;
  const mmio = device.reserveMmio(required + (options.mmioMegabytesOptional ?? 0)) ?? device.reserveMmio(required);
  if (mmio === null && required > 0) return NTSTATUS.STATUS_INSUFFICIENT_RESOURCES;
  // Enabled before the offer is made: a restoring bus hands a kept-open channel back from inside offerChannel.
  server.device = device;
  server.mmio = mmio;
  server.subchannelIndex = options.subchannelIndex ?? 0;
  server.releaseTimedOut = false;
  channel.peerGone = false;
  channel.faultDetail = null;
  channel.lifecycle = 'enabled';
  try {
    server.offer = device.bus.offerChannel(options, handlersOf(channel, server));
  } catch (error) {
    if (mmio !== null) device.releaseMmio(mmio);
    server.mmio = null;
    server.subchannelIndex = 0;
    channel.stopDataPlane();
    channel.lifecycle = 'disabled';
    return busFailureStatus(error, NTSTATUS.STATUS_UNSUCCESSFUL);
  } finally {
    // A restored channel is taken back by this offer or not at all.
    server.restored = null;
  }
  server.primary = primary;
  primary?.subchannels.add(channel);
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbChannelDisable for a server channel: outgoing transactions end at once
 * with STATUS_CANCELLED; then (in order) its subchannels are disabled, an
 * open channel is closed (Suspend, Closed), the offer is rescinded and the
 * guest's release awaited. STATUS_SUCCESS, STATUS_IO_TIMEOUT when the guest
 * kept the channel past the release timeout, or the bus's status if it
 * refused the rescind; the channel is disabled in every case.
 */
export function disableServerChannel(channel: KmclChannel): Promise<NtStatus> {
  const server = channel.server;
  if (server === null) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_1);
  if (channel.lifecycle !== 'disabled') {
    channel.lifecycle = 'closing';
    channel.sends.sendsEnabled = false;
    channel.sends.cancelAll(NTSTATUS.STATUS_CANCELLED);
  }
  return answered(channel, () => disable(channel, server));
}

/** Runs `step` on the channel's state-change sequence and resolves with its status once the step is over. */
function answered(channel: KmclChannel, step: () => Promise<NtStatus>): Promise<NtStatus> {
  let status: NtStatus = NTSTATUS.STATUS_SUCCESS;
  return channel
    .transition(async () => {
      status = await step();
    })
    .then(() => status);
}

function handlersOf(channel: KmclChannel, server: ServerChannel): HostChannelHandlers {
  return {
    open: (request) => answered(channel, () => guestOpened(channel, server, request)),
    close: () => guestClosed(channel, server),
    restore: (request) => guestKeptOpen(channel, server, request),
  };
}

/**
 * Servicing: the bus was restored and the guest kept this channel open. A
 * channel restored from the KMCL's saved state of that open channel (same
 * channel id) takes it back, over the same rings: open again, without
 * EvtChannelOpened (the driver restores its own state of the open channel),
 * and paused until VmbChannelStart. Anything else is refused, and the bus
 * rescinds the channel and offers it again once the guest let it go: no
 * saved state, a save of the channel closed or under another id, or
 * VMBUS_SERVER_CHANNEL_INIT_FLAG_FORCE_NEW_CHANNEL (the header: a new
 * channel after a restore, the old instance abandoned).
 */
function guestKeptOpen(channel: KmclChannel, server: ServerChannel, request: HostRestoreRequest): NtStatus {
  const saved = server.restored;
  if (
    channel.lifecycle !== 'enabled' ||
    saved === null ||
    saved.state !== 'open' ||
    saved.channelId !== request.channelId ||
    (server.flags & VMBUS_SERVER_CHANNEL_INIT_FLAG_FORCE_NEW_CHANNEL) !== 0
  ) {
    return NTSTATUS.STATUS_NOT_FOUND;
  }
  server.channelId = request.channelId;
  channel.attachDataPlane(request.endpoint);
  channel.lifecycle = 'opened';
  channel.inOpenWindow = true;
  channel.openedCompleted = true;
  return NTSTATUS.STATUS_SUCCESS;
}

/** The guest opened the channel: attach the rings, EvtChannelOpened, then start unless paused. */
async function guestOpened(channel: KmclChannel, server: ServerChannel, request: HostOpenRequest): Promise<NtStatus> {
  // Being disabled: the offer is about to be rescinded.
  if (channel.lifecycle !== 'enabled') return NTSTATUS.STATUS_DEVICE_NOT_READY;
  channel.peerGone = false;
  channel.faultDetail = null;
  server.channelId = request.channelId;
  channel.attachDataPlane(request.endpoint);
  channel.lifecycle = 'opened';
  channel.inOpenWindow = true;
  const status = await callOpened(channel);
  if (!ntSuccess(status)) {
    // The driver refused: no traffic flows and the guest hears the status; the channel stays offered.
    channel.stopDataPlane();
    channel.sends.cancelAll(NTSTATUS.STATUS_CANCELLED);
    channel.inOpenWindow = false;
    server.channelId = null;
    if (channel.lifecycle === 'opened') channel.lifecycle = 'enabled';
    return status;
  }
  channel.openedCompleted = true;
  // Queued behind this step: the guest gets OPEN_RESULT first, so PostStarted may wait on it.
  void channel.transition(() => startIfActive(channel));
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * The bus says the guest closed the channel (or let go of it, or a rescind
 * closes it). Called synchronously before the bus unmaps the rings, so the
 * data plane stops here; the callbacks follow on the state-change sequence,
 * unless a Disable under way runs them itself.
 */
function guestClosed(channel: KmclChannel, server: ServerChannel): void {
  if (channel.lifecycle === 'disabled') return;
  channel.peerWentAway(NTSTATUS.STATUS_CANCELLED);
  if (channel.lifecycle === 'closing') return;
  void channel.transition(async () => {
    if (channel.lifecycle !== 'opened') return;
    await closeOpenChannel(channel, server);
    if (channel.lifecycle === 'opened') channel.lifecycle = 'enabled';
  });
}

/** Suspend (if started) and the wait for outstanding incoming packets, transactions retired, rings let go, Closed. */
async function closeOpenChannel(channel: KmclChannel, server: ServerChannel): Promise<void> {
  if (channel.started) await suspendChannel(channel);
  channel.sends.cancelAll(NTSTATUS.STATUS_CANCELLED);
  channel.stopDataPlane();
  if (channel.openedCompleted) {
    channel.openedCompleted = false;
    await callStateCallback(channel, 'EvtChannelClosed');
  }
  channel.inOpenWindow = false;
  unmapLeftoverGpadls(server);
  server.channelId = null;
  channel.peerGone = false;
}

async function disable(channel: KmclChannel, server: ServerChannel): Promise<NtStatus> {
  if (channel.lifecycle === 'disabled') return NTSTATUS.STATUS_SUCCESS;
  // The bus rescinds a primary's subchannels first; their devices close first too.
  const subchannels = [...server.subchannels].sort((a, b) => (a.server?.subchannelIndex ?? 0) - (b.server?.subchannelIndex ?? 0));
  for (const subchannel of subchannels) await disableServerChannel(subchannel);
  if (channel.inOpenWindow) await closeOpenChannel(channel, server);
  const status = await rescind(channel, server);
  if (server.mmio !== null) server.device.releaseMmio(server.mmio);
  server.mmio = null;
  server.offer = null;
  server.primary?.subchannels.delete(channel);
  server.primary = null;
  server.subchannelIndex = 0;
  channel.peerGone = false;
  channel.lifecycle = 'disabled';
  return status;
}

/**
 * The release wait is counted in this many ticks, each armed from a
 * microtask after the last one fired: a seeded simulation jumps its virtual
 * clock to the next timer as soon as no event is ready, even while promise
 * work (the guest's own close) is pending, and this way the guest gets a turn
 * of the event loop per tick before the host gives up on it.
 */
const RELEASE_WAIT_TICKS = 64;

/** Rescinds the offer and waits for the guest's release, at most the host device's release timeout. */
function rescind(channel: KmclChannel, server: ServerChannel): Promise<NtStatus> {
  const offer = server.offer;
  if (offer === null) return Promise.resolve(NTSTATUS.STATUS_SUCCESS);
  const channelId = offer.channelId;
  const timeout = server.device.releaseTimeout;
  return new Promise((resolve) => {
    let settled = false;
    let cancelTick: (() => void) | undefined;
    const settle = (status: NtStatus): void => {
      if (settled) return;
      settled = true;
      // Released in time: the pending tick of the release wait must not hold the process (or a seeded run) until it fires.
      cancelTick?.();
      resolve(status);
    };
    offer.rescind().then(
      () => settle(NTSTATUS.STATUS_SUCCESS),
      (error: unknown) => settle(busFailureStatus(error, NTSTATUS.STATUS_UNSUCCESSFUL)),
    );
    const giveUp = (): void => {
      server.releaseTimedOut = true;
      channel.faultDetail =
        `the guest did not release channel ${channelId ?? '(unassigned)'} within ${timeout} x 100 ns of its rescind: ` +
        'the host side is torn down; the bus keeps the id until the guest releases it';
      settle(NTSTATUS.STATUS_IO_TIMEOUT);
    };
    const tick = (left: number): void => {
      if (settled) return;
      if (left === 0) return giveUp();
      queueMicrotask(() => {
        if (!settled) cancelTick = channel.scheduler.schedule(() => tick(left - 1), timeout / RELEASE_WAIT_TICKS);
      });
    };
    tick(RELEASE_WAIT_TICKS);
  });
}
