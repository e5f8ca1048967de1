/**
 * Calling the driver's state-change callbacks (all PASSIVE_LEVEL; each may
 * return a Promise, which the state machine awaits). A callback that throws
 * is a driver bug: it is reported (see driver-fault.ts) and the state machine
 * carries on; a throwing EvtChannelOpened counts as a failure status.
 */
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import { reportDriverFault } from '../driver-fault.js';
import type { KmclChannel } from './channel.js';

type VoidCallbackName = 'EvtChannelClosed' | 'EvtChannelSuspend' | 'EvtChannelStarted' | 'EvtChannelPostStarted';

/** EvtChannelOpened's status; STATUS_SUCCESS when none is registered. */
export async function callOpened(channel: KmclChannel): Promise<NtStatus> {
  const opened = channel.config.stateCallbacks?.EvtChannelOpened ?? null;
  if (opened === null) return NTSTATUS.STATUS_SUCCESS;
  try {
    const status = await opened(channel.handle);
    return typeof status === 'number' ? status >>> 0 : NTSTATUS.STATUS_UNSUCCESSFUL;
  } catch (error) {
    reportDriverFault(error);
    return NTSTATUS.STATUS_UNSUCCESSFUL;
  }
}

/** Runs one of the callbacks that return nothing, if registered, and waits for it. */
export async function callStateCallback(channel: KmclChannel, name: VoidCallbackName): Promise<void> {
  const callback = channel.config.stateCallbacks?.[name] ?? null;
  if (callback === null) return;
  try {
    await callback(channel.handle);
  } catch (error) {
    reportDriverFault(error);
  }
}
