/**
 * Running a seeded simulation with devices that keep periodic timers: the
 * clock moves only when nothing is due, so work that takes promise reactions
 * between ticks settles at its virtual time; idle and deadlines end the wait.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runOnVirtualTime } from '../../src/demo/virtual-time.js';
import { SeededScheduler } from '../../src/hv/index.js';
import { testSeed } from '../support/seed.js';

const SECOND = 10_000_000;

/** A timer every second forever; each tick's work finishes in a promise reaction, as a device's request does. */
function ticker(scheduler: SeededScheduler, onAnswered: (tick: number) => void): void {
  let tick = 0;
  const step = (): void => {
    const n = ++tick;
    void Promise.resolve().then(() => onAnswered(n));
    scheduler.schedule(step, SECOND);
  };
  scheduler.schedule(step, SECOND);
}

test('work that waits on promise reactions between periodic ticks settles at its virtual time', async (t) => {
  const scheduler = new SeededScheduler(testSeed(t.name));
  const answered: [number, number][] = [];
  const third = new Promise<number>((resolve) =>
    ticker(scheduler, (tick) => {
      answered.push([tick, scheduler.now()]);
      if (tick === 3) resolve(scheduler.now());
    }),
  );
  assert.equal(await runOnVirtualTime(scheduler, third, { ms: 60_000, waitingFor: () => 'three ticks' }), 3 * SECOND);
  // Each tick's reaction ran before the clock moved on: no tick was skipped over.
  assert.deepEqual(answered, [
    [1, SECOND],
    [2, 2 * SECOND],
    [3, 3 * SECOND],
  ]);
  assert.equal(scheduler.now(), 3 * SECOND, 'the clock stopped where the work settled');
});

test('a wait that nothing can ever end is rejected at once, saying what it waited for', async (t) => {
  const scheduler = new SeededScheduler(testSeed(t.name));
  await assert.rejects(runOnVirtualTime(scheduler, new Promise<void>(() => undefined), { ms: 60_000, waitingFor: () => 'the guest' }), {
    message: `the simulation (seed ${scheduler.seed}) has nothing left to run while waiting for the guest`,
  });
});

test('a wait that periodic timers keep alive is rejected once the virtual deadline passes', async (t) => {
  const scheduler = new SeededScheduler(testSeed(t.name));
  ticker(scheduler, () => undefined);
  await assert.rejects(runOnVirtualTime(scheduler, new Promise<void>(() => undefined), { ms: 5000, waitingFor: () => 'an answer' }), {
    message: 'gave up after 5000 ms of virtual time waiting for an answer',
  });
  assert.equal(scheduler.now(), 6 * SECOND, 'the first tick past the deadline ended the wait');
});

test('the work\'s own rejection comes through', async (t) => {
  const scheduler = new SeededScheduler(testSeed(t.name));
  const failing = new Promise<void>((_, reject) => scheduler.schedule(() => reject(new Error('refused')), SECOND));
  await assert.rejects(runOnVirtualTime(scheduler, failing, { ms: 60_000, waitingFor: () => 'x' }), { message: 'refused' });
});
