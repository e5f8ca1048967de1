import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  medianTrial,
  modeLabel,
  modesNote,
  ringResults,
  runResultName,
  throughputFigures,
  trialsTable,
} from '../../bench/ring/ring-figures.js';
import { RING_BENCH_PLAN } from '../../bench/ring/ring-bench-plan.js';
import type { RingMeasurement, ThroughputMeasurement } from '../../bench/ring/ring-measurement.js';

function run(packets: number, seconds = 1.5): ThroughputMeasurement {
  return {
    payloadBytes: 1024,
    packets,
    seconds,
    signalsToReader: 1500,
    signalsToWriter: 1500,
    readerSleeps: 1500,
    writerSleeps: 1500,
  };
}

test('throughput figures: packets/s and MB/s of payload (10^6 bytes)', () => {
  assert.deepEqual(throughputFigures(run(3_000_000)), {
    payloadBytes: 1024,
    packetsPerSecond: 2_000_000,
    megabytesPerSecond: 2048,
  });
});

test('throughput figures of an empty window are zero, not NaN or Infinity', () => {
  const figures = throughputFigures(run(0, 0));
  assert.equal(figures.packetsPerSecond, 0);
  assert.equal(figures.megabytesPerSecond, 0);
});

test('the median trial is ranked by rate, the lower middle one for an even count', () => {
  const slow = run(1_000_000, 1);
  const middle = run(4_000_000, 2); // 2M/s: more packets than `fast`, but a lower rate
  const fast = run(1_500_000, 0.5);
  const fastest = run(9_000_000, 1);
  assert.equal(medianTrial({ payloadBytes: 1024, trials: [fast, slow, fastest] }), fast);
  assert.equal(medianTrial({ payloadBytes: 1024, trials: [fastest, middle, fast, slow] }), middle);
  assert.throws(() => medianTrial({ payloadBytes: 1024, trials: [] }), RangeError);
});

test('ring results use the median trial and are named per implementation, size and percentile', () => {
  const measurement: RingMeasurement = {
    implementation: 'c',
    ringDataBytes: 262144,
    throughput: [
      { payloadBytes: 1024, mode: { publishing: 'batched', spinBeforeSleepUs: 0 }, trials: [run(3_000_000), run(30_000), run(6_000_000)] },
      { payloadBytes: 1024, mode: { publishing: 'batched', spinBeforeSleepUs: 50 }, trials: [run(4_500_000)] },
    ],
    latency: { requestBytes: 64, completionBytes: 16, samplesNs: [4000, 2000, 3000, 1000] },
  };
  assert.deepEqual(ringResults('c', measurement), [
    { name: 'c.throughput.1024B', unit: 'packets/s', value: 2_000_000 },
    { name: 'c.throughput.1024B', unit: 'MB/s', value: 2048 },
    { name: 'c.throughput.1024B.spin50us', unit: 'packets/s', value: 3_000_000 },
    { name: 'c.throughput.1024B.spin50us', unit: 'MB/s', value: 3072 },
    { name: 'c.latency.p50', unit: 'us', value: 2 },
    { name: 'c.latency.p99', unit: 'us', value: 4 },
    { name: 'c.latency.p999', unit: 'us', value: 4 },
  ]);
});

test('result names add the publishing mode and the spin; labels say how a run waits', () => {
  assert.equal(runResultName('ring.kmcl', 'throughput', 64), 'ring.kmcl.throughput.64B');
  assert.equal(runResultName('ring.kmcl', 'throughput', 64, { publishing: 'batched', spinBeforeSleepUs: 50 }), 'ring.kmcl.throughput.64B.spin50us');
  assert.equal(
    runResultName('ring.c', 'doorbell.reader', 16384, { publishing: 'one-at-a-time', spinBeforeSleepUs: 20 }),
    'ring.c.doorbell.reader.16384B.one-at-a-time.spin20us',
  );
  assert.equal(modeLabel({ publishing: 'one-at-a-time', spinBeforeSleepUs: 0 }), 'one-at-a-time, sleep at once');
  assert.equal(modeLabel({ publishing: 'batched', spinBeforeSleepUs: 50 }), 'batched, spin 50 µs');
});

test('the trials table has a row per series, with its wait', () => {
  const measurement: RingMeasurement = {
    implementation: 'kmcl',
    ringDataBytes: 262144,
    throughput: [
      { payloadBytes: 64, mode: { publishing: 'batched', spinBeforeSleepUs: 0 }, trials: [run(1_000_000)] },
      { payloadBytes: 64, mode: { publishing: 'batched', spinBeforeSleepUs: 50 }, trials: [run(2_000_000)] },
    ],
    latency: { requestBytes: 64, completionBytes: 16, samplesNs: [1000] },
  };
  const rows = trialsTable('ring', [measurement]).rows;
  assert.deepEqual(rows.map((row) => row.slice(0, 5)), [
    ['kmcl', 'batched', 'sleep at once', '64 B', '0.667'],
    ['kmcl', 'batched', 'spin 50 µs', '64 B', '1.333'],
  ]);
});

test('the modes note explains the spin only when the plan spins', () => {
  assert.match(modesNote(RING_BENCH_PLAN), new RegExp(`spin ${RING_BENCH_PLAN.spinBeforeSleepUs} µs: it first polls`));
  assert.doesNotMatch(modesNote({ ...RING_BENCH_PLAN, spinBeforeSleepUs: 0 }), /spin/);
});
