import type { ThroughputMode } from './ring-bench-plan.js';

/**
 * Raw figures from one ring benchmark run, the same shape whether kmcl's
 * engine or the C reference produced them; rates and percentiles are derived
 * from these in one place (`ring-figures.ts`).
 */

/**
 * Nanoseconds each throughput thread spent in doorbell calls during the
 * measured window: ringing its peer (the notify or futex-wake call alone)
 * and asleep (from deciding to sleep until awake again); and polling before
 * a sleep (spinning runs; 0 otherwise).
 */
export interface DoorbellNanos {
  readonly writerRinging: number;
  readonly writerAsleep: number;
  readonly writerSpinning: number;
  readonly readerRinging: number;
  readonly readerAsleep: number;
  readonly readerSpinning: number;
}

/** Polls before a sleep each throughput thread ran, and how many ran out of time (then it slept). */
export interface SpinCounts {
  readonly writer: number;
  readonly writerTimedOut: number;
  readonly reader: number;
  readonly readerTimedOut: number;
}

/** One throughput run: packets the reader received during the measured window. */
export interface ThroughputMeasurement {
  readonly payloadBytes: number;
  readonly packets: number;
  readonly seconds: number;
  /** Writer → reader doorbells rung (empty → non-empty with the mask clear). */
  readonly signalsToReader: number;
  /** Reader → writer doorbells rung (free space crossed pending send size). */
  readonly signalsToWriter: number;
  readonly readerSleeps: number;
  readonly writerSleeps: number;
  /** Spins before sleeping (absent: the run did not count them, as the `kmcl` benchmark's runs do not). */
  readonly spins?: SpinCounts;
  /** Time in doorbell calls (absent: the run did not time them, as the `kmcl` benchmark's runs do not). */
  readonly doorbellNanos?: DoorbellNanos;
}

/** Round trips of one request (completion requested) and its completion, in nanoseconds. */
export interface LatencyMeasurement {
  readonly requestBytes: number;
  readonly completionBytes: number;
  readonly samplesNs: readonly number[];
}

/** The repeated throughput runs of one payload size (trials interleave with the other implementation's). */
export interface ThroughputSeries {
  readonly payloadBytes: number;
  readonly trials: readonly ThroughputMeasurement[];
}

/** A throughput series with the mode (publishing, spinning) it ran in. */
export interface ThroughputModeSeries extends ThroughputSeries {
  readonly mode: ThroughputMode;
}

/** Which ring implementation produced a measurement. */
export type RingImplementation = 'kmcl' | 'c';

/** Everything one implementation measured. */
export interface RingMeasurement {
  readonly implementation: RingImplementation;
  readonly ringDataBytes: number;
  /** One series per payload size and mode, in the order the plan runs them. */
  readonly throughput: readonly ThroughputModeSeries[];
  readonly latency: LatencyMeasurement;
}
