/**
 * Running a single-thread VM: every partition's deliveries and timers are
 * events of one SeededScheduler, and nothing runs unless the owner drives it.
 * Driving alternates the scheduler's events with turns of the event loop (so
 * promise reactions run in between) until the awaited work settles; with the
 * same seed the run is the same. Modules in this mode must wait only on the
 * simulation (its scheduler, the bus), never on real I/O or real timers.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { SeededScheduler } from '../hv/index.js';
import { VmError, vmFailure } from './vm-error.js';

/** Turns of the event loop with no event run after which the simulation counts as idle. */
const IDLE_TURNS = 20;

export class Simulation {
  constructor(readonly scheduler: SeededScheduler) {}

  get seed(): number {
    return this.scheduler.seed;
  }

  /** The virtual clock, in 100 ns units. */
  now(): number {
    return this.scheduler.now();
  }

  /**
   * Runs until `work` settles and returns its result. Rejects with a VmError
   * when the simulation goes idle first (nothing could ever settle it) or an
   * event's handler throws.
   */
  async run<T>(work: Promise<T>): Promise<T> {
    if (!(await this.drive(work))) {
      throw new VmError([{ partition: 'vm', phase: 'run', message: `the simulation (seed ${this.seed}) is idle and the awaited work never settled` }]);
    }
    return work;
  }

  /** Runs until nothing is left to run (timers included: the virtual clock jumps to them). */
  async settle(): Promise<void> {
    await this.drive(new Promise<never>(() => undefined));
  }

  /** Runs until `work` settles (true) or the simulation is idle (false); a VmError if an event throws. */
  async drive(work: Promise<unknown>): Promise<boolean> {
    let settled = false;
    work.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let idleTurns = 0; !settled; ) {
      let steps: number;
      try {
        steps = this.scheduler.runUntilIdle();
      } catch (error) {
        throw new VmError([vmFailure('vm', 'run', error, `an event of the simulation (seed ${this.seed}) threw`)]);
      }
      await nextTurn();
      idleTurns = steps === 0 ? idleTurns + 1 : 0;
      if (idleTurns > IDLE_TURNS) return false;
    }
    return true;
  }
}
