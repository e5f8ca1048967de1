/**
 * Heartbeat end to end in one thread (seeded): the host device on the KMCL
 * server interface, the guest driver on the client interface, the real buses
 * between them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeartbeatVsc } from '../../../src/devices/ic/guest/index.js';
import { HeartbeatVsp, type HeartbeatReport } from '../../../src/devices/ic/host/index.js';
import { HEARTBEAT_APPLICATION_STATE } from '../../../src/devices/ic/protocol/index.js';
import { testSeed } from '../../support/seed.js';
import { IcMachine } from './support/ic-machine.js';
import { openSilentHeartbeatGuest } from './support/silent-heartbeat-guest.js';

const V3 = { framework: { major: 3, minor: 0 }, message: { major: 3, minor: 0 } };

test('heartbeat: the host beats every interval once negotiated and reports each beat with the guest\'s state', async (t) => {
  const m = new IcMachine(testSeed(t.name));
  const beats: HeartbeatReport[] = [];
  const vsp = new HeartbeatVsp({ device: m.hostDeviceObject, intervalMs: 100, onBeat: (beat) => beats.push(beat) });
  assert.equal(vsp.ic.state, 'closed', 'offered, not opened yet');
  await m.connect();
  const start = m.ms;
  const vsc = new HeartbeatVsc({ device: m.device });
  await m.settle();
  assert.equal(vsp.ic.state, 'ready');
  assert.deepEqual(vsp.ic.versions, V3);
  assert.deepEqual(vsc.ic.versions, V3);
  assert.equal(beats.length, 1, 'the first beat goes out as soon as the versions are agreed');
  await m.advance(300);
  // The host sends n, the guest answers n + 1 (linux-vmbus.md §A.5.4), and the host sends that next.
  assert.deepEqual(beats.map((b) => b.sequenceNumber), [1n, 2n, 3n, 4n]);
  assert.deepEqual(beats.map((b) => Math.round((b.time / 10_000 - start) / 100)), [0, 1, 2, 3], 'one beat per 100 ms');
  assert.ok(beats.every((b) => b.applicationState === HEARTBEAT_APPLICATION_STATE.HEALTHY));
  vsc.applicationState = HEARTBEAT_APPLICATION_STATE.CRITICAL;
  await m.advance(100);
  assert.equal(vsp.lastBeat?.applicationState, HEARTBEAT_APPLICATION_STATE.CRITICAL);
  assert.deepEqual(vsp.counts, { beats: 5, missed: 0 });
  assert.deepEqual(vsc.ic.counters, { answered: 6, failed: 0, refused: 0, unsent: 0 });

  await m.drive(vsc.stop());
  assert.equal(vsp.ic.state, 'closed', 'the guest closed the channel');
  await m.advance(500);
  assert.equal(beats.length, 5, 'no beats to a closed channel');
  await m.drive(vsp.stop());
});

test('heartbeat: a guest that negotiates but never answers a beat is reported missed, and the host negotiates afresh', async (t) => {
  const m = new IcMachine(testSeed(t.name));
  const missed: bigint[] = [];
  let negotiations = 0;
  const vsp = new HeartbeatVsp({
    device: m.hostDeviceObject,
    intervalMs: 100,
    onMissed: (sequenceNumber) => missed.push(sequenceNumber),
    onNegotiated: () => negotiations++,
  });
  await m.connect();
  // A silent guest on the same public plumbing: it answers negotiations only; a beat is refused (no answer).
  const silent = openSilentHeartbeatGuest(m);
  await m.settle();
  assert.equal(negotiations, 1);
  await m.advance(250);
  assert.ok(missed.length >= 2, `beats missed: ${missed.length}`);
  assert.ok(missed.every((n) => n === 0n), 'the unanswered beat is number 0');
  assert.equal(negotiations, missed.length + 1, 'each missed beat is followed by a new negotiation');
  assert.equal(vsp.counts.beats, 0);
  await m.drive(silent.stop());
  await m.drive(vsp.stop());
});
