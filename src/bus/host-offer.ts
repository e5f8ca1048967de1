/**
 * What the host bus keeps per offer, and the device's view of an open, shared
 * by the bus and its servicing (save and restore) paths.
 */
import { ntSuccess } from '../wire/ntstatus.js';
import type { OfferId, OfferKey, OpenChannelAction } from './server/index.js';
import type { Deferred } from './deferred.js';
import type { HostChannel } from './host-channel.js';
import type { HostChannelHandlers, HostOpenRequest } from './host-types.js';

export interface OfferRecord {
  readonly offerId: OfferId;
  readonly key: OfferKey;
  readonly handlers: HostChannelHandlers;
  readonly monitorLatency: number;
  /** Attached from the `open` action until the device's close is done (or the open failed). */
  channel: HostChannel | null;
  /** The device accepted the open and the server took the answer. */
  opened: boolean;
  rescinded: Deferred<void> | null;
}

/** The device's view of an open (or of an open channel handed back after a restore). */
export function openRequest(action: OpenChannelAction, channel: HostChannel): HostOpenRequest {
  return {
    offerId: action.offerId,
    channelId: action.channelId,
    endpoint: channel.endpoint,
    targetVp: action.targetVp,
    userData: action.userData.slice(),
    ringGpadlId: action.ringGpadlId,
    monitorId: action.monitorId,
    version: action.version,
    features: action.features,
  };
}

/** A device handler's answer as an NTSTATUS (a u32), or null when it is not one. */
export function asNtStatus(answer: unknown): number | null {
  return typeof answer === 'number' && Number.isInteger(answer) && answer >= 0 && answer <= 0xffff_ffff ? answer : null;
}

/** A success NTSTATUS from a device handler. */
export function isSuccess(answer: unknown): boolean {
  const status = asNtStatus(answer);
  return status !== null && ntSuccess(status);
}
