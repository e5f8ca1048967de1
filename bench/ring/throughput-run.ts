import { BENCH_NANOS, BENCH_WORD, allocateBenchControl, benchNanos, requestStop, signalGo } from './bench-control.js';
import { allocateBenchRing, READER_MASKED } from './bench-ring.js';
import { BenchWorker, runFor } from './bench-worker.js';
import { BATCHED_SLEEP_AT_ONCE, batchesOf, type RingBenchPlan, type ThroughputMode } from './ring-bench-plan.js';
import type { DoorbellNanos, ThroughputMeasurement } from './ring-measurement.js';

/** What each throughput worker gets: the shared ring and control words, its batch size and how it waits. */
export interface ThroughputWorkerData {
  /** The whole ring (control page + data) over a SharedArrayBuffer. */
  readonly ring: Uint8Array;
  readonly control: Int32Array;
  readonly payloadBytes: number;
  /** Packets per commit: the write batch for the writer, the read batch for the reader. */
  readonly batch: number;
  /** µs to poll before arming the doorbell and sleeping (0: sleep at once). */
  readonly spinBeforeSleepUs: number;
}

interface CounterSample {
  readonly atNs: bigint;
  readonly received: number;
  readonly signalsToReader: number;
  readonly signalsToWriter: number;
  readonly readerSleeps: number;
  readonly writerSleeps: number;
  readonly readerSpins: number;
  readonly readerSpinsTimedOut: number;
  readonly writerSpins: number;
  readonly writerSpinsTimedOut: number;
  readonly doorbellNanos: DoorbellNanos;
}

function sampleCounters(words: Int32Array): CounterSample {
  return {
    atNs: process.hrtime.bigint(),
    received: Atomics.load(words, BENCH_WORD.received),
    signalsToReader: Atomics.load(words, BENCH_WORD.signalsToReader),
    signalsToWriter: Atomics.load(words, BENCH_WORD.signalsToWriter),
    readerSleeps: Atomics.load(words, BENCH_WORD.readerSleeps),
    writerSleeps: Atomics.load(words, BENCH_WORD.writerSleeps),
    readerSpins: Atomics.load(words, BENCH_WORD.readerSpins),
    readerSpinsTimedOut: Atomics.load(words, BENCH_WORD.readerSpinsTimedOut),
    writerSpins: Atomics.load(words, BENCH_WORD.writerSpins),
    writerSpinsTimedOut: Atomics.load(words, BENCH_WORD.writerSpinsTimedOut),
    doorbellNanos: sampleNanos(words),
  };
}

/** The doorbell time totals the workers keep in the control block (64-bit: they never wrap). */
function sampleNanos(words: Int32Array): DoorbellNanos {
  const nanos = benchNanos(words);
  const total = (slot: keyof DoorbellNanos): number => Number(Atomics.load(nanos, BENCH_NANOS[slot]));
  return {
    writerRinging: total('writerRinging'),
    writerAsleep: total('writerAsleep'),
    writerSpinning: total('writerSpinning'),
    readerRinging: total('readerRinging'),
    readerAsleep: total('readerAsleep'),
    readerSpinning: total('readerSpinning'),
  };
}

function nanosGrowth(start: DoorbellNanos, end: DoorbellNanos): DoorbellNanos {
  return {
    writerRinging: end.writerRinging - start.writerRinging,
    writerAsleep: end.writerAsleep - start.writerAsleep,
    writerSpinning: end.writerSpinning - start.writerSpinning,
    readerRinging: end.readerRinging - start.readerRinging,
    readerAsleep: end.readerAsleep - start.readerAsleep,
    readerSpinning: end.readerSpinning - start.readerSpinning,
  };
}

/** Counter growth between two samples; the words are 32-bit, so the difference is taken modulo 2^32. */
function growth(start: number, end: number): number {
  return (end - start) >>> 0;
}

/**
 * Streams `payloadBytes` in-band packets from a writer worker to a reader
 * worker through kmcl's ring engine over a SharedArrayBuffer, publishing and
 * waiting as `mode` says, and counts what the reader received during the
 * measured window (after the warm-up).
 */
export async function measureThroughput(
  plan: RingBenchPlan,
  payloadBytes: number,
  mode: ThroughputMode = BATCHED_SLEEP_AT_ONCE,
): Promise<ThroughputMeasurement> {
  const { writeBatch, readBatch } = batchesOf(plan, mode.publishing);
  const control = allocateBenchControl();
  const shared = { ring: allocateBenchRing(plan.dataBytes, READER_MASKED), control, payloadBytes, spinBeforeSleepUs: mode.spinBeforeSleepUs };
  const workers = [
    new BenchWorker<void>(new URL('./throughput-reader-worker.js', import.meta.url), {
      ...shared,
      batch: readBatch,
    } satisfies ThroughputWorkerData),
    new BenchWorker<void>(new URL('./throughput-writer-worker.js', import.meta.url), {
      ...shared,
      batch: writeBatch,
    } satisfies ThroughputWorkerData),
  ];
  try {
    await Promise.all(workers.map((w) => w.ready));
    signalGo(control);
    await runFor(plan.warmupMs, workers);
    const start = sampleCounters(control);
    await runFor(plan.durationMs, workers);
    const end = sampleCounters(control);
    requestStop(control);
    await Promise.all(workers.map((w) => w.ended));
    return {
      payloadBytes,
      packets: growth(start.received, end.received),
      seconds: Number(end.atNs - start.atNs) / 1e9,
      signalsToReader: growth(start.signalsToReader, end.signalsToReader),
      signalsToWriter: growth(start.signalsToWriter, end.signalsToWriter),
      readerSleeps: growth(start.readerSleeps, end.readerSleeps),
      writerSleeps: growth(start.writerSleeps, end.writerSleeps),
      spins: {
        reader: growth(start.readerSpins, end.readerSpins),
        readerTimedOut: growth(start.readerSpinsTimedOut, end.readerSpinsTimedOut),
        writer: growth(start.writerSpins, end.writerSpins),
        writerTimedOut: growth(start.writerSpinsTimedOut, end.writerSpinsTimedOut),
      },
      doorbellNanos: nanosGrowth(start.doorbellNanos, end.doorbellNanos),
    };
  } finally {
    requestStop(control);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
