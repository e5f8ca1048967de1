/**
 * What the `ring` benchmark measures, shared by the TypeScript run and the C
 * reference so both do exactly the same work.
 */
export interface RingBenchPlan {
  /** Data area of each ring (a control page comes on top). */
  readonly dataBytes: number;
  /** In-band payload sizes for the throughput runs (batched). */
  readonly payloadSizes: readonly number[];
  /**
   * Sizes that also run one packet at a time: both sides publish their index
   * and decide whether to signal after every packet (absent: none).
   */
  readonly oneAtATimeSizes?: readonly number[];
  /**
   * Throughput runs per payload size, publishing mode and implementation. The
   * figure reported is the median trial; trials of kmcl and C alternate, so
   * background load on a shared machine hits both alike.
   */
  readonly trials: number;
  /**
   * The spinning runs: µs a throughput worker polls the ring for what it
   * waits for (a packet, room for one) before it arms its doorbell and sleeps.
   * Every throughput configuration runs once sleeping at once and once
   * spinning this long first; 0 runs only the former.
   */
  readonly spinBeforeSleepUs: number;
  /** Unmeasured time before each throughput window (JIT, caches, steady state). */
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Batched runs: packets written before the write index is published (and the reader maybe signalled). */
  readonly writeBatch: number;
  /** Batched runs: packets read before the read index is published (and the writer maybe signalled). */
  readonly readBatch: number;
  /**
   * Least pending send size a blocked writer asks for, so it is not woken for
   * every freed packet. kmcl's engine computes it itself; the C reference is told.
   */
  readonly pendingFloor: number;
  readonly latencyRequestBytes: number;
  readonly latencyWarmup: number;
  readonly latencySamples: number;
}

/**
 * How often each side publishes its ring index (and decides whether to ring
 * the peer): once per batch of the plan, or after every packet.
 */
export type RingPublishing = 'batched' | 'one-at-a-time';

/**
 * How a throughput run behaves besides its payload size: how often the sides
 * publish, and how long a side polls before it sleeps (0: it sleeps at once).
 */
export interface ThroughputMode {
  readonly publishing: RingPublishing;
  readonly spinBeforeSleepUs: number;
}

/** The mode of a run nobody configured: batched, sleeping at once. */
export const BATCHED_SLEEP_AT_ONCE: ThroughputMode = { publishing: 'batched', spinBeforeSleepUs: 0 };

/** Packets per publish at the writer and at the reader. */
export interface RingBatches {
  readonly writeBatch: number;
  readonly readBatch: number;
}

/** The batches a publishing mode uses under `plan`. */
export function batchesOf(plan: RingBenchPlan, publishing: RingPublishing): RingBatches {
  return publishing === 'batched' ? { writeBatch: plan.writeBatch, readBatch: plan.readBatch } : { writeBatch: 1, readBatch: 1 };
}

const RING_DATA_BYTES = 256 * 1024;
const ALL_SIZES = [64, 256, 1024, 16384];

/**
 * The plan `npm run bench -- ring` runs: 4 sizes × 2 publishing modes × 2
 * waits × 2 implementations × 5 trials of 0.2 + 0.4 s, about 2 min on a
 * 2-core machine. The windows are short so that `npm run bench` (every
 * sub-benchmark) stays near 5 minutes; five trials and medians (of rates, and
 * of trial-by-trial ours/C ratios) keep a noisy neighbour, or a trial where
 * the scheduler put both threads on one core, from deciding a figure.
 */
export const RING_BENCH_PLAN: RingBenchPlan = {
  dataBytes: RING_DATA_BYTES,
  payloadSizes: ALL_SIZES,
  oneAtATimeSizes: ALL_SIZES,
  trials: 5,
  // Measured on a 2-vCPU EPYC VM: when each thread has a core, the longest gap between the peer's batches is
  // 20-35 µs (16 KiB: the peer copies the ~15 packets the ring holds); 20 µs caught only a quarter of those
  // waits, 50 µs nearly all, and 100-200 µs caught no more while every futile spin (the threads sharing
  // one core under other load) costs its whole budget.
  spinBeforeSleepUs: 50,
  warmupMs: 200,
  durationMs: 400,
  writeBatch: 32,
  readBatch: 64,
  // What kmcl's RingWriter.requestSpace asks for at least: a quarter of the largest packet (size - 8),
  // rounded up to 8, as OpenVMM's writer does (openvmm-vmbus.md §4.2 item 3).
  pendingFloor: Math.ceil(Math.floor((RING_DATA_BYTES - 8) / 4) / 8) * 8,
  latencyRequestBytes: 64,
  latencyWarmup: 2000,
  latencySamples: 30000,
};
