/**
 * A running VM, as `createVm` hands it to its owner: its partitions, the
 * events its guest modules emit, a way to run it (the simulation in
 * single-thread mode), and `stop`.
 */
import type { Hypervisor, Partition } from '../hv/index.js';
import type { Simulation } from './simulation.js';
import { takeApart, type VmAssembly } from './vm-assembly.js';
import { VmError, type VmFailure } from './vm-error.js';
import type { VmGuest, VmGuestEvent, VmStopReport } from './vm-types.js';

export class Vm {
  readonly mode: 'single-thread' | 'workers';
  readonly hypervisor: Hypervisor;
  /** The host (root) partition, in this thread. */
  readonly host: Partition;
  readonly guests: readonly VmGuest[];
  /** The seeded simulation in single-thread mode (run it with `run` or `simulation.settle`); null in workers mode. */
  readonly simulation: Simulation | null;
  readonly #assembly: VmAssembly;
  #stopping: Promise<VmStopReport> | null = null;

  /** @internal Use `createVm`. */
  constructor(assembly: VmAssembly) {
    this.#assembly = assembly;
    this.mode = assembly.plan.mode.kind;
    this.hypervisor = assembly.hypervisor;
    this.host = assembly.host;
    this.guests = assembly.guests;
    this.simulation = assembly.simulation;
  }

  /** The guest named `name` (RangeError if there is none). */
  guest(name: string): VmGuest {
    const guest = this.guests.find((candidate) => candidate.name === name);
    if (guest === undefined) throw new RangeError(`the VM has no guest named "${name}"`);
    return guest;
  }

  /** Every event the guest modules emitted so far, in arrival order. */
  get events(): readonly VmGuestEvent[] {
    return this.#assembly.events.received;
  }

  /** The first event of `kind` (from `guest`, when given), received already or to come. Await it with `run`. */
  waitForEvent(kind: string, guest?: string): Promise<VmGuestEvent> {
    return this.#assembly.events.waitFor(kind, guest);
  }

  /** Failures of the running VM nobody was waiting on (a guest's worker crashed or exited). */
  get faults(): readonly VmFailure[] {
    return this.#assembly.faults.list;
  }

  /** Worker threads still alive. */
  get liveWorkers(): number {
    return this.#assembly.handles.filter((handle) => handle.live).length;
  }

  /**
   * Waits for `work` while the VM runs. Single-thread mode: runs the
   * simulation until it settles, and rejects (VmError) if the simulation goes
   * idle first. Workers mode: rejects (VmError naming the guest) as soon as a
   * guest faults, instead of waiting for work that may now never settle.
   */
  run<T>(work: Promise<T>): Promise<T> {
    if (this.simulation !== null) return this.simulation.run(work);
    const faults = this.#assembly.faults;
    return new Promise<T>((resolve, reject) => {
      const fail = (): void => reject(new VmError(faults.list));
      if (faults.list.length > 0) fail();
      const stopListening = faults.onFault(fail);
      work.then(resolve, reject).finally(stopListening);
    });
  }

  /**
   * Stops the VM: the guest modules' teardowns and the guest buses' unload,
   * the workers' exit (terminated after `stopTimeoutMs`), the host modules'
   * teardowns, the host buses' close, the hypervisor's close. Resolves with
   * what each partition still held; rejects with a VmError (carrying that
   * report) if anything failed, once everything is released. Once only: a
   * second call returns the same promise.
   */
  stop(): Promise<VmStopReport> {
    this.#stopping ??= takeApart(this.#assembly).then((report) => {
      if (report.failures.length > 0) throw new VmError(report.failures, report);
      return report;
    });
    return this.#stopping;
  }

  /** The same as `stop`. */
  close(): Promise<VmStopReport> {
    return this.stop();
  }
}
