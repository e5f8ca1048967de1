import assert from 'node:assert/strict';
import { test } from 'node:test';

import { medianTrial, ringResults, throughputFigures } from '../../bench/ring/ring-figures.js';
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
    throughput: [{ payloadBytes: 1024, trials: [run(3_000_000), run(30_000), run(6_000_000)] }],
    latency: { requestBytes: 64, completionBytes: 16, samplesNs: [4000, 2000, 3000, 1000] },
  };
  assert.deepEqual(ringResults('c', measurement), [
    { name: 'c.throughput.1024B', unit: 'packets/s', value: 2_000_000 },
    { name: 'c.throughput.1024B', unit: 'MB/s', value: 2048 },
    { name: 'c.latency.p50', unit: 'us', value: 2 },
    { name: 'c.latency.p99', unit: 'us', value: 4 },
    { name: 'c.latency.p999', unit: 'us', value: 4 },
  ]);
});
