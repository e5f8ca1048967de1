/**
 * Raw figures from one ring benchmark run, the same shape whether kmcl's
 * engine or the C reference produced them; rates and percentiles are derived
 * from these in one place (`ring-figures.ts`).
 */

/**
 * Nanoseconds each throughput thread spent in doorbell calls during the
 * measured window: ringing its peer (the notify or futex-wake call alone)
 * and asleep (from deciding to sleep until awake again).
 */
export interface DoorbellNanos {
  readonly writerRinging: number;
  readonly writerAsleep: number;
  readonly readerRinging: number;
  readonly readerAsleep: number;
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

/** Which ring implementation produced a measurement. */
export type RingImplementation = 'kmcl' | 'c';

/** Everything one implementation measured. */
export interface RingMeasurement {
  readonly implementation: RingImplementation;
  readonly ringDataBytes: number;
  /** Batched runs (the plan's write and read batches), one series per payload size. */
  readonly throughput: readonly ThroughputSeries[];
  /** Runs that publish after every packet on both sides (absent: the plan ran none). */
  readonly oneAtATime?: readonly ThroughputSeries[];
  readonly latency: LatencyMeasurement;
}
