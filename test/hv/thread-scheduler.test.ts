/**
 * ThreadScheduler timers are real event-loop timers: a cancelled one neither
 * runs nor keeps its thread alive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

test('a cancelled timer does not run and does not keep its thread alive; cancelling after the task ran is a no-op', { timeout: 60_000 }, async () => {
  const worker = new Worker(new URL('./cancelled-timers.worker.js', import.meta.url));
  const exited = once(worker, 'exit');
  const [ran] = (await once(worker, 'message')) as [string[]];
  assert.deepEqual(ran, ['1 ms']);
  // Had the hour-long timer survived its cancel, the worker would still be running (and the test time out).
  const [code] = (await exited) as [number];
  assert.equal(code, 0);
});
