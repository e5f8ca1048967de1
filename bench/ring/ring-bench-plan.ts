/**
 * What the `ring` benchmark measures, shared by the TypeScript run and the C
 * reference so both do exactly the same work.
 */
export interface RingBenchPlan {
  /** Data area of each ring (a control page comes on top). */
  readonly dataBytes: number;
  /** In-band payload sizes for the throughput runs. */
  readonly payloadSizes: readonly number[];
  /**
   * Throughput runs per payload size and implementation. The figure reported
   * is the median trial; trials of kmcl and C alternate, so background load on
   * a shared machine hits both alike.
   */
  readonly trials: number;
  /** Unmeasured time before each throughput window (JIT, caches, steady state). */
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Packets written before the write index is published (and the reader maybe signalled). */
  readonly writeBatch: number;
  /** Packets read before the read index is published (and the writer maybe signalled). */
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

const RING_DATA_BYTES = 256 * 1024;

/** The plan `npm run bench -- ring` runs: about 35 s in all on a 2-core machine. */
export const RING_BENCH_PLAN: RingBenchPlan = {
  dataBytes: RING_DATA_BYTES,
  payloadSizes: [64, 1024, 16384],
  trials: 3,
  warmupMs: 300,
  durationMs: 1000,
  writeBatch: 32,
  readBatch: 64,
  // What kmcl's RingWriter.requestSpace asks for at least: a quarter of the largest packet (size - 8),
  // rounded up to 8, as OpenVMM's writer does (openvmm-vmbus.md §4.2 item 3).
  pendingFloor: Math.ceil(Math.floor((RING_DATA_BYTES - 8) / 4) / 8) * 8,
  latencyRequestBytes: 64,
  latencyWarmup: 2000,
  latencySamples: 30000,
};
