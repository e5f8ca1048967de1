import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseLatencyLine, parseThroughputLine } from '../../bench/c/ring-ref-output.js';
import { ringRefLatencyArguments, ringRefThroughputArguments } from '../../bench/c/ring-ref-run.js';
import { RING_BENCH_PLAN } from '../../bench/ring/ring-bench-plan.js';

const COUNTS = {
  payloadBytes: 64,
  packets: 1000,
  seconds: 1.5,
  signalsToReader: 3,
  signalsToWriter: 2,
  readerSleeps: 3,
  writerSleeps: 2,
};
const SPINS = { writerSpins: 7, writerSpinsTimedOut: 2, readerSpins: 9, readerSpinsTimedOut: 3 };
const NANOS = {
  writerRingingNs: 30000,
  writerAsleepNs: 40000,
  writerSpinningNs: 7000,
  readerRingingNs: 5000,
  readerAsleepNs: 90000,
  readerSpinningNs: 9000,
};
const THROUGHPUT = { ...COUNTS, ...SPINS, ...NANOS };
const LATENCY = { requestBytes: 64, completionBytes: 16, samplesNs: [5000, 7000] };

test('well-formed ring-ref lines parse into measurements', () => {
  assert.deepEqual(parseThroughputLine(JSON.stringify(THROUGHPUT)), {
    ...COUNTS,
    spins: { writer: 7, writerTimedOut: 2, reader: 9, readerTimedOut: 3 },
    doorbellNanos: {
      writerRinging: 30000,
      writerAsleep: 40000,
      writerSpinning: 7000,
      readerRinging: 5000,
      readerAsleep: 90000,
      readerSpinning: 9000,
    },
  });
  assert.deepEqual(parseLatencyLine(JSON.stringify(LATENCY)), LATENCY);
});

test('malformed ring-ref throughput lines are reported, never thrown', () => {
  const cases: [string, string, RegExp][] = [
    ['not JSON', '{"payloadBytes":', /not JSON/],
    ['an array', '[]', /not a JSON object/],
    ['null', 'null', /not a JSON object/],
    ['negative packet count', JSON.stringify({ ...THROUGHPUT, packets: -1 }), /valid packets/],
    ['seconds as text', JSON.stringify({ ...THROUGHPUT, seconds: '1.5' }), /valid seconds/],
    ['missing writer sleeps', JSON.stringify({ ...THROUGHPUT, writerSleeps: undefined }), /valid writerSleeps/],
    ['missing reader ringing time', JSON.stringify({ ...THROUGHPUT, readerRingingNs: undefined }), /valid readerRingingNs/],
    ['negative writer sleep time', JSON.stringify({ ...THROUGHPUT, writerAsleepNs: -5 }), /valid writerAsleepNs/],
    ['missing reader spins', JSON.stringify({ ...THROUGHPUT, readerSpins: undefined }), /valid readerSpins/],
    ['writer spin time as text', JSON.stringify({ ...THROUGHPUT, writerSpinningNs: '7' }), /valid writerSpinningNs/],
  ];
  for (const [label, line, message] of cases) {
    const parsed = parseThroughputLine(line);
    assert.ok('error' in parsed, label);
    assert.match(parsed.error, message, label);
  }
});

test('malformed ring-ref latency lines are reported, never thrown', () => {
  const cases: [string, string, RegExp][] = [
    ['empty output', '', /not JSON/],
    ['fractional request size', JSON.stringify({ ...LATENCY, requestBytes: 1.5 }), /packet sizes/],
    ['completion size as text', JSON.stringify({ ...LATENCY, completionBytes: '16' }), /packet sizes/],
    ['no samples', JSON.stringify({ ...LATENCY, samplesNs: [] }), /samples/],
    ['samples not a list', JSON.stringify({ ...LATENCY, samplesNs: 5 }), /samples/],
    ['non-number sample', JSON.stringify({ ...LATENCY, samplesNs: [1, 'x'] }), /samples/],
  ];
  for (const [label, line, message] of cases) {
    const parsed = parseLatencyLine(line);
    assert.ok('error' in parsed, label);
    assert.match(parsed.error, message, label);
  }
});

function optionsOf(args: readonly string[]): Record<string, string> {
  const options: Record<string, string> = {};
  for (let i = 1; i < args.length; i += 2) options[args[i] as string] = args[i + 1] as string;
  return options;
}

test('ring-ref throughput trials get the plan, the payload size and the mode', () => {
  const args = ringRefThroughputArguments(RING_BENCH_PLAN, 1024);
  assert.equal(args[0], 'throughput');
  assert.deepEqual(optionsOf(args), {
    '--data-bytes': String(RING_BENCH_PLAN.dataBytes),
    '--payload-bytes': '1024',
    '--warmup-ms': String(RING_BENCH_PLAN.warmupMs),
    '--duration-ms': String(RING_BENCH_PLAN.durationMs),
    '--write-batch': String(RING_BENCH_PLAN.writeBatch),
    '--read-batch': String(RING_BENCH_PLAN.readBatch),
    '--pending-floor': String(RING_BENCH_PLAN.pendingFloor),
    '--spin-before-sleep-us': '0',
  });
  const spinning = optionsOf(ringRefThroughputArguments(RING_BENCH_PLAN, 64, { publishing: 'one-at-a-time', spinBeforeSleepUs: 50 }));
  assert.equal(spinning['--spin-before-sleep-us'], '50');
  assert.equal(spinning['--write-batch'], '1');
  assert.equal(spinning['--read-batch'], '1');
});

test('ring-ref latency gets the plan', () => {
  const args = ringRefLatencyArguments(RING_BENCH_PLAN);
  assert.equal(args[0], 'latency');
  assert.deepEqual(optionsOf(args), {
    '--data-bytes': String(RING_BENCH_PLAN.dataBytes),
    '--request-bytes': String(RING_BENCH_PLAN.latencyRequestBytes),
    '--warmup': String(RING_BENCH_PLAN.latencyWarmup),
    '--samples': String(RING_BENCH_PLAN.latencySamples),
  });
});

test('the plan tells C the pending-send-size floor kmcl computes: a quarter of size - 8, rounded up to 8', () => {
  // 256 KiB ring: (262144 - 8) / 4 = 65534, rounded up to 8 = 65536 (openvmm-vmbus.md §4.2 item 3).
  assert.equal(RING_BENCH_PLAN.dataBytes, 262144);
  assert.equal(RING_BENCH_PLAN.pendingFloor, 65536);
});
