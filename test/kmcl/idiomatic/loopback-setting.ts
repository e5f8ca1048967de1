/**
 * The setting of the idiomatic-API tests: the KMCL test harness (seeded
 * scheduler, loopback bus, VMBus device object) with the idiomatic `Vmbus`
 * over its device object, and a helper that offers the test device and opens
 * a channel on it.
 */
import { KmclError, Vmbus, type Channel, type ChannelOptions, type OfferInfo } from '../../../src/index.js';
import { TEST_INSTANCE, TEST_INTERFACE, makeHarness, type Harness } from '../support/harness.js';
import type { LoopbackEndpoint } from '../support/loopback-bus.js';
import { drive } from '../support/settle.js';

export interface IdiomaticSetting extends Harness {
  readonly vmbus: Vmbus;
}

export function makeSetting(seed = 1): IdiomaticSetting {
  const h = makeHarness(seed);
  return { ...h, vmbus: new Vmbus(h.device) };
}

export interface OpenedChannel {
  readonly channel: Channel;
  readonly offer: OfferInfo;
  /** The host's end of the rings (the test plays the peer). */
  readonly host: LoopbackEndpoint;
  /** The events the channel emitted, in order. */
  readonly events: string[];
}

/** Records every event a channel emits. */
export function recordEvents(channel: Channel): string[] {
  const events: string[] = [];
  for (const name of ['opened', 'started', 'suspend', 'closed'] as const) channel.on(name, () => events.push(name));
  return events;
}

/** Offers TEST_INTERFACE and opens an idiomatic channel on it (extra options merged in). */
export async function openTestChannel(s: IdiomaticSetting, options: Partial<ChannelOptions> = {}): Promise<OpenedChannel> {
  const offer = s.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  const channel = s.vmbus.createChannel({ interfaceId: TEST_INTERFACE, ...options });
  const events = recordEvents(channel);
  await drive(s.scheduler, channel.open());
  const host = s.bus.hosts.get(offer.channelId);
  if (host === undefined) throw new Error('the channel did not open');
  return { channel, offer, host, events };
}

/** How a call ended: its value, or the status of the KmclError it rejected with. */
export interface Outcome<T> {
  value?: T;
  status?: number;
}

/** Turns a rejection with a KmclError into its status at once (so it is never an unhandled rejection). */
export function statusOf<T>(promise: Promise<T>): Promise<Outcome<T>> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => {
      if (!(error instanceof KmclError)) throw error;
      return { status: error.status };
    },
  );
}

/** Settles the simulation until `promise` ends; returns how it ended. */
export function outcome<T>(s: Harness, promise: Promise<T>): Promise<Outcome<T>> {
  return drive(s.scheduler, statusOf(promise));
}
