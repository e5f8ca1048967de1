import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BENCH_NANOS, BENCH_WORD, allocateBenchControl, benchNanos } from '../../bench/ring/bench-control.js';
import { POLLS_PER_CLOCK, SpinBeforeSleep } from '../../bench/ring/spin-before-sleep.js';

test('a spin of 0 µs never polls: the worker sleeps at once and nothing is counted', () => {
  const words = allocateBenchControl();
  let polls = 0;
  assert.equal(new SpinBeforeSleep(words, 'reader', 0).poll(() => ++polls > 0), false);
  assert.equal(polls, 0);
  assert.equal(Atomics.load(words, BENCH_WORD.readerSpins), 0);
});

test('a spin stops as soon as the condition clears, and counts one caught spin', () => {
  const words = allocateBenchControl();
  let polls = 0;
  assert.equal(new SpinBeforeSleep(words, 'writer', 1_000_000).poll(() => ++polls === 3), true);
  assert.equal(polls, 3);
  assert.equal(Atomics.load(words, BENCH_WORD.writerSpins), 1);
  assert.equal(Atomics.load(words, BENCH_WORD.writerSpinsTimedOut), 0);
  assert.equal(Atomics.load(words, BENCH_WORD.readerSpins), 0, 'the other side’s counters stay untouched');
  assert.ok(Atomics.load(benchNanos(words), BENCH_NANOS.writerSpinning) > 0n);
});

test('a spin whose condition never clears gives up after its budget, in whole rounds of polls between clock reads', () => {
  const words = allocateBenchControl();
  let polls = 0;
  const spinUs = 200;
  assert.equal(new SpinBeforeSleep(words, 'reader', spinUs).poll(() => (polls++, false)), false);
  assert.equal(polls % POLLS_PER_CLOCK, 0);
  assert.equal(Atomics.load(words, BENCH_WORD.readerSpins), 1);
  assert.equal(Atomics.load(words, BENCH_WORD.readerSpinsTimedOut), 1);
  // Not a speed figure: the spin lasted at least its budget.
  assert.ok(Atomics.load(benchNanos(words), BENCH_NANOS.readerSpinning) >= BigInt(spinUs * 1000));
});
