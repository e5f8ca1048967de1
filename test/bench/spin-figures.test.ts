import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { RingMeasurement, ThroughputMeasurement } from '../../bench/ring/ring-measurement.js';
import { spinFigures, spinResults, spinTable } from '../../bench/ring/spin-figures.js';

/** 10,000 packets in 0.5 s; the writer spun 20 times (5 ran out) for 50 ms, the reader 40 times (none ran out) for 0.1 s. */
const SPUN: ThroughputMeasurement = {
  payloadBytes: 16384,
  packets: 10_000,
  seconds: 0.5,
  signalsToReader: 0,
  signalsToWriter: 5,
  readerSleeps: 0,
  writerSleeps: 5,
  spins: { writer: 20, writerTimedOut: 5, reader: 40, readerTimedOut: 0 },
  doorbellNanos: {
    writerRinging: 0,
    writerAsleep: 0,
    writerSpinning: 50_000_000,
    readerRinging: 0,
    readerAsleep: 0,
    readerSpinning: 100_000_000,
  },
};

function measurement(spinning: ThroughputMeasurement, sleeping: ThroughputMeasurement): RingMeasurement {
  return {
    implementation: 'c',
    ringDataBytes: 262144,
    throughput: [
      { payloadBytes: 16384, mode: { publishing: 'batched', spinBeforeSleepUs: 0 }, trials: [sleeping] },
      { payloadBytes: 16384, mode: { publishing: 'batched', spinBeforeSleepUs: 50 }, trials: [spinning] },
    ],
    latency: { requestBytes: 64, completionBytes: 16, samplesNs: [1000] },
  };
}

test('spin figures: spins per 1000 packets, share caught before the deadline, share of the window spent polling', () => {
  assert.deepEqual(spinFigures(SPUN), {
    writer: { spins: 20, spinsPerThousandPackets: 2, microsPerSpin: 2500, caughtPercent: 75, spinningPercent: 10 },
    reader: { spins: 40, spinsPerThousandPackets: 4, microsPerSpin: 2500, caughtPercent: 100, spinningPercent: 20 },
  });
});

test('a run that never spun has shares of 0, not NaN; a run that did not count spins has no figures', () => {
  const quiet = spinFigures({ ...SPUN, packets: 0, seconds: 0, spins: { writer: 0, writerTimedOut: 0, reader: 0, readerTimedOut: 0 } });
  assert.deepEqual(quiet?.writer, { spins: 0, spinsPerThousandPackets: 0, microsPerSpin: 0, caughtPercent: 0, spinningPercent: 0 });
  const { spins: _uncounted, ...untimed } = SPUN;
  assert.equal(spinFigures(untimed), undefined);
});

test('only spinning runs get spin results and table rows', () => {
  const results = spinResults('ring.c', measurement(SPUN, SPUN));
  assert.deepEqual([...new Set(results.map((r) => r.name))], ['ring.c.spin.writer.16384B.spin50us', 'ring.c.spin.reader.16384B.spin50us']);
  assert.deepEqual(
    results.filter((r) => r.name === 'ring.c.spin.writer.16384B.spin50us').map((r) => [r.unit, r.value]),
    [
      ['spins/1000 packets', 2],
      ['us/spin', 2500],
      ['% of spins caught', 75],
      ['% of time spinning', 10],
    ],
  );
  const table = spinTable('ring', [measurement(SPUN, SPUN)]);
  assert.deepEqual(table.rows, [['c', 'batched', 'spin 50 µs', '16384 B', '2.00', '2,500.0', '75.0', '10.0', '4.00', '2,500.0', '100.0', '20.0']]);
});
