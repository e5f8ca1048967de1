/**
 * One guest partition in the thread that runs it (the VM's own thread in
 * single-thread mode, its worker otherwise): the guest bus connected over the
 * partition, the KMCL VMBus device object over the bus, and the guest module
 * started with them; then, at stop, the module's teardown, the bus's unload
 * and what was left. The same code in both modes, so a module runs the same.
 */
import { GuestBus, type RetryScheduler } from '../bus/index.js';
import type { Partition } from '../hv/index.js';
import { createVmbusDeviceObject, type KmclDeviceObject, type KmclScheduler } from '../kmcl/index.js';
import { PageAllocator, type GuestMemory } from '../memory/index.js';
import type { TraceSink } from '../trace/index.js';
import type { WorkerStopReport } from './control-channel.js';
import { vmFailure, type VmFailure } from './vm-error.js';
import type { GuestContext, GuestModule, Teardown } from './vm-types.js';

export interface GuestRuntimeSetup {
  readonly name: string;
  readonly index: number;
  readonly partition: Partition;
  readonly memory: GuestMemory;
  readonly scheduler: KmclScheduler;
  /** Where the bus retries wait: the seeded scheduler, or null for the event loop. */
  readonly retry: RetryScheduler | null;
  /** Already tagged with the guest's name. */
  readonly trace: TraceSink;
  readonly data: unknown;
  readonly emit: (kind: string, detail: unknown) => void;
}

export class GuestRuntime {
  readonly allocator: PageAllocator;
  readonly #setup: GuestRuntimeSetup;
  #connecting: Promise<GuestBus> | null = null;
  #bus: GuestBus | null = null;
  #device: KmclDeviceObject | null = null;
  #teardown: Teardown | null = null;
  #stopping = false;

  constructor(setup: GuestRuntimeSetup) {
    this.#setup = setup;
    this.allocator = new PageAllocator(setup.memory);
  }

  /**
   * Connects the bus (offers delivered), builds the device object and starts
   * `module`. Resolves with the failure of the step that failed, or null.
   */
  async boot(module: GuestModule | null): Promise<VmFailure | null> {
    const { name, partition, memory, retry, trace, scheduler } = this.#setup;
    if (this.#stopping) return null;
    this.#connecting = GuestBus.connect({
      partition,
      memory,
      allocator: this.allocator,
      trace,
      ...(retry === null ? {} : { scheduler: retry }),
    });
    let bus: GuestBus;
    try {
      bus = await this.#connecting;
    } catch (error) {
      return vmFailure(name, 'connect', error);
    }
    this.#bus = bus;
    if (this.#stopping) return null;
    this.#device = createVmbusDeviceObject({ bus, memory, allocator: this.allocator, scheduler, monitor: partition.monitor });
    if (module === null) return null;
    try {
      const teardown = await module(this.#context(bus, this.#device));
      if (typeof teardown === 'function') this.#teardown = teardown;
    } catch (error) {
      return vmFailure(name, 'guest-start', error);
    }
    return null;
  }

  /**
   * Tears the module down, stops the device object following the bus and
   * unloads the bus (which frees its rings and monitor pages). Works from any
   * point of `boot`; a module whose start never finished gets no teardown.
   */
  async stop(): Promise<{ readonly report: WorkerStopReport; readonly failures: readonly VmFailure[] }> {
    this.#stopping = true;
    const { name } = this.#setup;
    const failures: VmFailure[] = [];
    const teardown = this.#teardown;
    this.#teardown = null;
    if (teardown !== null) {
      try {
        await teardown();
      } catch (error) {
        failures.push(vmFailure(name, 'guest-teardown', error));
      }
    }
    this.#device?.detach();
    // A connect still under way is waited for, so its bus is unloaded too.
    const bus = this.#bus ?? (await this.#connecting?.catch(() => null)) ?? null;
    if (bus !== null) {
      try {
        await bus.unload();
      } catch (error) {
        failures.push(vmFailure(name, 'unload', error));
      }
    }
    const report: WorkerStopReport = {
      name,
      bus: bus?.resources() ?? null,
      invariants: bus?.checkInvariants() ?? [],
      pagesAllocated: this.allocator.allocatedPageCount,
    };
    return { report, failures };
  }

  #context(bus: GuestBus, device: KmclDeviceObject): GuestContext {
    const { name, index, partition, memory, trace, scheduler, data, emit } = this.#setup;
    return {
      device,
      bus,
      memory,
      allocator: this.allocator,
      partition,
      trace,
      scheduler,
      name,
      index,
      data,
      emit: (kind, detail) => emit(kind, detail),
    };
  }
}
