/**
 * Runs one `kmcl` benchmark measurement: a receiver and a sender worker on
 * two fresh rings, driven through one API, counted over a warm-up and a
 * measured window (throughput) or until the sender has its samples (latency).
 * The figures have the ring benchmark's shape, so its math applies.
 */
import { BENCH_WORD, allocateBenchControl, requestStop, signalGo } from '../ring/bench-control.js';
import { allocateBenchRing } from '../ring/bench-ring.js';
import { BenchWorker, runFor } from '../ring/bench-worker.js';
import type { LatencyMeasurement, ThroughputMeasurement } from '../ring/ring-measurement.js';
import type { KmclBenchPlan } from './kmcl-bench-plan.js';
import type { BenchApi, BenchMode, KmclWorkerData } from './kmcl-worker-data.js';

const WORKER = new URL('./kmcl-bench-worker.js', import.meta.url);

interface Run {
  readonly control: Int32Array;
  readonly receiver: BenchWorker<void>;
  readonly sender: BenchWorker<Float64Array>;
}

function start(plan: KmclBenchPlan, api: BenchApi, mode: BenchMode): Run {
  const control = allocateBenchControl();
  const shared = { api, mode, forward: allocateBenchRing(plan.dataBytes), backward: allocateBenchRing(plan.dataBytes), control, plan };
  return {
    control,
    receiver: new BenchWorker<void>(WORKER, { ...shared, role: 'receiver' } satisfies KmclWorkerData),
    sender: new BenchWorker<Float64Array>(WORKER, { ...shared, role: 'sender' } satisfies KmclWorkerData),
  };
}

async function stopRun(run: Run): Promise<void> {
  requestStop(run.control);
  await Promise.all([run.receiver.terminate(), run.sender.terminate()]);
}

/** The counter words of a run at one instant. */
export interface Counters {
  readonly atNs: bigint;
  readonly values: readonly number[];
}

const COUNTED = [
  BENCH_WORD.received,
  BENCH_WORD.signalsToReader,
  BENCH_WORD.signalsToWriter,
  BENCH_WORD.readerSleeps,
  BENCH_WORD.writerSleeps,
] as const;

/** Reads the counters the workers publish. */
export function sampleCounters(words: Int32Array): Counters {
  return { atNs: process.hrtime.bigint(), values: COUNTED.map((index) => Atomics.load(words, index)) };
}

/** What the counters grew by between two samples, with the time between them. */
export function countersGrowth(before: Counters, after: Counters): Omit<ThroughputMeasurement, 'payloadBytes'> {
  // The words are 32-bit: growth is taken modulo 2^32.
  const [packets, signalsToReader, signalsToWriter, readerSleeps, writerSleeps] = COUNTED.map(
    (_, i) => ((after.values[i] ?? 0) - (before.values[i] ?? 0)) >>> 0,
  );
  return {
    packets: packets!,
    seconds: Number(after.atNs - before.atNs) / 1e9,
    signalsToReader: signalsToReader!,
    signalsToWriter: signalsToWriter!,
    readerSleeps: readerSleeps!,
    writerSleeps: writerSleeps!,
  };
}

/** Packets (stream) or completed transactions per second over the measured window, with the signalling counts. */
export async function measureKmclThroughput(plan: KmclBenchPlan, api: BenchApi, mode: 'stream' | 'transactions'): Promise<ThroughputMeasurement> {
  const run = start(plan, api, mode);
  const workers = [run.receiver, run.sender];
  try {
    await Promise.all(workers.map((worker) => worker.ready));
    signalGo(run.control);
    await runFor(plan.warmupMs, workers);
    const before = sampleCounters(run.control);
    await runFor(plan.durationMs, workers);
    const after = sampleCounters(run.control);
    requestStop(run.control);
    await Promise.all(workers.map((worker) => worker.ended));
    return { payloadBytes: plan.payloadBytes, ...countersGrowth(before, after) };
  } finally {
    await stopRun(run);
  }
}

/** Round trips of one request at a time (VmbPacketSend with completion → completion routine). */
export async function measureKmclLatency(plan: KmclBenchPlan, api: 'kmcl' | 'idiomatic'): Promise<LatencyMeasurement> {
  const run = start(plan, api, 'latency');
  try {
    await Promise.all([run.receiver.ready, run.sender.ready]);
    signalGo(run.control);
    const samples = await Promise.race([
      run.sender.ended,
      run.receiver.ended.then(() => {
        throw new Error('the receiver ended before the sender had its samples');
      }),
    ]);
    if (samples === undefined) throw new Error('the latency sender posted no samples');
    requestStop(run.control);
    await run.receiver.ended;
    return { requestBytes: plan.payloadBytes, completionBytes: plan.completionBytes, samplesNs: Array.from(samples) };
  } finally {
    await stopRun(run);
  }
}
