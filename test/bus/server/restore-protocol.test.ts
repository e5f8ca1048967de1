/**
 * After a restore the guest goes on as if nothing happened: its next messages
 * get the answers they would have got from the old server (exact bytes), and
 * what nobody claimed, what was in flight and what waited is settled as
 * src/bus/server/save.ts and restore.ts document.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerRequestError, type OpenChannelAction } from '../../../src/bus/server/index.js';
import { MemoryError, type GpadlMapping } from '../../../src/memory/index.js';
import { hex } from '../../wire/messages/hex.js';
import {
  gpadlCreatedBytes,
  gpadlTorndownBytes,
  offerBytes,
  openResultBytes,
  pauseResponseBytes,
  rescindBytes,
  versionResponseBytes,
} from './layouts.js';
import {
  STATUS_SUCCESS,
  STATUS_UNSUCCESSFUL,
  V,
  connect,
  connectWithOffers,
  contact,
  createGpadl,
  did,
  openMessage,
  sent,
  setup,
  traced,
  type Env,
} from './harness.js';
import { reclaim, saveAndRestore } from './restore-harness.js';

const IF_A = '0000000a-0000-0000-0000-000000000000';
const INST = (n: number): string => `0000000${n}-0000-0000-0000-000000000000`;
const conn = (channelId: number): number => 0x2000 | channelId; // protocol.rs:271-276 at VTL0, SINT 2
const RING = 0x100;
// Copper feature flags (protocol.rs:154-199).
const PAUSE_RESUME = 0x20;

/**
 * Three offers on channel ids 1-3 at Win10, channel 3 monitored: channel 1 open on ring GPADL 0x100
 * (PFNs 10-13, split 2), channel 2 closed with GPADL 0x200, channel 3 closed.
 */
function threeChannels(version: number = V.Win10): Env {
  const env = setup();
  for (const n of [1, 2, 3]) env.server.offerChannel({ interfaceId: IF_A, instanceId: INST(n), monitored: n === 3 });
  // With monitor pages, so offers carry their monitor ids (channels.rs:3983-4020).
  connect(env, version, 0, { parentToChild: 0x3_0000n, childToParent: 0x3_1000n });
  env.send({ kind: 'RequestOffers' });
  env.notifier.take();
  createGpadl(env, 1, RING, [10, 11, 12, 13]);
  createGpadl(env, 2, 0x200, [20]);
  env.send(openMessage(1, { gpadlId: RING, openId: 1 }));
  const [open] = env.notifier.takeActions();
  assert.ok(open?.type === 'open');
  env.server.openComplete(open.offerId, STATUS_SUCCESS);
  env.notifier.take();
  return env;
}

const ALL = [1, 2, 3].map((n) => ({ interfaceId: IF_A, instanceId: INST(n), monitored: n === 3 }));

test('after a restore the guest opens a new channel, closes an old one and tears down a restored GPADL (exact bytes)', () => {
  const restored = saveAndRestore(threeChannels());
  const [first, second] = reclaim(restored, ALL);
  assert.deepEqual(restored.notifier.take(), []);
  // A new ring GPADL on channel 2 and its open.
  createGpadl(restored, 2, 0x300, [30, 31, 32, 33]);
  restored.send(openMessage(2, { gpadlId: 0x300, openId: 9 }));
  const [open] = restored.notifier.takeActions();
  assert.equal(open?.type, 'open');
  assert.equal((open as OpenChannelAction).offerId, second);
  restored.server.openComplete(second!, STATUS_SUCCESS);
  assert.deepEqual(restored.notifier.take(), [sent(openResultBytes(2, 9, STATUS_SUCCESS))]);
  // The channel that was open before the restore closes; its device (the one that claimed it) is told.
  restored.send({ kind: 'CloseChannel', channelId: 1 });
  assert.deepEqual(restored.notifier.take(), [did({ type: 'close', offerId: first!, channelId: 1 })]);
  // GPADLs created before the restore are torn down as usual.
  restored.send({ kind: 'GpadlTeardown', channelId: 1, gpadlId: RING });
  restored.send({ kind: 'GpadlTeardown', channelId: 2, gpadlId: 0x200 });
  assert.deepEqual(restored.notifier.takeMessages(), [gpadlTorndownBytes(RING), gpadlTorndownBytes(0x200)]);
  assert.deepEqual(restored.server.checkInvariants(), []);
  assert.deepEqual(traced(restored), []);
});

test('restored ids stay taken: a reused GPADL id is refused, a new offer gets the lowest free channel and monitor ids', () => {
  const restored = saveAndRestore(threeChannels());
  reclaim(restored, ALL);
  restored.send({ kind: 'GpadlHeader', channelId: 2, gpadlId: 0x200, len: 16, count: 1, range: [0x1000n, 40n] });
  assert.deepEqual(restored.notifier.takeMessages(), [gpadlCreatedBytes(2, 0x200, STATUS_UNSUCCESSFUL)]);
  restored.server.offerChannel({ interfaceId: IF_A, instanceId: INST(4), monitored: true });
  // Channel 3 holds monitor id 0 (the only monitored offer), so the new one gets 1.
  assert.deepEqual(restored.notifier.takeMessages(), [
    offerBytes({ interfaceId: IF_A, instanceId: INST(4), channelId: 4, connectionId: conn(4), monitorId: 1, monitorAllocated: 1 }),
  ]);
  assert.deepEqual(restored.server.snapshot().monitorIds, [0, 1]);
});

test('ending the restore rescinds what nobody offered again, subchannels first; an unclaimed open channel is offered again after its release', () => {
  const env = setup();
  for (const sub of [0, 1, 2]) env.server.offerChannel({ interfaceId: IF_A, instanceId: INST(1), subchannelIndex: sub });
  env.server.offerChannel({ interfaceId: IF_A, instanceId: INST(2) });
  connectWithOffers(env, V.Win10);
  createGpadl(env, 4, RING, [10, 11, 12, 13]);
  env.send(openMessage(4, { gpadlId: RING }));
  const [open] = env.notifier.takeActions();
  env.server.openComplete((open as OpenChannelAction).offerId, STATUS_SUCCESS);
  env.notifier.take();
  const restored = saveAndRestore(env);
  // Only the open channel's device comes back, and it does not claim its channel.
  const offerId = restored.server.offerChannel({ interfaceId: IF_A, instanceId: INST(2) }) as number;
  assert.equal(restored.server.restoredChannel(offerId)?.state, 'open');
  assert.equal(restored.server.finishRestore(), undefined);
  // Channel ids 1-3 are INST(1)'s primary and subchannels 1, 2; 4 is INST(2).
  assert.deepEqual(restored.notifier.take(), [sent(rescindBytes(2)), sent(rescindBytes(3)), sent(rescindBytes(1)), sent(rescindBytes(4))]);
  assert.equal(restored.server.offerStatus(offerId)?.state, 'reoffered');
  for (const channelId of [1, 2, 3]) restored.send({ kind: 'RelIdReleased', channelId });
  assert.deepEqual(restored.notifier.take(), []);
  // The guest closes the rescinded channel (dropped: the host already stopped it) and releases it.
  restored.send({ kind: 'CloseChannel', channelId: 4 });
  restored.send({ kind: 'RelIdReleased', channelId: 4 });
  assert.deepEqual(restored.notifier.take(), [sent(offerBytes({ interfaceId: IF_A, instanceId: INST(2), channelId: 4, connectionId: conn(4) }))]);
  assert.deepEqual(restored.server.snapshot().table.gpadls, 0, 'the ring GPADL went with the release');
  assert.deepEqual(restored.server.checkInvariants(), []);
});

test('offers made while restoring wait for its end and follow the rescinds (#1681)', () => {
  const env = setup();
  env.server.offerChannel({ interfaceId: IF_A, instanceId: INST(1) });
  connectWithOffers(env, V.Win10);
  const restored = saveAndRestore(env);
  restored.server.offerChannel({ interfaceId: IF_A, instanceId: INST(5) });
  assert.deepEqual(restored.notifier.take(), []);
  assert.equal(restored.server.finishRestore(), undefined);
  assert.deepEqual(restored.notifier.takeMessages(), [
    rescindBytes(1),
    // Channel id 1 stays the unreleased rescinded channel's (#977).
    offerBytes({ interfaceId: IF_A, instanceId: INST(5), channelId: 2, connectionId: conn(2) }),
  ]);
});

test('guest messages that reach a restoring server are handled, in order, once the restore ends', () => {
  const restored = saveAndRestore(threeChannels());
  restored.send({ kind: 'GpadlTeardown', channelId: 2, gpadlId: 0x200 });
  restored.send({ kind: 'CloseChannel', channelId: 1 });
  assert.deepEqual(restored.notifier.take(), []);
  const [first] = reclaim(restored, ALL);
  assert.deepEqual(restored.notifier.take(), [sent(gpadlTorndownBytes(0x200)), did({ type: 'close', offerId: first!, channelId: 1 })]);
});

test('a GPADL saved mid-teardown is torn down when the restore ends, or after the new host unmaps it', () => {
  const env = threeChannels();
  // The old host maps the GPADL when the guest asks for its teardown, and is serviced before it unmaps.
  assert.ok(!(env.server.mapGpadl(0x200, { writable: false }) instanceof MemoryError));
  env.send({ kind: 'GpadlTeardown', channelId: 2, gpadlId: 0x200 });
  assert.equal(env.notifier.takeActions()[0]?.type, 'gpadl-teardown');
  // Unmapped by nobody: GPADL_TORNDOWN at the end of the restore.
  const plain = saveAndRestore(env);
  reclaim(plain, ALL);
  assert.deepEqual(plain.notifier.take(), [sent(gpadlTorndownBytes(0x200))]);
  // Mapped again by the new host before the end: the teardown waits for that unmap, as before.
  const again = saveAndRestore(env);
  const offerIds = ALL.map((params) => again.server.offerChannel(params) as number);
  const remapped = again.server.mapGpadl(0x200, { writable: false, channelId: 2 }) as GpadlMapping;
  for (const offerId of offerIds) again.server.claimRestoredChannel(offerId, again.server.restoredChannel(offerId)?.state === 'open');
  again.server.finishRestore();
  assert.deepEqual(again.notifier.take(), [did({ type: 'gpadl-teardown', offerId: offerIds[1]!, channelId: 2, gpadlId: 0x200 })]);
  again.server.unmapGpadl(remapped);
  assert.deepEqual(again.notifier.take(), [sent(gpadlTorndownBytes(0x200))]);
});

test('a paused server restores paused: RESUME releases the held messages, then the ones decided since', () => {
  const env = setup();
  for (const n of [1, 2]) env.server.offerChannel({ interfaceId: IF_A, instanceId: INST(n) });
  connectWithOffers(env, V.Copper, PAUSE_RESUME);
  env.send({ kind: 'Pause' });
  assert.deepEqual(env.notifier.takeMessages(), [pauseResponseBytes()]);
  env.server.rescindChannel(1);
  assert.deepEqual(env.notifier.take(), []);
  const restored = saveAndRestore(env);
  // INST(2) never comes back: its rescind is decided at the end of the restore, and held too.
  assert.equal(restored.server.finishRestore(), undefined);
  assert.deepEqual(restored.notifier.take(), []);
  restored.send({ kind: 'RequestOffers' });
  assert.deepEqual(traced(restored), [['message-dropped', 'the guest paused the server; only RESUME, UNLOAD or INITIATE_CONTACT are read']]);
  restored.send({ kind: 'Resume' });
  assert.deepEqual(restored.notifier.takeMessages(), [rescindBytes(1), rescindBytes(2)]);
});

test('a channel saved while its device was opening it: claimed open, the guest gets OPEN_RESULT(success) at once', () => {
  const env = setup();
  env.server.offerChannel({ interfaceId: IF_A, instanceId: INST(1) });
  connectWithOffers(env, V.Win10);
  createGpadl(env, 1, RING, [10, 11, 12, 13]);
  env.send(openMessage(1, { gpadlId: RING, openId: 0x77 }));
  env.notifier.take();
  const restored = saveAndRestore(env);
  const offerId = restored.server.offerChannel({ interfaceId: IF_A, instanceId: INST(1) }) as number;
  assert.equal(restored.server.restoredChannel(offerId)?.state, 'opening');
  const early = restored.server.openComplete(offerId, STATUS_SUCCESS);
  assert.ok(early instanceof ServerRequestError && early.code === 'invalid-state', 'no device was asked yet');
  assert.equal(restored.server.claimRestoredChannel(offerId, true), undefined);
  assert.deepEqual(restored.notifier.take(), [sent(openResultBytes(1, 0x77, STATUS_SUCCESS))]);
  assert.equal(restored.server.offerStatus(offerId)?.state, 'open');
});

test('an UNLOAD waiting for the old host to unmap completes when the restore ends (golden UNLOAD_COMPLETE)', () => {
  const env = threeChannels();
  env.server.mapGpadl(0x200, { writable: false });
  env.send({ kind: 'Unload' });
  env.notifier.take();
  assert.equal(env.server.snapshot().connection, 'disconnecting');
  const restored = saveAndRestore(env);
  assert.equal(restored.server.snapshot().connection, 'disconnecting');
  assert.equal(restored.server.finishRestore(), undefined);
  assert.deepEqual(restored.notifier.take(), [
    did({ type: 'disconnected' }),
    sent(hex('11000000 00000000  # type 17 UNLOAD_COMPLETE, header only (openvmm-vmbus.md §6.9)')),
  ]);
});

test('an INITIATE_CONTACT waiting for the old host negotiates when the restore ends', () => {
  const env = threeChannels();
  env.server.mapGpadl(RING, { writable: true });
  env.send(contact(V.Win10));
  env.notifier.take();
  const restored = saveAndRestore(env);
  restored.server.finishRestore();
  const outputs = restored.notifier.take();
  assert.deepEqual(outputs.at(-1), sent(versionResponseBytes({ supported: 1, selected: V.Win10 })));
  assert.equal(restored.server.snapshot().connection, 'connected');
});

test('claims and ends out of turn are refused with a ServerRequestError, never a throw', () => {
  const env = threeChannels();
  const refusedSave = saveAndRestore(env).server.save();
  assert.ok(refusedSave instanceof ServerRequestError && refusedSave.code === 'invalid-state', 'no save while restoring');
  const restored = saveAndRestore(env);
  const [open, closed] = ALL.slice(0, 2).map((params) => restored.server.offerChannel(params) as number);
  const wrong: [string, () => ServerRequestError | undefined, string][] = [
    ['an open channel claimed closed', () => restored.server.claimRestoredChannel(open!, false), 'invalid-state'],
    ['a closed channel claimed open', () => restored.server.claimRestoredChannel(closed!, true), 'invalid-state'],
    ['an unknown offer', () => restored.server.claimRestoredChannel(99, false), 'unknown-offer'],
  ];
  for (const [label, call, code] of wrong) {
    const error = call();
    assert.ok(error instanceof ServerRequestError && error.code === code, label);
  }
  assert.equal(restored.server.claimRestoredChannel(closed!, false), undefined);
  const twice = restored.server.claimRestoredChannel(closed!, false);
  assert.ok(twice instanceof ServerRequestError && twice.code === 'invalid-state', 'claimed twice');
  assert.equal(restored.server.restoredChannel(closed!), undefined);
  assert.equal(restored.server.finishRestore(), undefined);
  const late = restored.server.finishRestore();
  assert.ok(late instanceof ServerRequestError && late.code === 'invalid-state', 'ended twice');
  const fresh = setup().server.finishRestore();
  assert.ok(fresh instanceof ServerRequestError && fresh.code === 'invalid-state', 'a server that never restored');
});

test('a server set to refuse newer versions still restores a guest connected at one (#3715); a new negotiation is refused', () => {
  const restored = saveAndRestore(threeChannels(V.Win10), { maxVersion: V.Win8_1 });
  reclaim(restored, ALL);
  assert.equal(restored.server.connection?.version, V.Win10);
  restored.send({ kind: 'CloseChannel', channelId: 1 });
  assert.equal(restored.notifier.takeActions()[0]?.type, 'close');
  restored.send(contact(V.Win10));
  assert.deepEqual(restored.notifier.takeMessages().at(-1), versionResponseBytes({ supported: 0, selected: 0 }));
});
