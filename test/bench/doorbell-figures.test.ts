import assert from 'node:assert/strict';
import { test } from 'node:test';

import { doorbellFigures, doorbellNote, doorbellResults, doorbellTable } from '../../bench/ring/doorbell-figures.js';
import type { RingMeasurement, ThroughputMeasurement } from '../../bench/ring/ring-measurement.js';

/** 10,000 packets in 0.5 s; the writer rang 4 times and slept twice, the reader rang twice and slept 5 times. */
const TIMED: ThroughputMeasurement = {
  payloadBytes: 64,
  packets: 10_000,
  seconds: 0.5,
  signalsToReader: 4,
  signalsToWriter: 2,
  readerSleeps: 5,
  writerSleeps: 2,
  doorbellNanos: {
    writerRinging: 40_000,
    writerAsleep: 100_000_000,
    writerSpinning: 0,
    readerRinging: 5_000,
    readerAsleep: 250_000_000,
    readerSpinning: 0,
  },
};

function measurement(trial: ThroughputMeasurement): RingMeasurement {
  return {
    implementation: 'kmcl',
    ringDataBytes: 262144,
    throughput: [
      { payloadBytes: 64, mode: { publishing: 'batched', spinBeforeSleepUs: 0 }, trials: [trial] },
      { payloadBytes: 64, mode: { publishing: 'one-at-a-time', spinBeforeSleepUs: 50 }, trials: [trial] },
    ],
    latency: { requestBytes: 64, completionBytes: 16, samplesNs: [1000] },
  };
}

test('doorbell figures: mean µs per ring and per sleep, ringing per 1000 packets, shares of the window', () => {
  assert.deepEqual(doorbellFigures(TIMED), {
    writer: {
      rings: 4,
      sleeps: 2,
      microsPerRing: 10,
      ringingMicrosPerThousandPackets: 4,
      ringingPercent: 0.008,
      microsPerSleep: 50_000,
      asleepPercent: 20,
    },
    reader: {
      rings: 2,
      sleeps: 5,
      microsPerRing: 2.5,
      ringingMicrosPerThousandPackets: 0.5,
      ringingPercent: 0.001,
      microsPerSleep: 50_000,
      asleepPercent: 50,
    },
  });
});

test('a side that never rang or slept has means of 0, not NaN; an untimed run has no figures', () => {
  const quiet = doorbellFigures({ ...TIMED, signalsToReader: 0, writerSleeps: 0, packets: 0, seconds: 0 });
  assert.equal(quiet?.writer.microsPerRing, 0);
  assert.equal(quiet?.writer.microsPerSleep, 0);
  assert.equal(quiet?.writer.ringingMicrosPerThousandPackets, 0);
  assert.equal(quiet?.writer.ringingPercent, 0);
  const { doorbellNanos: _untimed, ...counts } = TIMED;
  assert.equal(doorbellFigures(counts), undefined);
  assert.deepEqual(doorbellResults('ring.kmcl', measurement(counts)), []);
  assert.equal(doorbellNote(measurement(counts)), undefined);
});

test('doorbell results are named per side, size and mode', () => {
  const results = doorbellResults('ring.kmcl', measurement(TIMED));
  const names = [...new Set(results.map((r) => r.name))];
  assert.deepEqual(names, [
    'ring.kmcl.doorbell.writer.64B',
    'ring.kmcl.doorbell.reader.64B',
    'ring.kmcl.doorbell.writer.64B.one-at-a-time.spin50us',
    'ring.kmcl.doorbell.reader.64B.one-at-a-time.spin50us',
  ]);
  const writer = results.filter((r) => r.name === 'ring.kmcl.doorbell.writer.64B');
  assert.deepEqual(
    writer.map((r) => [r.unit, r.value]),
    [
      ['us/ring', 10],
      ['us ringing/1000 packets', 4],
      ['% of time ringing', 0.008],
      ['us/sleep', 50_000],
      ['% of time asleep', 20],
    ],
  );
});

test('the doorbell table has a row per run and the note states each side’s share of time', () => {
  const table = doorbellTable('ring', [measurement(TIMED)]);
  assert.equal(table.rows.length, 2);
  assert.deepEqual(table.rows[0], ['kmcl', 'batched', 'sleep at once', '64 B', '10.00', '4.0', '0.0', '50,000.0', '2.50', '0.5', '0.0', '50,000.0']);
  const note = doorbellNote(measurement(TIMED)) ?? '';
  assert.match(note, /asleep, the writer 20% and the reader 50%/);
  assert.match(note, /A ring cost 2\.5–10\.0 µs \(writer 10\.0, reader 2\.5 at 64 B batched, sleep at once\)/);
});
