import { CONTROL, HvMemory, type HypervisorConfig, type SharedHypervisorDescriptor } from './hv-memory.js';
import { Hypercalls } from './hypercalls.js';
import { Partition } from './partition.js';
import type { HvScheduler } from './scheduler.js';
import { SeededScheduler } from './seeded-scheduler.js';
import { ThreadScheduler } from './thread-scheduler.js';

/**
 * How deliveries reach partition code: a `SeededScheduler` (every partition in
 * this thread, reproducible order, virtual clock) or 'threads' (partitions
 * spread over worker threads that share this hypervisor's memory).
 */
export type HvDelivery = SeededScheduler | 'threads';

/**
 * The simulated hypervisor as one thread sees it. It moves opaque payloads of
 * at most 240 bytes and event flags between partitions; it knows nothing of
 * what they mean. All its state is in SharedArrayBuffers, so in 'threads' mode
 * `exportShared()` hands the very same hypervisor to a worker.
 */
export class Hypervisor {
  private readonly byId: ReadonlyMap<number, Partition>;

  private constructor(
    private readonly memory: HvMemory,
    private readonly hypercalls: Hypercalls,
    private readonly shareable: boolean,
  ) {
    this.byId = new Map(memory.partitions.map((p, index) => [p.config.id, new Partition(hypercalls, index)]));
  }

  /** @internal Use `createHypervisor` or `attachHypervisor`. */
  static over(memory: HvMemory, scheduler: HvScheduler, shareable: boolean): Hypervisor {
    return new Hypervisor(memory, new Hypercalls(memory, scheduler), shareable);
  }

  /** The partition with Hyper-V partition id `id` (RangeError if there is none). */
  partition(id: number): Partition {
    const partition = this.byId.get(id);
    if (partition === undefined) throw new RangeError(`the hypervisor has no partition ${id}`);
    return partition;
  }

  get partitions(): readonly Partition[] {
    return [...this.byId.values()];
  }

  /** The scheduler's clock, in 100 ns units (virtual under a SeededScheduler). */
  now(): number {
    return this.hypercalls.scheduler.now();
  }

  /**
   * A structured-clone-able descriptor of the shared state, for `workerData`;
   * `attachHypervisor(descriptor)` in the worker yields this same hypervisor.
   * Only for a hypervisor created with 'threads' (TypeError otherwise: a seeded
   * run lives in one thread).
   */
  exportShared(): SharedHypervisorDescriptor {
    if (!this.shareable) {
      throw new TypeError('a hypervisor driven by a SeededScheduler runs in one thread and cannot be shared');
    }
    return this.memory.descriptor();
  }

  /** Stops every handler registered in this thread (and with them the thread's doorbell waits). */
  close(): void {
    for (const partition of this.byId.values()) partition.close();
  }
}

/** A new hypervisor with the given partitions (RangeError on an impossible config). */
export function createHypervisor(config: HypervisorConfig, delivery: HvDelivery): Hypervisor {
  const memory = HvMemory.allocate(config);
  if (delivery instanceof SeededScheduler) return Hypervisor.over(memory, delivery, false);
  return Hypervisor.over(memory, new ThreadScheduler(memory.control.i32, CONTROL.DOORBELLS), true);
}

/** The hypervisor another thread exported, for partition code running in this thread. */
export function attachHypervisor(descriptor: SharedHypervisorDescriptor): Hypervisor {
  const memory = HvMemory.attach(descriptor);
  return Hypervisor.over(memory, new ThreadScheduler(memory.control.i32, CONTROL.DOORBELLS), true);
}
