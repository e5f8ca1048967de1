/**
 * What `npm run bench -- kmcl` measures: the same rings, payload, windows and
 * durations for the raw ring engine, the KMCL interface table and the
 * idiomatic API, so their figures compare.
 */
import { RING_BENCH_PLAN } from '../ring/ring-bench-plan.js';

/** One GPA-direct run: bytes of external data per packet and how many transfers stay in flight. */
export interface GpaDirectCase {
  readonly transferBytes: number;
  /**
   * Transfers in flight: enough that the host always has one to copy while
   * the guest thread wakes (~50 µs on a 2-vCPU VM) and resends.
   */
  readonly window: number;
}

export interface KmclBenchPlan {
  /** Data area of each ring (a control page comes on top): the ring benchmark's. */
  readonly dataBytes: number;
  readonly payloadBytes: number;
  /** Bytes of each completion's payload (the ring benchmark's latency run uses the same). */
  readonly completionBytes: number;
  /** Transactions in flight in the send + complete throughput runs. */
  readonly window: number;
  /** Packet objects cycling through the send queue in the one-way (stream) runs. */
  readonly streamPackets: number;
  readonly trials: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Raw sender: requests written per commit; raw receiver: packets read per commit (the ring benchmark's batches). */
  readonly writeBatch: number;
  readonly readBatch: number;
  readonly latencyWarmup: number;
  readonly latencySamples: number;
  /** GPA-direct transfers (VmbPacketSendWithExternalMdl → VmbChannelPacketGetExternalData, copy, complete). */
  readonly gpaDirect: readonly GpaDirectCase[];
}

export const KMCL_BENCH_PLAN: KmclBenchPlan = {
  dataBytes: RING_BENCH_PLAN.dataBytes,
  payloadBytes: 64,
  completionBytes: 16,
  window: 256,
  streamPackets: 64,
  // Short windows, five trials, medians (ratios trial by trial): `npm run bench` (every sub-benchmark) stays near 5 minutes.
  trials: 5,
  warmupMs: 250,
  durationMs: 400,
  writeBatch: RING_BENCH_PLAN.writeBatch,
  readBatch: RING_BENCH_PLAN.readBatch,
  latencyWarmup: RING_BENCH_PLAN.latencyWarmup,
  latencySamples: RING_BENCH_PLAN.latencySamples,
  // Windows above the KMCL's 64-packet drain batch: the host publishes the completions of one batch while it
  // copies the next, so the guest resends meanwhile instead of host and guest taking turns. 96 × 1 MiB
  // descriptors (~2 KiB each) still fit the 256 KiB ring, so the guest never waits for ring space.
  gpaDirect: [
    { transferBytes: 64 * 1024, window: 128 },
    { transferBytes: 1024 * 1024, window: 96 },
  ],
};
