import { Presets, SingleBar } from 'cli-progress';

import type { ProgressSink } from './sub-benchmark.js';

/** A progress bar on stderr for one sub-benchmark; silent when stderr is not a terminal. */
export class StderrProgressBar implements ProgressSink {
  readonly #bar: SingleBar;
  readonly #benchmark: string;
  #started = false;

  constructor(benchmark: string) {
    this.#benchmark = benchmark;
    this.#bar = new SingleBar(
      {
        stream: process.stderr,
        format: '{benchmark} [{bar}] {value}/{total} {label}',
        clearOnComplete: true,
        hideCursor: true,
      },
      Presets.shades_classic,
    );
  }

  begin(totalSteps: number): void {
    this.#bar.start(totalSteps, 0, { benchmark: this.#benchmark, label: '' });
    this.#started = true;
  }

  step(label: string): void {
    if (this.#started) this.#bar.increment(1, { label });
  }

  /** Removes the bar so the tables that follow are not interleaved with it. */
  finish(): void {
    if (this.#started) this.#bar.stop();
    this.#started = false;
  }
}
