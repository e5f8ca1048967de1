/**
 * A tick now and then every interval on a KMCL scheduler, for the host
 * services that send on their own (heartbeats, time samples). The scheduler
 * has no cancel: a stopped timer's last scheduled tick finds its run over and
 * does nothing.
 */
import type { KmclScheduler } from '../../../index.js';

export class PeriodicTimer {
  /** The current run; a tick of an earlier run finds it changed and ends. */
  #run = 0;

  /** `tick` returns false to stop the timer (start it again later with `start`). */
  constructor(
    private readonly scheduler: KmclScheduler,
    private readonly interval100ns: number,
    private readonly tick: () => boolean,
  ) {}

  /** Ticks at once, then every interval; a running timer starts over. */
  start(): void {
    this.#step(++this.#run);
  }

  stop(): void {
    this.#run++;
  }

  #step(run: number): void {
    if (run !== this.#run) return;
    if (!this.tick()) {
      this.stop();
      return;
    }
    this.scheduler.schedule(() => this.#step(run), this.interval100ns);
  }
}
