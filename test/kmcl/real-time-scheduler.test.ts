/**
 * realTimeScheduler defers on the Node event loop; its cancel clears the
 * timer or immediate, so a cancelled task neither runs nor holds the process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realTimeScheduler } from '../../src/index.js';

const HOUR = 36_000_000_000;

/** Refed timers or immediates of this thread: what keeps the process alive. */
const active = (kind: 'Timeout' | 'Immediate'): number => process.getActiveResourcesInfo().filter((resource) => resource === kind).length;

test('realTimeScheduler: a cancelled timer or immediate is cleared at once and never runs; cancel is idempotent', async () => {
  const timeouts = active('Timeout');
  const immediates = active('Immediate');
  const ran: string[] = [];
  const cancelTimer = realTimeScheduler.schedule(() => ran.push('timer'), HOUR);
  const cancelImmediate = realTimeScheduler.schedule(() => ran.push('immediate'), 0);
  assert.equal(active('Timeout'), timeouts + 1);
  assert.equal(active('Immediate'), immediates + 1);
  cancelTimer();
  cancelImmediate();
  cancelTimer();
  assert.equal(active('Timeout'), timeouts, 'nothing holds the process');
  assert.equal(active('Immediate'), immediates);
  await new Promise<void>((resolve) => realTimeScheduler.schedule(resolve, 10_000));
  assert.deepEqual(ran, []);
});

test('realTimeScheduler: cancelling a task that already ran does nothing', async () => {
  let runs = 0;
  let cancel = (): void => undefined;
  await new Promise<void>((resolve) => {
    cancel = realTimeScheduler.schedule(() => {
      runs++;
      resolve();
    }, 0);
  });
  cancel();
  assert.equal(runs, 1);
});
