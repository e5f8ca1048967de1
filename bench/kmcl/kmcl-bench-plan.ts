/**
 * What `npm run bench -- kmcl` measures: the same rings, payload, windows and
 * durations for the raw ring engine, the KMCL interface table and the
 * idiomatic API, so their figures compare.
 */
import { RING_BENCH_PLAN } from '../ring/ring-bench-plan.js';

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
}

export const KMCL_BENCH_PLAN: KmclBenchPlan = {
  dataBytes: RING_BENCH_PLAN.dataBytes,
  payloadBytes: 64,
  completionBytes: 16,
  window: 256,
  streamPackets: 64,
  trials: 3,
  warmupMs: 300,
  durationMs: 1000,
  writeBatch: RING_BENCH_PLAN.writeBatch,
  readBatch: RING_BENCH_PLAN.readBatch,
  latencyWarmup: RING_BENCH_PLAN.latencyWarmup,
  latencySamples: RING_BENCH_PLAN.latencySamples,
};
