import { BENCH_NANOS, BENCH_WORD, benchNanos } from './bench-control.js';
import type { ThroughputSide } from './doorbell-stopwatch.js';

/**
 * Polls between two clock reads. A poll is a load of the peer's index (a few
 * ns); a clock read costs ~0.15 µs here, so reading it on every poll would
 * slow the very check that ends the spin.
 */
export const POLLS_PER_CLOCK = 64;

/**
 * The bounded poll a throughput worker runs before it arms its doorbell and
 * sleeps, in the spinning runs. On a 2-vCPU VM a V8 worker takes ~100-450 µs
 * to fall asleep and wake again, and its peer pays 10-45 µs per notify, while
 * the gap between two of the peer's batches is usually a few µs: a short poll
 * that sees the next batch saves the sleep and the ring. The caller polls in
 * the state where the peer does not ring (reader: interrupt mask still set;
 * writer: no pending send size yet), so nobody pays for a notify meanwhile.
 * The C reference (`ring-ref.c`, `spin_before_sleep`) polls the same way.
 * Each spin is counted, with whether it ran out and its time, into the
 * control block.
 */
export class SpinBeforeSleep {
  readonly #words: Int32Array;
  readonly #nanos: BigInt64Array;
  readonly #budgetNs: bigint;
  readonly #spins: number;
  readonly #timedOut: number;
  readonly #spinning: number;

  /** `spinUs` 0: {@link poll} never polls, the worker sleeps at once. */
  constructor(words: Int32Array, side: ThroughputSide, spinUs: number) {
    this.#words = words;
    this.#nanos = benchNanos(words);
    this.#budgetNs = BigInt(Math.round(spinUs * 1000));
    this.#spins = side === 'writer' ? BENCH_WORD.writerSpins : BENCH_WORD.readerSpins;
    this.#timedOut = side === 'writer' ? BENCH_WORD.writerSpinsTimedOut : BENCH_WORD.readerSpinsTimedOut;
    this.#spinning = side === 'writer' ? BENCH_NANOS.writerSpinning : BENCH_NANOS.readerSpinning;
  }

  /**
   * Polls `cleared` until it returns true (true: no need to sleep) or the
   * budget runs out (false: arm the doorbell and sleep as usual).
   */
  poll(cleared: () => boolean): boolean {
    if (this.#budgetNs === 0n) return false;
    const start = process.hrtime.bigint();
    const deadline = start + this.#budgetNs;
    let caught = true;
    for (let polls = 1; !cleared(); polls++) {
      if (polls % POLLS_PER_CLOCK === 0 && process.hrtime.bigint() >= deadline) {
        caught = false;
        break;
      }
    }
    Atomics.add(this.#nanos, this.#spinning, process.hrtime.bigint() - start);
    Atomics.add(this.#words, this.#spins, 1);
    if (!caught) Atomics.add(this.#words, this.#timedOut, 1);
    return caught;
  }
}
