import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ThroughputSeries } from '../../bench/ring/ring-measurement.js';
import { RING_THROUGHPUT_TARGETS, throughputRatio } from '../../bench/suites/ring-suite.js';

function series(payloadBytes: number, ...packetsPerSecond: number[]): ThroughputSeries {
  return {
    payloadBytes,
    trials: packetsPerSecond.map((packets) => ({
      payloadBytes,
      packets,
      seconds: 1,
      signalsToReader: 0,
      signalsToWriter: 0,
      readerSleeps: 0,
      writerSleeps: 0,
    })),
  };
}

test('the targets are the issue’s: 64 B at least half of C, 16 KiB at least 0.8 of C, 1 KiB none', () => {
  assert.deepEqual([...RING_THROUGHPUT_TARGETS], [
    [64, 0.5],
    [16384, 0.8],
  ]);
});

test('ours/C is the median of trial-by-trial ratios and marks the target met or not', () => {
  const cases: [ThroughputSeries, ThroughputSeries, number, boolean | undefined][] = [
    // Trial ratios 0.25, 0.5, 0.75: the median pair, not median 3 / median 4 (a trial where C was lucky does not count).
    [series(64, 1, 3, 9), series(64, 4, 6, 12), 0.5, true],
    [series(64, 1, 3, 9), series(64, 4, 100, 2), 0.25, false],
    [series(64, 2), series(64, 5), 0.4, false],
    [series(16384, 8), series(16384, 10), 0.8, true],
    [series(16384, 7), series(16384, 10), 0.7, false],
    [series(1024, 5), series(1024, 10), 0.5, undefined],
  ];
  for (const [ours, c, value, met] of cases) {
    const ratio = throughputRatio(ours, c);
    assert.equal(ratio.name, `ring.ratio.throughput.${ours.payloadBytes}B`);
    assert.equal(ratio.unit, 'ours/C');
    assert.equal(ratio.value, value);
    assert.equal(ratio.target?.met, met);
  }
});

test('spinning runs carry the spin in their name and keep the batched targets; one-at-a-time runs have none', () => {
  const spinning = throughputRatio(series(64, 3), series(64, 4), { publishing: 'batched', spinBeforeSleepUs: 50 });
  assert.equal(spinning.name, 'ring.ratio.throughput.64B.spin50us');
  assert.deepEqual(spinning.target, { atLeast: 0.5, met: true });
  const oneAtATime = throughputRatio(series(64, 3), series(64, 4), { publishing: 'one-at-a-time', spinBeforeSleepUs: 50 });
  assert.equal(oneAtATime.name, 'ring.ratio.throughput.64B.one-at-a-time.spin50us');
  assert.equal(oneAtATime.target, undefined);
});

test('a C run that moved nothing gives a ratio of 0, not Infinity', () => {
  assert.equal(throughputRatio(series(64, 5), series(64, 0)).value, 0);
});
