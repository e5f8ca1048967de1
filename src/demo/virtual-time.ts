/**
 * Running a single-thread VM whose devices keep timers of their own (a
 * heartbeat every second, a time sample every two). `Simulation.run` runs the
 * scheduler until idle, jumping the virtual clock from timer to timer without
 * letting promise reactions run in between; a periodic timer never lets it
 * be idle. Here the clock moves only when the VM is quiet: run what is due
 * now, let the promise reactions it released run, and only when a few turns
 * pass with nothing due does the clock jump to the next timer. A heartbeat
 * then lands, is answered and reported at its own virtual time, and the same
 * seed still gives the same run.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { SeededScheduler } from '../hv/index.js';

/** Turns of the event loop with nothing due before the clock moves: promise chains settle in one. */
const QUIET_TURNS = 2;

/** How long `runOnVirtualTime` may run, on the virtual clock. */
export interface VirtualDeadline {
  /** Milliseconds from now. */
  readonly ms: number;
  /** What the work is, for the rejection: "the guest's answer". */
  readonly waitingFor: () => string;
}

/**
 * Runs `scheduler` until `work` settles and returns its result. Rejects when
 * the clock passes the deadline first, or when nothing is left to run (no
 * event, no timer) and `work` is still pending: it never can settle then.
 */
export async function runOnVirtualTime<T>(scheduler: SeededScheduler, work: Promise<T>, deadline: VirtualDeadline): Promise<T> {
  const at = scheduler.now() + deadline.ms * 10_000;
  let settled = false;
  const done = work.finally(() => (settled = true));
  done.catch(() => undefined);
  for (let quiet = 0; !settled; ) {
    const ran = scheduler.runUntil(scheduler.now());
    await nextTurn();
    if (ran > 0 || settled) {
      quiet = 0;
      continue;
    }
    if (++quiet < QUIET_TURNS) continue;
    if (scheduler.pending === 0) {
      throw new Error(`the simulation (seed ${scheduler.seed}) has nothing left to run while waiting for ${deadline.waitingFor()}`);
    }
    // Nothing is due now: move the clock to the next timer and run it.
    scheduler.step();
    quiet = 0;
    if (scheduler.now() > at) throw new Error(`gave up after ${deadline.ms} ms of virtual time waiting for ${deadline.waitingFor()}`);
  }
  return work;
}
