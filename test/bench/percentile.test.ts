import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import { median, medianPairedRatio, percentile, summarizeLatency } from '../../bench/harness/percentile.js';
import { testSeed } from '../support/seed.js';

test('percentile uses the nearest rank, never interpolating', () => {
  const sorted = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
  const cases: [number, number][] = [
    [10, 10],
    [11, 20],
    [50, 50],
    [55, 60],
    [99, 100],
    [100, 100],
  ];
  for (const [p, expected] of cases) assert.equal(percentile(sorted, p), expected, `p${p}`);
});

test('percentile of a single value is that value at every rank', () => {
  for (const p of [0.1, 50, 99.9, 100]) assert.equal(percentile([7], p), 7);
});

test('percentile rejects no values and ranks outside (0, 100]', () => {
  assert.throws(() => percentile([], 50), RangeError);
  for (const p of [0, -1, 100.5, Number.NaN]) assert.throws(() => percentile([1, 2], p), RangeError, `p=${p}`);
});

test('summarizeLatency sorts its input and reports p50, p99 and p999', () => {
  // 1..1000 shuffled deterministically: p50 is the 500th value, p99 the 990th, p999 the 999th.
  const values = Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 1000) + 1);
  assert.deepEqual(summarizeLatency(values), { samples: 1000, p50: 500, p99: 990, p999: 999 });
});

test('percentile returns an observed value with at least p% of values at or below it', () => {
  const seed = testSeed('percentile nearest-rank property');
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 200 }),
      fc.double({ min: 0.01, max: 100, noNaN: true }),
      (values, p) => {
        const sorted = [...values].sort((a, b) => a - b);
        const result = percentile(sorted, p);
        assert.ok(sorted.includes(result));
        const atOrBelow = sorted.filter((v) => v <= result).length;
        const below = sorted.filter((v) => v < result).length;
        // Compared as counts (scaled by 100) with a tolerance for float noise in p.
        assert.ok(atOrBelow * 100 >= p * sorted.length - 1e-6);
        // ...and it is the smallest such value.
        assert.ok(below * 100 < p * sorted.length + 1e-6);
      },
    ),
    { seed },
  );
});

test('median is the lower middle of unsorted values, 0 for none', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2);
  assert.equal(median([]), 0);
});

test('medianPairedRatio pairs trials by index, not a fast trial of one side with a slow one of the other', () => {
  // Trial 2 ran while the machine was busy for both: the paired ratios are 0.5, 0.5, 0.5.
  assert.equal(medianPairedRatio([10, 20, 2], [20, 40, 4]), 0.5);
  // The ratio of the medians would say 10 / 20 = 0.5 here too, but 0.6 / 0.6 / 0.1 pairs to 0.6.
  assert.equal(medianPairedRatio([6, 12, 1], [10, 20, 10]), 0.6);
  // A denominator of 0 (a side that measured nothing) drops its pair; extra trials of one side are ignored.
  assert.equal(medianPairedRatio([1, 3, 5], [0, 6]), 0.5);
  assert.equal(medianPairedRatio([1], [0]), 0);
});
