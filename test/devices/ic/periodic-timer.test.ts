/**
 * The host services' periodic timer on a seeded scheduler: a tick at once,
 * then one per interval; stopping it (or a tick returning false) leaves
 * nothing scheduled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeriodicTimer } from '../../../src/devices/ic/host/periodic-timer.js';
import { SeededScheduler } from '../../../src/hv/index.js';
import { testSeed } from '../../support/seed.js';

const INTERVAL = 1000;

function rig(seed: number, tick: (at: number) => boolean = () => true): { scheduler: SeededScheduler; timer: PeriodicTimer; ticks: number[] } {
  const scheduler = new SeededScheduler(seed);
  const ticks: number[] = [];
  const timer = new PeriodicTimer(scheduler, INTERVAL, () => {
    ticks.push(scheduler.now());
    return tick(scheduler.now());
  });
  return { scheduler, timer, ticks };
}

test('start ticks at once and then every interval; stop mid-interval cancels the next tick', (t) => {
  const { scheduler, timer, ticks } = rig(testSeed(t.name));
  timer.start();
  scheduler.runUntil(2500);
  assert.deepEqual(ticks, [0, 1000, 2000]);
  assert.equal(scheduler.pending, 1, 'the tick at 3000 waits');
  timer.stop();
  assert.equal(scheduler.pending, 0, 'stopped: nothing left scheduled');
  scheduler.runUntilIdle();
  assert.equal(scheduler.now(), 2500, 'the clock never went to the cancelled tick');
  timer.stop();
  assert.deepEqual(ticks, [0, 1000, 2000]);
});

test('start on a running timer starts over from now, with one tick scheduled', (t) => {
  const { scheduler, timer, ticks } = rig(testSeed(t.name));
  timer.start();
  scheduler.runUntil(1500);
  timer.start();
  assert.equal(scheduler.pending, 1);
  scheduler.runUntil(3600);
  assert.deepEqual(ticks, [0, 1000, 1500, 2500, 3500]);
  timer.stop();
  assert.equal(scheduler.pending, 0);
});

test('a tick that returns false stops the timer; a tick that stops or restarts it ends its own run', (t) => {
  const seed = testSeed(t.name);
  const ending = rig(seed, (at) => at < 2000);
  ending.timer.start();
  ending.scheduler.runUntilIdle();
  assert.deepEqual(ending.ticks, [0, 1000, 2000]);
  assert.equal(ending.scheduler.pending, 0);

  let timer: PeriodicTimer | undefined;
  const stopping = rig(seed, (at) => {
    if (at === 1000) timer!.stop();
    return true;
  });
  timer = stopping.timer;
  timer.start();
  stopping.scheduler.runUntilIdle();
  assert.deepEqual(stopping.ticks, [0, 1000]);

  let restarted = false;
  const restarting = rig(seed, (at) => {
    if (at === 1000 && !restarted) {
      restarted = true;
      timer!.start();
    }
    return true;
  });
  timer = restarting.timer;
  timer.start();
  restarting.scheduler.runUntil(2500);
  assert.deepEqual(restarting.ticks, [0, 1000, 1000, 2000], 'the restart ticks at once, and only its run goes on');
  assert.equal(restarting.scheduler.pending, 1);
  timer.stop();
});
