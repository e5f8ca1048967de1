import assert from 'node:assert/strict';
import { test } from 'node:test';

import { RING_BENCH_PLAN } from '../../bench/ring/ring-bench-plan.js';
import { ringRunSteps, throughputCases } from '../../bench/ring/ring-runner.js';

test('every configuration runs sleeping at once and then spinning, batched sizes first', () => {
  const plan = { ...RING_BENCH_PLAN, payloadSizes: [64, 16384], oneAtATimeSizes: [64], spinBeforeSleepUs: 50 };
  assert.deepEqual(
    throughputCases(plan).map(({ payloadBytes, mode }) => `${mode.publishing} ${payloadBytes} ${mode.spinBeforeSleepUs}`),
    ['batched 64 0', 'batched 64 50', 'batched 16384 0', 'batched 16384 50', 'one-at-a-time 64 0', 'one-at-a-time 64 50'],
  );
  // Two implementations: trials × cases each, and one latency run each.
  assert.equal(ringRunSteps({ ...plan, trials: 3 }, 2), 2 * (3 * 6 + 1));
});

test('a plan that does not spin runs each configuration once, sleeping at once', () => {
  const plan = { ...RING_BENCH_PLAN, payloadSizes: [64], oneAtATimeSizes: [], spinBeforeSleepUs: 0 };
  assert.deepEqual(throughputCases(plan), [{ payloadBytes: 64, mode: { publishing: 'batched', spinBeforeSleepUs: 0 } }]);
});
