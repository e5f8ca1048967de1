/**
 * The guest's view of the host's offers: the live ones, who listens for new
 * ones and for rescinds, and who waits for a particular device.
 */
import { NTSTATUS } from '../wire/ntstatus.js';
import type { Guid } from '../wire/guid.js';
import type { ChannelOffer } from './client/index.js';
import { BusError } from './bus-error.js';

/** A channel as the host offered it (OFFER_CHANNEL, openvmm-vmbus.md §6.6), a private copy. */
export type GuestOffer = ChannelOffer;

/** Which offer `waitForOffer` waits for: a device class, optionally one instance (subchannel 0 unless given). */
export interface OfferMatch {
  readonly interfaceId: Guid;
  readonly instanceId?: Guid;
  readonly subchannelIndex?: number;
}

interface OfferWaiter {
  readonly match: OfferMatch;
  readonly resolve: (offer: GuestOffer) => void;
  readonly reject: (error: BusError) => void;
}

function matches(offer: GuestOffer, match: OfferMatch): boolean {
  return (
    offer.interfaceId === match.interfaceId &&
    (match.instanceId === undefined || offer.instanceId === match.instanceId) &&
    offer.subchannelIndex === (match.subchannelIndex ?? 0)
  );
}

export class GuestOffers {
  /** Live (not rescinded) offers by channel id. */
  readonly #live = new Map<number, GuestOffer>();
  readonly #offerListeners = new Set<(offer: GuestOffer) => void>();
  readonly #rescindListeners = new Map<number, Set<() => void>>();
  readonly #waiters = new Set<OfferWaiter>();

  /** Live offers, lowest channel id first. */
  list(): GuestOffer[] {
    return [...this.#live.values()].sort((a, b) => a.channelId - b.channelId);
  }

  /** An OFFER_CHANNEL the client took. */
  added(offer: GuestOffer): void {
    this.#live.set(offer.channelId, offer);
    for (const waiter of [...this.#waiters]) {
      if (matches(offer, waiter.match)) waiter.resolve(offer);
    }
    for (const listener of [...this.#offerListeners]) listener(offer);
  }

  /** A RESCIND_CHANNEL_OFFER the client took. */
  rescinded(channelId: number): void {
    this.#live.delete(channelId);
    const listeners = this.#rescindListeners.get(channelId);
    this.#rescindListeners.delete(channelId);
    for (const listener of [...(listeners ?? [])]) listener();
  }

  /** The connection is gone: no offer is live any more, and waiters are rejected with STATUS_CANCELLED. */
  clear(): void {
    this.#live.clear();
    this.#rescindListeners.clear();
    for (const waiter of [...this.#waiters]) waiter.reject(cancelled('the bus unloaded'));
  }

  onOffer(listener: (offer: GuestOffer) => void): () => void {
    const entry = (offer: GuestOffer): void => listener(offer);
    this.#offerListeners.add(entry);
    return () => {
      this.#offerListeners.delete(entry);
    };
  }

  onRescind(channelId: number, listener: () => void): () => void {
    let listeners = this.#rescindListeners.get(channelId);
    if (listeners === undefined) {
      listeners = new Set();
      this.#rescindListeners.set(channelId, listeners);
    }
    const entry = (): void => listener();
    listeners.add(entry);
    return () => {
      listeners.delete(entry);
    };
  }

  /** The first live offer that matches, now or when it arrives; rejects with STATUS_CANCELLED on abort. */
  waitFor(match: OfferMatch, signal?: AbortSignal): Promise<GuestOffer> {
    const present = this.list().find((offer) => matches(offer, match));
    if (present !== undefined) return Promise.resolve(present);
    if (signal?.aborted === true) return Promise.reject(cancelled('the wait was aborted'));
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        this.#waiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        settle();
        reject(cancelled('the wait was aborted'));
      };
      const waiter: OfferWaiter = {
        match,
        resolve: (offer) => {
          settle();
          resolve(offer);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      };
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function cancelled(why: string): BusError {
  return new BusError(NTSTATUS.STATUS_CANCELLED, `stopped waiting for the offer: ${why}`);
}
