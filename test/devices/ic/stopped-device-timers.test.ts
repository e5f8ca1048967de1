/**
 * A host IC device stopped mid-interval leaves nothing scheduled: its
 * periodic tick and the timeout of a request still waiting are cancelled, so
 * the seeded clock has nowhere left to go (and a real-time process nothing
 * holding it open).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeartbeatVsc, TimeSyncVsc } from '../../../src/devices/ic/guest/index.js';
import { HeartbeatVsp, TimeSyncVsp } from '../../../src/devices/ic/host/index.js';
import { testSeed } from '../../support/seed.js';
import { IcMachine } from './support/ic-machine.js';
import { openSilentHeartbeatGuest } from './support/silent-heartbeat-guest.js';

/** Runs the simulation until nothing is left and returns how far its clock moved, in ms. */
function leftover(m: IcMachine): number {
  const before = m.ms;
  m.scheduler.runUntilIdle();
  return m.ms - before;
}

test('heartbeat and time sync stopped between ticks: no tick and no timeout is left scheduled', async (t) => {
  const m = new IcMachine(testSeed(t.name));
  const heartbeat = new HeartbeatVsp({ device: m.hostDeviceObject, intervalMs: 100 });
  const timeSync = new TimeSyncVsp({ device: m.hostDeviceObject, intervalMs: 300 });
  await m.connect();
  const guests = [new HeartbeatVsc({ device: m.device }), new TimeSyncVsc({ device: m.device })];
  await m.settle();
  await m.advance(150);
  assert.ok(heartbeat.counts.beats >= 2);
  await m.drive(Promise.all([heartbeat.stop(), timeSync.stop()]));
  assert.equal(leftover(m), 0, 'the clock has no timer left to move to');
  assert.equal(m.scheduler.pending, 0);
  await m.drive(Promise.all(guests.map((guest) => guest.stop())));
});

test('heartbeat stopped while a beat waits for its answer: the beat ends "closed", and its timeout is cancelled', async (t) => {
  const m = new IcMachine(testSeed(t.name));
  const missed: bigint[] = [];
  const heartbeat = new HeartbeatVsp({ device: m.hostDeviceObject, intervalMs: 100, onMissed: (n) => missed.push(n) });
  await m.connect();
  // Answers negotiations only: the first beat stays open until its timeout.
  const silent = openSilentHeartbeatGuest(m);
  await m.advance(50);
  assert.equal(heartbeat.ic.pending, 1, 'a beat waits for its answer');
  await m.drive(heartbeat.stop());
  assert.equal(heartbeat.ic.pending, 0);
  assert.equal(leftover(m), 0);
  assert.deepEqual(missed, [], 'stopping is not a missed beat');
  await m.drive(silent.stop());
});
