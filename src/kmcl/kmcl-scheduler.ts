/**
 * Time and deferral for the KMCL core: the part of the hypervisor's
 * `HvScheduler` seam it needs. Under a `SeededScheduler` every deferred step
 * is an event of the seeded run, so a test replays exactly; the real-time
 * default serves code that runs without a simulated hypervisor.
 */

import { scheduleOnEventLoop, type HvScheduler } from '../hv/index.js';

/**
 * `now()` in 100 ns units; `schedule(task, 0)` runs `task` on a later turn of
 * this thread, and returns the cancel (idempotent, a no-op once `task` ran).
 */
export type KmclScheduler = Pick<HvScheduler, 'now' | 'schedule'>;

/** Real time: `process.hrtime` for the clock, `setImmediate`/`setTimeout` for deferral (cancelled by clearing them). */
export const realTimeScheduler: KmclScheduler = {
  now: () => Number(process.hrtime.bigint() / 100n),
  schedule: scheduleOnEventLoop,
};

/**
 * A FIFO of PASSIVE_LEVEL work items run one per scheduler turn, in order
 * (a scheduler may run ready events in any order; this queue keeps its own).
 */
export class PassiveQueue {
  private readonly items: (() => void)[] = [];
  private head = 0;
  private pumping = false;

  constructor(private readonly scheduler: KmclScheduler) {}

  /** Work items queued and not yet run. */
  get length(): number {
    return this.items.length - this.head;
  }

  enqueue(item: () => void): void {
    this.items.push(item);
    if (!this.pumping) {
      this.pumping = true;
      this.scheduler.schedule(this.pump, 0);
    }
  }

  private readonly pump = (): void => {
    const item = this.items[this.head];
    if (item === undefined) {
      this.pumping = false;
      return;
    }
    this.items[this.head++] = noop;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    }
    // Reschedule before running: an item that throws must not stall the queue.
    if (this.length > 0) this.scheduler.schedule(this.pump, 0);
    else this.pumping = false;
    item();
  };
}

function noop(): void {}
