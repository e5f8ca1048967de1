/**
 * VmbChannelPause / VmbChannelStart and the two steps they share with open
 * and close. Starting: sends flow, EvtChannelStarted, the incoming queue
 * runs (packets may be delivered at once), EvtChannelPostStarted. Suspending:
 * sends are held back, the incoming queue stops taking packets (deferred ones
 * are delivered again first), EvtChannelSuspend, then the wait until the
 * driver has completed every packet it was given.
 */
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import { channelFrom } from '../handles.js';
import type { VMBCHANNEL } from '../types.js';
import type { KmclChannel } from './channel.js';
import { callStateCallback } from './state-callbacks.js';

/**
 * VmbChannelPause: resolves once the channel is paused (EvtChannelSuspend ran
 * and no incoming packet is outstanding). On a channel that is not running
 * yet (disabled, or still opening) it makes the channel open paused.
 * Decision: C's VOID becomes an NTSTATUS (STATUS_INVALID_PARAMETER_1 for a bad handle).
 */
export function VmbChannelPause(Channel: VMBCHANNEL): Promise<NtStatus> {
  const channel = channelFrom(Channel);
  if (channel === null) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_1);
  // A server channel's paused state outlives the guest's closes and opens: it stays paused until VmbChannelStart.
  if (channel.isServer) channel.autoPause = true;
  if (!channel.started) {
    // Not running (disabled, waiting for its offer, opening): it opens paused; nothing to wait for.
    channel.autoPause = true;
    return Promise.resolve(NTSTATUS.STATUS_SUCCESS);
  }
  return channel
    .transition(async () => {
      if (channel.started && channel.lifecycle === 'opened') await suspendChannel(channel);
    })
    .then(() => NTSTATUS.STATUS_SUCCESS);
}

/**
 * VmbChannelStart: moves the channel out of the paused state; Started and
 * PostStarted follow on the channel's state-change sequence. It returns at
 * once, like C's VmbChannelStart. On a disabled channel it undoes an earlier
 * Pause (the channel will open running). Decision: C's VOID becomes an NTSTATUS.
 */
export function VmbChannelStart(Channel: VMBCHANNEL): NtStatus {
  const channel = channelFrom(Channel);
  if (channel === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  channel.autoPause = false;
  if (channel.lifecycle === 'opened' || channel.transitioning) {
    // A Pause after this Start (autoPause set again) wins: the channel stays paused.
    void channel.transition(() => startIfActive(channel));
  }
  return NTSTATUS.STATUS_SUCCESS;
}

/** Starts an open channel that is not paused and not started yet (after Start, or after a server channel's open). */
export async function startIfActive(channel: KmclChannel): Promise<void> {
  if (channel.lifecycle === 'opened' && channel.openedCompleted && !channel.started && !channel.peerGone && !channel.autoPause) {
    await startChannel(channel);
  }
}

/** Started, incoming queue on, PostStarted. */
export async function startChannel(channel: KmclChannel): Promise<void> {
  channel.started = true;
  channel.sends.sendsEnabled = true;
  channel.sends.flush();
  await callStateCallback(channel, 'EvtChannelStarted');
  if (channel.lifecycle !== 'opened' || !channel.started) return;
  channel.incoming.running = true;
  // Packets may have arrived before the queue ran (their signal found it stopped).
  channel.incoming.onSignal();
  await callStateCallback(channel, 'EvtChannelPostStarted');
}

/** Sends held back, incoming stopped, Suspend, outstanding packets completed. */
export async function suspendChannel(channel: KmclChannel): Promise<void> {
  channel.started = false;
  channel.sends.sendsEnabled = false;
  await channel.incoming.stop();
  await callStateCallback(channel, 'EvtChannelSuspend');
  await channel.incoming.whenIdle();
}
