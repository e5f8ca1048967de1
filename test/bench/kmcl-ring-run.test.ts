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
  }
});

test('smoke: kmcl latency workers complete every request, one sample per round trip', async () => {
  const latency = await kmclRingRunner(TINY_PLAN).latency();
  assert.equal(latency.requestBytes, 64);
  assert.equal(latency.completionBytes, 16);
  assert.equal(latency.samplesNs.length, TINY_PLAN.latencySamples);
  assert.ok(latency.samplesNs.every((ns) => ns > 0));
});
