import type { HvScheduler } from './scheduler.js';
import { SeededRandom } from './seeded-random.js';

/** One scheduled task; `done` once it ran or was cancelled, so a late cancel need not search for it. */
interface SeededEvent {
  readonly due: number;
  readonly task: () => void;
  done: boolean;
}

/**
 * All partitions in one thread, reproducibly. Ready events (message arrivals,
 * event signals, monitor scans) wait in a pool and `step()` runs one picked by
 * a PRNG seeded with `seed`; timers wait on a virtual clock that only moves
 * when nothing is ready. Same seed and same inputs: same order, same times.
 * A cancelled event leaves the pool or the timer list as if never scheduled.
 */
export class SeededScheduler implements HvScheduler {
  private readonly random: SeededRandom;
  private clock = 0;
  private readonly ready: SeededEvent[] = [];
  /** Sorted by due time; equal times keep their creation order. */
  private readonly timers: SeededEvent[] = [];

  constructor(readonly seed: number) {
    this.random = new SeededRandom(seed);
  }

  now(): number {
    return this.clock;
  }

  schedule(task: () => void, delay100ns: number): () => void {
    const event: SeededEvent = { due: this.clock + Math.max(delay100ns, 0), task, done: false };
    if (delay100ns <= 0) this.ready.push(event);
    else this.timers.splice(this.timerSlot(event.due), 0, event);
    return () => this.cancel(event);
  }

  wake(_partitionIndex: number, dispatch: () => void): void {
    this.ready.push({ due: this.clock, task: dispatch, done: false });
  }

  /** In one thread every wake already carries its dispatch, so there is no doorbell to watch. */
  listen(): () => void {
    return () => undefined;
  }

  /** Events and timers not yet run. */
  get pending(): number {
    return this.ready.length + this.timers.length;
  }

  /** Runs one event (advancing the clock to the next timer if nothing is ready); false if there was none. */
  step(): boolean {
    return this.stepUntil(Number.POSITIVE_INFINITY);
  }

  /**
   * Runs events until none is left (timers included, advancing the clock).
   * Throws if `maxSteps` is exceeded: the simulation is feeding itself forever.
   * Returns the number of events run.
   */
  runUntilIdle(maxSteps = 1_000_000): number {
    return this.runUntil(Number.POSITIVE_INFINITY, maxSteps);
  }

  /** Runs every event due at or before `time` (100 ns units), then sets the clock to `time` if it is later. */
  runUntil(time: number, maxSteps = 1_000_000): number {
    let steps = 0;
    while (this.stepUntil(time)) {
      if (++steps > maxSteps) {
        throw new Error(`seeded scheduler (seed ${this.seed}): still busy after ${maxSteps} steps`);
      }
    }
    if (Number.isFinite(time) && time > this.clock) this.clock = time;
    return steps;
  }

  private stepUntil(limit: number): boolean {
    if (this.ready.length === 0) {
      const next = this.timers[0];
      if (next === undefined || next.due > limit) return false;
      this.clock = next.due;
      while (this.timers[0]?.due === this.clock) this.ready.push(this.timers.shift()!);
    }
    const pick = this.random.nextBelow(this.ready.length);
    const event = this.ready[pick]!;
    this.ready[pick] = this.ready[this.ready.length - 1]!;
    this.ready.pop();
    event.done = true;
    event.task();
    return true;
  }

  /** Where a timer due at `due` goes: after every timer due at or before it. */
  private timerSlot(due: number): number {
    let low = 0;
    let high = this.timers.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.timers[mid]!.due <= due) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /**
   * Drops a waiting event from wherever it waits (a timer whose time came sits
   * in the ready pool): it takes no PRNG pick and the clock never moves to it.
   */
  private cancel(event: SeededEvent): void {
    if (event.done) return;
    event.done = true;
    const timer = this.timers.indexOf(event);
    if (timer >= 0) this.timers.splice(timer, 1);
    else this.ready.splice(this.ready.indexOf(event), 1);
  }
}
