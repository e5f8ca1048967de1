/**
 * A tick now and then every interval on a KMCL scheduler, for the host
 * services that send on their own (heartbeats, time samples). Stopping it
 * cancels the tick it had scheduled, so a stopped service leaves no timer
 * behind (nothing keeps the process alive or runs in a seeded simulation).
 */
import type { KmclScheduler } from '../../../index.js';

export class PeriodicTimer {
  /** The current run; a tick that started or stopped the timer ends the run it belonged to. */
  #run = 0;
  /** Cancels the scheduled next tick of the current run. */
  #cancelNext: (() => void) | undefined;

  /** `tick` returns false to stop the timer (start it again later with `start`). */
  constructor(
    private readonly scheduler: KmclScheduler,
    private readonly interval100ns: number,
    private readonly tick: () => boolean,
  ) {}

  /** Ticks at once, then every interval; a running timer starts over. */
  start(): void {
    this.stop();
    this.#step(this.#run);
  }

  /** Cancels the next tick. */
  stop(): void {
    this.#run++;
    this.#cancelNext?.();
    this.#cancelNext = undefined;
  }

  #step(run: number): void {
    this.#cancelNext = undefined;
    if (!this.tick()) {
      this.stop();
      return;
    }
    if (run !== this.#run) return;
    this.#cancelNext = this.scheduler.schedule(() => this.#step(run), this.interval100ns);
  }
}
