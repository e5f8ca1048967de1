/**
 * A host and a guest partition in one thread under a SeededScheduler, with
 * guest memory, a host bus and a way to await the bus's promises: `drive`
 * runs the scheduler, lets promise reactions run, and repeats until the
 * awaited work settles. Same seed, same order of everything.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { GuestBus, HostBus, type GuestBusOptions, type HostBusOptions } from '../../../src/bus/index.js';
import { SeededScheduler, createHypervisor, type HvLimits, type Hypervisor, type Partition } from '../../../src/hv/index.js';
import { GuestMemory, PageAllocator } from '../../../src/memory/index.js';
import { RecordingTrace, type TraceEvent } from '../../../src/trace/index.js';

export const HOST_ID = 0;
export const GUEST_ID = 1;

export interface SeededMachineOptions {
  readonly guestPages?: number;
  readonly guestVps?: number;
  readonly limits?: Partial<HvLimits>;
  readonly host?: Partial<Pick<HostBusOptions, 'maxVersion' | 'features' | 'messageConnectionId'>>;
}

export class SeededMachine {
  readonly scheduler: SeededScheduler;
  readonly hv: Hypervisor;
  readonly host: Partition;
  readonly guest: Partition;
  readonly memory: GuestMemory;
  readonly allocator: PageAllocator;
  readonly trace = new RecordingTrace();
  readonly hostBus: HostBus;

  constructor(seed: number, options: SeededMachineOptions = {}) {
    this.scheduler = new SeededScheduler(seed);
    this.hv = createHypervisor(
      {
        partitions: [
          { id: HOST_ID, vpCount: 1 },
          { id: GUEST_ID, vpCount: options.guestVps ?? 2 },
        ],
        ...options.limits,
      },
      this.scheduler,
    );
    this.host = this.hv.partition(HOST_ID);
    this.guest = this.hv.partition(GUEST_ID);
    this.memory = new GuestMemory(options.guestPages ?? 1024);
    this.allocator = new PageAllocator(this.memory);
    this.hostBus = HostBus.create({
      host: this.host,
      guest: this.guest,
      guestMemory: this.memory,
      scheduler: this.scheduler,
      trace: this.trace,
      ...options.host,
    });
  }

  /** The guest's bus, connected (offers delivered). */
  connectGuest(options: Partial<GuestBusOptions> = {}): Promise<GuestBus> {
    return this.drive(
      GuestBus.connect({
        partition: this.guest,
        memory: this.memory,
        allocator: this.allocator,
        scheduler: this.scheduler,
        trace: this.trace,
        ...options,
      }),
    );
  }

  /** Runs the machine until `work` settles; throws if nothing is left to run and it has not. */
  async drive<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    work.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let idleTurns = 0; !settled; ) {
      const steps = this.scheduler.runUntilIdle();
      await nextTurn();
      idleTurns = steps === 0 ? idleTurns + 1 : 0;
      if (idleTurns > 20) throw new Error('the machine is idle and the awaited work never settled');
    }
    return work;
  }

  /** Runs the machine until `condition` holds; throws if nothing is left to run and it does not. */
  async until(condition: () => boolean, what: string): Promise<void> {
    for (let idleTurns = 0; !condition(); ) {
      const steps = this.scheduler.runUntilIdle();
      await nextTurn();
      idleTurns = steps === 0 ? idleTurns + 1 : 0;
      if (idleTurns > 20) throw new Error(`the machine is idle and this never happened: ${what}`);
    }
  }

  /** Runs whatever is left (e.g. messages after a promise settled). */
  async quiesce(): Promise<void> {
    do {
      this.scheduler.runUntilIdle();
      await nextTurn();
    } while (this.scheduler.pending > 0);
  }

  /** The recorded trace as comparable text (bigints as strings). */
  traceText(): string[] {
    return this.trace.events.map((event: TraceEvent) =>
      JSON.stringify(event, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value)),
    );
  }
}
