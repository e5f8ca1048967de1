import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { BenchEnvironment } from '../../bench/harness/bench-result.js';
import { runBenchmarks } from '../../bench/harness/run-benchmarks.js';
import type { BenchObserver } from '../../bench/harness/run-benchmarks.js';
import { sharedKey } from '../../bench/harness/sub-benchmark.js';
import type { SubBenchmark } from '../../bench/harness/sub-benchmark.js';

const ENVIRONMENT: BenchEnvironment = { node: 'v20.0.0', cpus: 2, cpuModel: 'test', platform: 'linux', arch: 'x64' };

function recordingObserver(log: string[]): BenchObserver {
  return {
    progressFor: (benchmark) => ({
      begin: (total) => log.push(`${benchmark.name} begin ${total}`),
      step: (label) => log.push(`${benchmark.name} step ${label}`),
      finish: () => log.push(`${benchmark.name} finish`),
    }),
    finished: (benchmark) => log.push(`${benchmark.name} finished`),
    failed: (benchmark) => log.push(`${benchmark.name} failed`),
  };
}

test('a value shared by one sub-benchmark is found by the later ones; the first share stays', async () => {
  const key = sharedKey<number>('expensive');
  let computations = 0;
  const user = (name: string): SubBenchmark => ({
    name,
    description: name,
    run: (context) => {
      const value = context.findShared(key) ?? ++computations * 10;
      context.share(key, value);
      context.share(key, -1);
      return Promise.resolve({ results: [{ name: `${name}.value`, unit: 'x', value }], tables: [], notes: [] });
    },
  });
  const report = await runBenchmarks([user('a'), user('b')], ENVIRONMENT, recordingObserver([]));
  assert.equal(computations, 1);
  assert.deepEqual(report.results, [
    { name: 'a.value', unit: 'x', value: 10 },
    { name: 'b.value', unit: 'x', value: 10 },
  ]);
});

test('shared values do not outlive one invocation', async () => {
  const key = sharedKey<string>('run');
  const seen: (string | undefined)[] = [];
  const user: SubBenchmark = {
    name: 'u',
    description: 'u',
    run: (context) => {
      seen.push(context.findShared(key));
      context.share(key, 'measured');
      return Promise.resolve({ results: [], tables: [], notes: [] });
    },
  };
  await runBenchmarks([user], ENVIRONMENT, recordingObserver([]));
  await runBenchmarks([user], ENVIRONMENT, recordingObserver([]));
  assert.deepEqual(seen, [undefined, undefined]);
});

test('a failing sub-benchmark is recorded, its bar removed, and the next one still runs', async () => {
  const log: string[] = [];
  const failing: SubBenchmark = {
    name: 'bad',
    description: 'fails',
    run: (context) => {
      context.progress.begin(2);
      return Promise.reject(new Error('worker died'));
    },
  };
  const passing: SubBenchmark = {
    name: 'good',
    description: 'passes',
    run: (context) => {
      context.progress.step('one');
      return Promise.resolve({ results: [], tables: [], notes: ['fine'] });
    },
  };
  const report = await runBenchmarks([failing, passing], ENVIRONMENT, recordingObserver(log));
  assert.deepEqual(report.failures, [{ benchmark: 'bad', note: 'worker died' }]);
  assert.deepEqual(report.notes, [{ benchmark: 'good', note: 'fine' }]);
  assert.deepEqual(report.environment, ENVIRONMENT);
  assert.deepEqual(log, ['bad begin 2', 'bad finish', 'bad failed', 'good step one', 'good finish', 'good finished']);
});
