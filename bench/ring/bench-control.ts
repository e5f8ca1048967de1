/**
 * The words benchmark threads share besides the rings: start and stop flags,
 * two doorbells and the counters the main thread samples. Each group sits on
 * its own 64-byte line, written by one thread, so counters do not slow the
 * ring traffic through false sharing (the C reference lays them out alike).
 */
import { Doorbell } from './doorbell.js';

const LINE_WORDS = 16;
/** 64-bit words per 64-byte line. */
const LINE_NANOS = 8;

export const BENCH_WORD = {
  /** Set by the main thread once every worker is ready, so all start together. */
  go: 0,
  stop: 1,
  /** Writer → reader (throughput), client → server (latency). */
  forwardDoorbell: LINE_WORDS,
  /** Reader → writer (throughput), server → client (latency). */
  backwardDoorbell: 2 * LINE_WORDS,
  // Written by the throughput reader.
  received: 3 * LINE_WORDS,
  signalsToWriter: 3 * LINE_WORDS + 1,
  readerSleeps: 3 * LINE_WORDS + 2,
  /** Polls before sleeping (spinning runs), and those that ran out of time. */
  readerSpins: 3 * LINE_WORDS + 3,
  readerSpinsTimedOut: 3 * LINE_WORDS + 4,
  // Written by the throughput writer.
  signalsToReader: 4 * LINE_WORDS,
  writerSleeps: 4 * LINE_WORDS + 1,
  writerSpins: 4 * LINE_WORDS + 2,
  writerSpinsTimedOut: 4 * LINE_WORDS + 3,
} as const;

/**
 * Nanosecond totals in the same block, as indices of a BigInt64Array over it
 * ({@link benchNanos}): the time a throughput worker spent in doorbell calls
 * and polling before sleeps.
 * Each sits in the second half of the line its thread already writes.
 */
export const BENCH_NANOS = {
  /** In `Atomics.notify` ringing the writer. */
  readerRinging: 3 * LINE_NANOS + 4,
  /** From deciding to sleep until awake again. */
  readerAsleep: 3 * LINE_NANOS + 5,
  /** Polling before a sleep (spinning runs). */
  readerSpinning: 3 * LINE_NANOS + 6,
  writerRinging: 4 * LINE_NANOS + 4,
  writerAsleep: 4 * LINE_NANOS + 5,
  writerSpinning: 4 * LINE_NANOS + 6,
} as const;

/** A zeroed control block in a SharedArrayBuffer. */
export function allocateBenchControl(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(5 * LINE_WORDS * 4));
}

/** The control block's 64-bit words, where {@link BENCH_NANOS} points. */
export function benchNanos(words: Int32Array): BigInt64Array {
  return new BigInt64Array(words.buffer, words.byteOffset, words.length >>> 1);
}

/** Whether the main thread asked the workers to stop. */
export function stopRequested(words: Int32Array): boolean {
  return Atomics.load(words, BENCH_WORD.stop) !== 0;
}

/** Blocks a worker until the main thread sets `go`. */
export function waitForGo(words: Int32Array): void {
  while (Atomics.load(words, BENCH_WORD.go) === 0) Atomics.wait(words, BENCH_WORD.go, 0);
}

/** Releases every worker waiting in {@link waitForGo}. */
export function signalGo(words: Int32Array): void {
  Atomics.store(words, BENCH_WORD.go, 1);
  Atomics.notify(words, BENCH_WORD.go);
}

/** Tells every worker to stop and wakes any that sleeps on a doorbell, so each sees the flag. */
export function requestStop(words: Int32Array): void {
  Atomics.store(words, BENCH_WORD.stop, 1);
  new Doorbell(words, BENCH_WORD.forwardDoorbell).ring();
  new Doorbell(words, BENCH_WORD.backwardDoorbell).ring();
}
