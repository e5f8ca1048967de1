/**
 * The guest partition in its own worker thread, for threads.test.ts: it
 * attaches to the hypervisor and the guest memory the main thread shares
 * (SharedArrayBuffers), connects, opens every offered channel with the ring
 * shape it is given, runs an echo exchange on each, closes, unloads, and
 * reports what it saw and what it still holds.
 *
 * Loaded directly (the test runner may load every file under test/), it does nothing.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { GuestBus, type GuestBusResources } from '../../../src/bus/index.js';
import { attachHypervisor, type SharedHypervisorDescriptor } from '../../../src/hv/index.js';
import { GuestMemory, PageAllocator } from '../../../src/memory/index.js';
import { echoExchange, type ExchangeResult } from './echo-exchange.js';

export interface GuestWorkerSetup {
  readonly descriptor: SharedHypervisorDescriptor;
  readonly guestId: number;
  readonly memory: SharedArrayBuffer;
  /** Ring pages (control page included) per channel, in offer order. */
  readonly rings: readonly { readonly outgoingRingPages: number; readonly incomingRingPages: number }[];
  readonly packets: number;
}

export interface GuestWorkerReport {
  readonly version: number;
  readonly channelIds: readonly number[];
  readonly exchanges: readonly ExchangeResult[];
  readonly signalsReceived: readonly number[];
  readonly pagesLeft: number;
  readonly resources: GuestBusResources;
  readonly invariants: readonly string[];
}

async function runGuest(setup: GuestWorkerSetup): Promise<GuestWorkerReport> {
  const hv = attachHypervisor(setup.descriptor);
  const memory = new GuestMemory(setup.memory);
  const allocator = new PageAllocator(memory);
  const bus = await GuestBus.connect({ partition: hv.partition(setup.guestId), memory, allocator, vp: 1 });
  const offers = bus.offers();
  const channels = await Promise.all(offers.map((offer, i) => bus.openChannel(offer.channelId, setup.rings[i % setup.rings.length]!)));
  const exchanges = await Promise.all(channels.map((channel) => echoExchange(channel, setup.packets)));
  const signalsReceived = channels.map((channel) => channel.stats.signalsReceived);
  await Promise.all(channels.map((channel) => channel.close()));
  await bus.unload();
  hv.close();
  return {
    version: bus.version,
    channelIds: offers.map((offer) => offer.channelId),
    exchanges,
    signalsReceived,
    pagesLeft: allocator.allocatedPageCount,
    resources: bus.resources(),
    invariants: bus.checkInvariants(),
  };
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  runGuest(workerData as GuestWorkerSetup).then(
    (report) => port.postMessage({ report }),
    (error: unknown) => port.postMessage({ error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }),
  );
}
