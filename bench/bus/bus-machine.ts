/**
 * The `bus` benchmark's machine: a host and a guest partition in one thread
 * on a seeded hypervisor (virtual time, so only CPU is counted), the host
 * bus, and the loop that runs the scheduler until a piece of bus work settles.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { GuestBus, HostBus, type HostChannelHandlers, type HostOffer } from '../../src/bus/index.js';
import { SeededScheduler, createHypervisor, type Hypervisor } from '../../src/hv/index.js';
import { GuestMemory, PageAllocator } from '../../src/memory/index.js';
import { NTSTATUS } from '../../src/wire/ntstatus.js';

/** Channel ids 1..2047 (openvmm-vmbus.md §6.1: bit 0 of the 2048 event flags is reserved). */
export const MAX_CHANNELS = 2047;
/** The smallest rings: a control page and one data page each way. */
export const RING_PAGES = 2;

/** The interface every benchmark offer carries (no protocol behind it). */
export const BENCH_INTERFACE = 'b0b0b0b0-0000-4000-8000-000000000001';
const DEVICE: HostChannelHandlers = { open: () => NTSTATUS.STATUS_SUCCESS, close: () => undefined };

/** Both partitions, their buses and the loop that runs them. */
export class BusMachine {
  readonly scheduler = new SeededScheduler(1);
  readonly hv: Hypervisor;
  readonly allocator: PageAllocator;
  readonly hostBus: HostBus;
  readonly #memory: GuestMemory;
  #instance = 0;

  /** `guestPages`: guest memory, by default room for the rings of every channel id. */
  constructor(guestPages = MAX_CHANNELS * 2 * RING_PAGES + 64) {
    // Per channel: one host event port and one guest connection; message ports and guest ports on top.
    this.hv = createHypervisor(
      { partitions: [{ id: 0, vpCount: 1 }, { id: 1, vpCount: 1 }], portCapacity: 4096, connectionCapacity: 4096 },
      this.scheduler,
    );
    this.#memory = new GuestMemory(guestPages);
    this.allocator = new PageAllocator(this.#memory);
    this.hostBus = HostBus.create({
      host: this.hv.partition(0),
      guest: this.hv.partition(1),
      guestMemory: this.#memory,
      scheduler: this.scheduler,
    });
  }

  connect(): Promise<GuestBus> {
    const partition = this.hv.partition(1);
    return this.drive(GuestBus.connect({ partition, memory: this.#memory, allocator: this.allocator, scheduler: this.scheduler }));
  }

  /** A new offer of the bench device, with a fresh instance id. */
  offer(): { readonly handle: HostOffer; readonly instanceId: string } {
    const instanceId = `b0b0b0b0-0000-4000-8000-${(this.#instance++).toString(16).padStart(12, '0')}`;
    return { handle: this.hostBus.offerChannel({ interfaceId: BENCH_INTERFACE, instanceId }, DEVICE), instanceId };
  }

  async drive<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    work.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let idle = 0; !settled; ) {
      idle = this.scheduler.runUntilIdle(10_000_000) === 0 ? idle + 1 : 0;
      await nextTurn();
      if (idle > 20) throw new Error('the bus machine stalled');
    }
    return work;
  }
}
