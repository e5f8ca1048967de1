import assert from 'node:assert/strict';
import { test } from 'node:test';

import { kmclRingRunner } from '../../bench/ring/kmcl-ring-run.js';
import type { RingBenchPlan } from '../../bench/ring/ring-bench-plan.js';

/**
 * A tiny plan: a 16 KiB ring holds only three 4 KiB packets, so the writer
 * keeps hitting a full ring and the pending-send-size path runs too. The
 * workers check every sequence number and transaction id themselves.
 */
const TINY_PLAN: RingBenchPlan = {
  dataBytes: 16384,
  payloadSizes: [64, 4096],
  trials: 1,
  spinBeforeSleepUs: 50,
  warmupMs: 10,
  durationMs: 60,
  writeBatch: 8,
  readBatch: 16,
  pendingFloor: 4096,
  latencyRequestBytes: 64,
  latencyWarmup: 10,
  latencySamples: 50,
};

test('smoke: kmcl throughput workers stream checked packets through a small ring', async () => {
  const runner = kmclRingRunner(TINY_PLAN);
  for (const payloadBytes of TINY_PLAN.payloadSizes) {
    const measurement = await runner.throughput(payloadBytes);
    assert.equal(measurement.payloadBytes, payloadBytes);
    assert.ok(measurement.packets > 0, `${payloadBytes} B: no packet arrived`);
    assert.ok(measurement.seconds > 0);
    assert.deepEqual(measurement.spins, { writer: 0, writerTimedOut: 0, reader: 0, readerTimedOut: 0 }, 'sleeping at once never spins');
  }
});

test('smoke: spinning workers poll before they sleep, and still deliver every packet in order', async () => {
  const runner = kmclRingRunner(TINY_PLAN);
  for (const publishing of ['batched', 'one-at-a-time'] as const) {
    // 4 KiB packets fill the 16 KiB ring at once: the writer waits for room, the reader for packets.
    const measurement = await runner.throughput(4096, { publishing, spinBeforeSleepUs: TINY_PLAN.spinBeforeSleepUs });
    assert.ok(measurement.packets > 0, `${publishing}: no packet arrived`);
    const spins = measurement.spins;
    assert.ok(spins !== undefined && spins.writer + spins.reader > 0, `${publishing}: nobody spun`);
    assert.ok(spins.writerTimedOut <= spins.writer && spins.readerTimedOut <= spins.reader);
  }
});

test('smoke: kmcl latency workers complete every request, one sample per round trip', async () => {
  const latency = await kmclRingRunner(TINY_PLAN).latency();
  assert.equal(latency.requestBytes, 64);
  assert.equal(latency.completionBytes, 16);
  assert.equal(latency.samplesNs.length, TINY_PLAN.latencySamples);
  assert.ok(latency.samplesNs.every((ns) => ns > 0));
});
