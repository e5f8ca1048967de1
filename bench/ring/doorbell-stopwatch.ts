import { BENCH_NANOS, benchNanos } from './bench-control.js';
import type { Doorbell } from './doorbell.js';

/** The end of a throughput run a worker plays. */
export type ThroughputSide = 'writer' | 'reader';

/**
 * Times one throughput worker's doorbell calls into the control block: each
 * ring (the notify call alone) and each sleep (from the decision to sleep
 * until awake again), as nanosecond totals the main thread samples with the
 * counters. The clock is read only around those calls, never per packet:
 * about 0.15 µs per call on a 2-vCPU EPYC VM, against rings and sleeps of
 * microseconds.
 */
export class DoorbellStopwatch {
  readonly #nanos: BigInt64Array;
  readonly #ringing: number;
  readonly #asleep: number;

  constructor(words: Int32Array, side: ThroughputSide) {
    this.#nanos = benchNanos(words);
    this.#ringing = side === 'writer' ? BENCH_NANOS.writerRinging : BENCH_NANOS.readerRinging;
    this.#asleep = side === 'writer' ? BENCH_NANOS.writerAsleep : BENCH_NANOS.readerAsleep;
  }

  /** Rings `bell`, adding the time the ring took. */
  ring(bell: Doorbell): void {
    const start = process.hrtime.bigint();
    bell.ring();
    Atomics.add(this.#nanos, this.#ringing, process.hrtime.bigint() - start);
  }

  /** Sleeps on `bell` past ticket `seen`, adding the time until awake again. */
  sleep(bell: Doorbell, seen: number): void {
    const start = process.hrtime.bigint();
    bell.sleep(seen);
    Atomics.add(this.#nanos, this.#asleep, process.hrtime.bigint() - start);
  }
}
