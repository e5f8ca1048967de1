import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Doorbell } from '../../bench/ring/doorbell.js';

test('ringing a doorbell moves its ticket', () => {
  const words = new Int32Array(new SharedArrayBuffer(16));
  const bell = new Doorbell(words, 2);
  assert.equal(bell.ticket(), 0);
  bell.ring();
  bell.ring();
  assert.equal(bell.ticket(), 2);
  assert.deepEqual([...words], [0, 0, 2, 0]);
});

test('a sleeper holding a stale ticket returns at once: a ring between check and sleep is not lost', () => {
  const words = new Int32Array(new SharedArrayBuffer(4));
  const bell = new Doorbell(words, 0);
  const seen = bell.ticket();
  bell.ring();
  // Would block forever if the ring were lost (Atomics.wait is allowed on Node's main thread).
  bell.sleep(seen);
  assert.equal(bell.ticket(), seen + 1);
});
