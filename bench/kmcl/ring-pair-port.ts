/**
 * A KMCL channel in a benchmark worker, over two rings in a SharedArrayBuffer
 * and the benchmark's doorbells instead of the simulated hypervisor: the
 * bus port offers one channel, whose open returns an endpoint over the rings.
 * Both ends of a run open such a channel, one on each side of the rings, so
 * what is measured is the KMCL's data path and the ring engine under it.
 */
import {
  KmclDeviceObject,
  type GuestBusPort,
  type OfferInfo,
  type OpenChannelPort,
} from '../../src/kmcl/index.js';
import { GuestMemory, PageAllocator } from '../../src/memory/index.js';
import { FlatRingMemory, RingReader, RingWriter } from '../../src/ring/index.js';
import { NTSTATUS } from '../../src/wire/ntstatus.js';
import { Doorbell } from '../ring/doorbell.js';

/** The one offer of the benchmark bus (any GUIDs: no protocol behind them). */
export const BENCH_OFFER: OfferInfo = {
  channelId: 1,
  interfaceId: 'be7c4000-0000-4000-8000-000000000001',
  instanceId: 'be7c4000-0000-4000-8000-000000000002',
  subchannelIndex: 0,
  flags: 0,
  mmioMegabytes: 0,
  monitorId: null,
};

/** One end of the rings: reads `incoming`, writes `outgoing`, rings the peer's doorbell, hears its own. */
export class DoorbellEndpoint implements OpenChannelPort {
  readonly channelId = BENCH_OFFER.channelId;
  readonly reader: RingReader;
  readonly writer: RingWriter;
  readonly #handlers: (() => void)[] = [];
  readonly #toPeer: Doorbell;
  readonly #onSignalSent: () => void;

  constructor(incoming: Uint8Array, outgoing: Uint8Array, toPeer: Doorbell, onSignalSent: () => void) {
    this.reader = new RingReader(new FlatRingMemory(incoming));
    this.writer = new RingWriter(new FlatRingMemory(outgoing));
    this.#toPeer = toPeer;
    this.#onSignalSent = onSignalSent;
  }

  signalPeer(): void {
    this.#onSignalSent();
    this.#toPeer.ring();
  }

  onSignal(handler: () => void): () => void {
    this.#handlers.push(handler);
    return () => {
      const at = this.#handlers.indexOf(handler);
      if (at >= 0) this.#handlers.splice(at, 1);
    };
  }

  /** The peer rang: what the hypervisor's event dispatch does for a channel. */
  deliverSignal(): void {
    for (const handler of this.#handlers) handler();
  }

  close(): Promise<void> {
    this.#handlers.length = 0;
    return Promise.resolve();
  }
}

/** A guest bus port with BENCH_OFFER present, opening it on `endpoint`. */
class RingPairBus implements GuestBusPort {
  constructor(private readonly endpoint: DoorbellEndpoint) {}

  offers(): readonly OfferInfo[] {
    return [BENCH_OFFER];
  }

  onOffer(): () => void {
    return () => undefined;
  }

  onRescind(): () => void {
    return () => undefined;
  }

  createGpadl(): Promise<number> {
    return Promise.reject(Object.assign(new Error('no GPADLs on the benchmark bus'), { status: NTSTATUS.STATUS_NOT_SUPPORTED }));
  }

  teardownGpadl(): Promise<void> {
    return Promise.resolve();
  }

  openChannel(): Promise<OpenChannelPort> {
    return Promise.resolve(this.endpoint);
  }

  releaseId(): void {}
}

/**
 * The VMBus device object of a worker whose one channel opens on `endpoint`
 * (real time). `memory` is the guest memory the worker sees: a small private
 * one by default; both workers of a GPA-direct run pass views of the same
 * shared buffer, so the ranges one sends resolve in the other. The device's
 * allocator hands out pages from `firstFreePfn` on, leaving the pages below
 * to whoever laid the memory out.
 */
export function benchDevice(endpoint: DoorbellEndpoint, memory = new GuestMemory(16), firstFreePfn = 1): KmclDeviceObject {
  const allocator = new PageAllocator(memory, { firstPfn: firstFreePfn });
  return KmclDeviceObject.createVmbus({ bus: new RingPairBus(endpoint), memory, allocator });
}
