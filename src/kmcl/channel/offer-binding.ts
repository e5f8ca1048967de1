/**
 * Which offer a client channel opens, and waiting for it to appear. A channel
 * targets (in this order) the subchannel offers of its primary channel
 * (VmbChannelInitSetPrimaryChannel), the interface of
 * VmbClientChannelInitSetTargetPnp, or the offer of the child device object
 * it was allocated on. Two channels never bind the same offer.
 */
import type { Guid } from '../../wire/guid.js';
import type { OfferInfo } from '../bus-port.js';
import type { KmclChannel } from './channel.js';

/** Channel ids bound by a channel, per VMBus device (the context is shared by a bus's device objects). */
const claimed = new WeakMap<object, Set<number>>();
/** The rescans of the channels waiting for an offer, per VMBus device. */
const waiting = new WeakMap<object, Set<() => void>>();

export type OfferMatch = (offer: OfferInfo) => boolean;

/** The offers this channel may bind, or null when it has no target. */
export function offerMatchOf(channel: KmclChannel): OfferMatch | null {
  const config = channel.config;
  const primary = config.primaryChannel;
  if (primary !== null) {
    return (offer) => {
      const primaryOffer = primary.offer;
      return (
        primaryOffer !== null &&
        offer.subchannelIndex !== 0 &&
        offer.interfaceId === primaryOffer.interfaceId &&
        offer.instanceId === primaryOffer.instanceId
      );
    };
  }
  if (config.target !== null) {
    const { interfaceId, instanceId } = config.target;
    return (offer) => offer.subchannelIndex === 0 && matchesInterface(offer, interfaceId, instanceId);
  }
  const device = channel.guestDevice;
  const own = device.offer;
  if (own !== null && !device.removed) return (offer) => offer.channelId === own.channelId;
  return null;
}

function matchesInterface(offer: OfferInfo, interfaceId: Guid, instanceId: Guid | undefined): boolean {
  return offer.interfaceId === interfaceId && (instanceId === undefined || offer.instanceId === instanceId);
}

/**
 * Resolves with the first present or future unclaimed offer that matches,
 * claimed; rejects when aborted. The offers are looked at again when a new
 * one comes, and when another channel binds one (a subchannel's match needs
 * its primary bound).
 */
export function waitForOffer(channel: KmclChannel, match: OfferMatch, signal: AbortSignal): Promise<OfferInfo> {
  const bus = channel.guestDevice.context.bus;
  const taken = claimedSet(channel);
  const rescans = waitingSet(channel);
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    let stop: (() => void) | null = null;
    let settled = false;
    const cleanup = (): void => {
      settled = true;
      stop?.();
      rescans.delete(scan);
      signal.removeEventListener('abort', onAbort);
    };
    const take = (offer: OfferInfo): boolean => {
      if (settled || taken.has(offer.channelId) || !match(offer)) return false;
      taken.add(offer.channelId);
      cleanup();
      resolve(offer);
      return true;
    };
    const scan = (): void => {
      for (const offer of bus.offers()) if (take(offer)) return;
    };
    const onAbort = (): void => {
      cleanup();
      reject(signal.reason);
    };
    scan();
    if (settled) return;
    stop = bus.onOffer((offer) => void take(offer));
    rescans.add(scan);
    signal.addEventListener('abort', onAbort);
  });
}

/** A channel bound an offer: channels waiting for one look again. */
export function offerBound(channel: KmclChannel): void {
  for (const scan of [...waitingSet(channel)]) scan();
}

/** True while a channel of this VMBus device holds the offer with `channelId`. */
export function isOfferClaimed(context: object, channelId: number): boolean {
  return claimed.get(context)?.has(channelId) === true;
}

/** Gives a bound offer back (the channel closed). */
export function releaseOffer(channel: KmclChannel, offer: OfferInfo): void {
  claimedSet(channel).delete(offer.channelId);
}

function waitingSet(channel: KmclChannel): Set<() => void> {
  const key = channel.context;
  let set = waiting.get(key);
  if (set === undefined) {
    set = new Set();
    waiting.set(key, set);
  }
  return set;
}

function claimedSet(channel: KmclChannel): Set<number> {
  const key = channel.context;
  let set = claimed.get(key);
  if (set === undefined) {
    set = new Set();
    claimed.set(key, set);
  }
  return set;
}
