import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BenchRegistry } from '../../bench/harness/registry.js';
import type { SubBenchmark } from '../../bench/harness/sub-benchmark.js';

function named(name: string): SubBenchmark {
  return { name, description: `${name} benchmark`, run: () => Promise.resolve({ results: [], tables: [], notes: [] }) };
}

function names(selection: ReturnType<BenchRegistry['select']>): string[] {
  assert.ok(selection.ok);
  return selection.selected.map((b) => b.name);
}

const registry = new BenchRegistry().register(named('ring')).register(named('c')).register(named('bus'));

test('no names selects every sub-benchmark in registration order', () => {
  assert.deepEqual(names(registry.select([])), ['ring', 'c', 'bus']);
});

test('names select in the order asked, each once', () => {
  assert.deepEqual(names(registry.select(['c', 'ring', 'c'])), ['c', 'ring']);
});

test('unknown names are all reported and nothing is selected', () => {
  assert.deepEqual(registry.select(['ring', 'nope', 'idle']), { ok: false, unknown: ['nope', 'idle'] });
});

test('registering a name twice is refused', () => {
  assert.throws(() => new BenchRegistry().register(named('ring')).register(named('ring')), /registered twice/);
});
