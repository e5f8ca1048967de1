/**
 * How the VM waits for a lifecycle step of several partitions at once: in
 * single-thread mode it runs the simulation until the steps settle or nothing
 * is left to run; in workers mode the partitions run by themselves and it
 * waits with a deadline. Either way it comes back, with every step's state.
 */
import type { Simulation } from './simulation.js';
import { VmError, vmFailure, type VmFailure } from './vm-error.js';

export type Settled<T> =
  | { readonly state: 'fulfilled'; readonly value: T }
  | { readonly state: 'rejected'; readonly reason: unknown }
  | { readonly state: 'pending' };

export interface SettleResult<T> {
  readonly outcomes: readonly Settled<T>[];
  /** Driving itself failed: an event of the simulation threw. */
  readonly failure: VmFailure | null;
}

export class VmDriver {
  /** `simulation` in single-thread mode; null in workers mode. */
  constructor(private readonly simulation: Simulation | null) {}

  /** Why a step is still pending after `settleAll` gave up on it. */
  pendingReason(deadlineMs: number | null): string {
    return this.simulation === null
      ? deadlineMs === null
        ? 'it never finished'
        : `it did not finish within ${deadlineMs} ms`
      : `the simulation (seed ${this.simulation.seed}) went idle before it finished`;
  }

  /**
   * Runs or waits until every work settles: in workers mode at most
   * `deadlineMs`, or without a deadline (null) for works that bound themselves.
   */
  async settleAll<T>(works: readonly Promise<T>[], deadlineMs: number | null): Promise<SettleResult<T>> {
    const outcomes: Settled<T>[] = works.map(() => ({ state: 'pending' }));
    works.forEach((work, index) =>
      work.then(
        (value) => (outcomes[index] = { state: 'fulfilled', value }),
        (reason: unknown) => (outcomes[index] = { state: 'rejected', reason }),
      ),
    );
    const all = Promise.allSettled(works);
    let failure: VmFailure | null = null;
    if (this.simulation !== null) {
      try {
        await this.simulation.drive(all);
      } catch (error) {
        failure = error instanceof VmError && error.failures[0] !== undefined ? error.failures[0] : vmFailure('vm', 'run', error);
      }
    } else if (deadlineMs === null) {
      await all;
    } else {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
      clearTimeout(timer);
    }
    return { outcomes, failure };
  }
}
