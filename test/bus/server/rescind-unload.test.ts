import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerRequestError } from '../../../src/bus/server/index.js';
import type { GpadlMapping } from '../../../src/memory/index.js';
import { hex } from '../../wire/messages/hex.js';
import { gpadlCreatedBytes, gpadlTorndownBytes, offerBytes, rescindBytes, unloadCompleteBytes, versionResponseBytes } from './layouts.js';
import {
  PAGE,
  STATUS_SUCCESS,
  V,
  connect,
  connectWithOffers,
  contact,
  createGpadl,
  did,
  openMessage,
  rangeValues,
  sent,
  setup,
  traced,
  type Env,
} from './harness.js';

const IF_A = '0000000a-0000-0000-0000-000000000000';
const IF_B = '0000000b-0000-0000-0000-000000000000';
const INST_1 = '00000001-0000-0000-0000-000000000000';
const INST_2 = '00000002-0000-0000-0000-000000000000';
const RING = 0x100;
const conn = (channelId: number): number => 0x2000 | channelId; // protocol.rs:271-276 at VTL0, SINT 2

function offer(env: Env, instanceId = INST_1, more: { subchannelIndex?: number; interfaceId?: string } = {}): number {
  return env.server.offerChannel({ interfaceId: more.interfaceId ?? IF_A, instanceId, ...more }) as number;
}

test('a rescind sends RESCIND_CHANNEL_OFFER; the id is not reused until REL_ID_RELEASED (golden bytes)', () => {
  const env = setup();
  const first = offer(env);
  connectWithOffers(env, V.Win10);
  assert.equal(env.server.rescindChannel(first), undefined);
  assert.deepEqual(env.notifier.takeMessages(), [
    hex(`
      02000000 00000000  # @0 type 2 RESCIND_CHANNEL_OFFER (openvmm-vmbus.md §6.9)
      01000000           # @8 channel_id 1
    `),
  ]);
  assert.deepEqual(env.server.offerStatus(first), { state: 'revoked', channelId: 1, monitorId: null });
  // Channel id 1 stays taken while the guest may still name it (#977).
  const second = offer(env, INST_2);
  assert.deepEqual(env.notifier.takeMessages(), [offerBytes({ interfaceId: IF_A, instanceId: INST_2, channelId: 2, connectionId: conn(2) })]);
  env.send({ kind: 'RelIdReleased', channelId: 1 });
  assert.deepEqual(env.notifier.take(), []);
  assert.equal(env.server.offerStatus(first), undefined);
  offer(env, INST_1, { interfaceId: IF_B });
  assert.deepEqual(env.notifier.takeMessages(), [offerBytes({ interfaceId: IF_B, instanceId: INST_1, channelId: 1, connectionId: conn(1) })]);
  assert.deepEqual(env.server.snapshot().channelIds, [1, 2]);
  assert.ok(second > first);
});

test('an offer rescinded before the guest saw it just goes away', () => {
  const env = setup();
  const id = offer(env);
  connect(env, V.Win10);
  env.server.rescindChannel(id);
  assert.deepEqual(env.notifier.take(), []);
  assert.equal(env.server.offerStatus(id), undefined);
  env.send({ kind: 'RequestOffers' });
  assert.deepEqual(env.notifier.takeMessages(), [hex('04000000 00000000')]); // only ALL_OFFERS_DELIVERED
});

test('rescinding a primary channel rescinds its subchannels first (PR #3507)', () => {
  const env = setup();
  const primary = offer(env);
  offer(env, INST_1, { subchannelIndex: 2 });
  offer(env, INST_1, { subchannelIndex: 1 });
  offer(env, INST_2); // another device, untouched
  connectWithOffers(env, V.Win10);
  env.server.rescindChannel(primary);
  // Ids by (interface, instance, subchannel): primary 1, subchannel 1 → 2, subchannel 2 → 3, other device 4.
  assert.deepEqual(env.notifier.takeMessages(), [rescindBytes(2), rescindBytes(3), rescindBytes(1)]);
  assert.deepEqual(env.server.snapshot().channelsByState, {
    'client-released': 0, closed: 1, opening: 0, open: 0, revoked: 3, reoffered: 0, 'opening-released': 0,
  });
});

test('GPADLs on a rescinded, unreleased channel: in progress completes, new ones succeed (PR #3959)', () => {
  const env = setup();
  const id = offer(env);
  connectWithOffers(env, V.Win10);
  const values = rangeValues(0, 2 * PAGE, [1, 2]);
  env.send({ kind: 'GpadlHeader', channelId: 1, gpadlId: 1, len: 24, count: 1, range: values.slice(0, 1) });
  env.server.rescindChannel(id);
  env.notifier.take();
  env.send({ kind: 'GpadlBody', gpadlId: 1, range: values.slice(1) });
  // Answered, but no device is told: the channel is going away.
  assert.deepEqual(env.notifier.take(), [sent(gpadlCreatedBytes(1, 1, STATUS_SUCCESS))]);
  env.send({ kind: 'GpadlHeader', channelId: 1, gpadlId: 2, len: 16, count: 1, range: rangeValues(0, PAGE, [3]) });
  assert.deepEqual(env.notifier.take(), [sent(gpadlCreatedBytes(1, 2, STATUS_SUCCESS))]);
  env.send({ kind: 'GpadlTeardown', channelId: 1, gpadlId: 2 });
  assert.deepEqual(env.notifier.takeMessages(), [gpadlTorndownBytes(2)]);
  env.send({ kind: 'RelIdReleased', channelId: 1 });
  assert.deepEqual(env.server.snapshot().table, { gpadls: 0, mappings: 0, mappedPages: 0 });
  assert.deepEqual(env.server.checkInvariants(), []);
});

test('a teardown waiting for an unmap still ends in GPADL_TORNDOWN after a rescind; released GPADLs end silently', () => {
  const env = setup();
  const id = offer(env);
  connectWithOffers(env, V.Win10);
  createGpadl(env, 1, 1, [1]);
  createGpadl(env, 1, 2, [2]);
  const one = env.server.mapGpadl(1, { writable: true }) as GpadlMapping;
  const two = env.server.mapGpadl(2, { writable: true }) as GpadlMapping;
  env.send({ kind: 'GpadlTeardown', channelId: 1, gpadlId: 1 });
  env.server.rescindChannel(id);
  env.notifier.take();
  env.server.unmapGpadl(one);
  assert.deepEqual(env.notifier.takeMessages(), [gpadlTorndownBytes(1)]);
  env.send({ kind: 'RelIdReleased', channelId: 1 });
  assert.deepEqual(env.notifier.take(), [did({ type: 'gpadl-teardown', offerId: id, channelId: 1, gpadlId: 2 })]);
  assert.deepEqual(env.server.snapshot().gpadlsByState, { 'in-progress': 0, created: 0, 'tearing-down': 0, releasing: 1 });
  assert.deepEqual(env.server.checkInvariants(), []);
  env.server.unmapGpadl(two);
  assert.deepEqual(env.notifier.take(), []);
  assert.deepEqual(env.server.snapshot().table, { gpadls: 0, mappings: 0, mappedPages: 0 });
});

test('an offer with the key of a rescinded, unreleased channel is sent with the same id after REL_ID_RELEASED', () => {
  const env = setup();
  const id = offer(env);
  connectWithOffers(env, V.Win10);
  env.server.rescindChannel(id);
  env.notifier.take();
  assert.equal(env.server.offerChannel({ interfaceId: IF_A, instanceId: INST_1, mmioMegabytes: 8 }), id);
  assert.deepEqual(env.notifier.take(), []);
  env.send({ kind: 'RelIdReleased', channelId: 1 });
  assert.deepEqual(env.notifier.takeMessages(), [
    offerBytes({ interfaceId: IF_A, instanceId: INST_1, mmioMegabytes: 8, channelId: 1, connectionId: conn(1) }),
  ]);
  assert.deepEqual(env.server.offerStatus(id), { state: 'closed', channelId: 1, monitorId: null });
});

test('an open channel rescinded: no close action (the caller stops its device); the guest closes and releases', () => {
  const env = setup();
  const id = offer(env);
  connectWithOffers(env, V.Win10);
  createGpadl(env, 1, RING, [4, 5, 6, 7]);
  env.send(openMessage(1, { gpadlId: RING }));
  env.server.openComplete(id, STATUS_SUCCESS);
  env.notifier.take();
  env.server.rescindChannel(id);
  assert.deepEqual(env.notifier.take(), [sent(rescindBytes(1))]);
  env.send({ kind: 'CloseChannel', channelId: 1 });
  env.send({ kind: 'GpadlTeardown', channelId: 1, gpadlId: RING });
  env.send({ kind: 'RelIdReleased', channelId: 1 });
  assert.deepEqual(env.notifier.take(), [sent(gpadlTorndownBytes(RING))]);
  assert.deepEqual(traced(env), [['message-dropped', 'channel 1 is rescinded']]);
  assert.equal(env.server.snapshot().channelIds.length, 0);
});

test('REL_ID_RELEASED of an open channel is dropped; of a closed one it releases the id until the next connection', () => {
  const env = setup();
  const id = offer(env);
  connectWithOffers(env, V.Win10);
  createGpadl(env, 1, RING, [4, 5, 6, 7]);
  env.send(openMessage(1, { gpadlId: RING }));
  env.server.openComplete(id, STATUS_SUCCESS);
  env.send({ kind: 'RelIdReleased', channelId: 1 });
  env.send({ kind: 'CloseChannel', channelId: 1 });
  env.notifier.take();
  env.send({ kind: 'RelIdReleased', channelId: 1 });
  assert.deepEqual(env.notifier.take(), []);
  assert.deepEqual(traced(env), [['message-dropped', 'channel 1 is open; close it first']]);
  assert.deepEqual(env.server.offerStatus(id), { state: 'client-released', channelId: null, monitorId: null });
  assert.deepEqual(env.server.snapshot().table.gpadls, 0);
});

test('rescind mistakes are returned as errors', () => {
  const env = setup();
  const id = offer(env);
  connectWithOffers(env, V.Win10);
  env.server.rescindChannel(id);
  const again = env.server.rescindChannel(id);
  assert.ok(again instanceof ServerRequestError && again.code === 'invalid-state');
  const unknown = env.server.rescindChannel(12345);
  assert.ok(unknown instanceof ServerRequestError && unknown.code === 'unknown-offer');
});

test('UNLOAD with nothing open: disconnected, then UNLOAD_COMPLETE (golden bytes)', () => {
  const env = setup();
  offer(env);
  connectWithOffers(env, V.Win10);
  env.send({ kind: 'Unload' });
  assert.deepEqual(env.notifier.take(), [did({ type: 'disconnected' }), sent(hex('11000000 00000000  # type 17 UNLOAD_COMPLETE'))]);
  assert.deepEqual(env.server.snapshot().channelIds, []);
  assert.equal(env.server.snapshot().connection, 'disconnected');
});

test('UNLOAD_COMPLETE exists from Win7: a V1 guest gets no answer', () => {
  const v1 = setup();
  connect(v1, V.V1);
  v1.send({ kind: 'Unload' });
  assert.deepEqual(v1.notifier.take(), [did({ type: 'disconnected' })]);
  const win7 = setup();
  connect(win7, V.Win7);
  win7.send({ kind: 'Unload' });
  assert.deepEqual(win7.notifier.takeMessages(), [unloadCompleteBytes()]);
});

test('UNLOAD with open channels closes them and answers once the devices let go of their rings', () => {
  const env = setup();
  const ids = [offer(env), offer(env, INST_2)];
  connectWithOffers(env, V.Win10);
  const rings = new Map<number, GpadlMapping>();
  env.notifier.onAction = (action) => {
    if (action.type === 'open') rings.set(action.offerId, env.server.mapGpadl(action.ringGpadlId, { writable: true }) as GpadlMapping);
  };
  createGpadl(env, 1, 0x10, [4, 5]);
  createGpadl(env, 2, 0x20, [6, 7]);
  env.send(openMessage(1, { gpadlId: 0x10, split: 1 }));
  env.send(openMessage(2, { gpadlId: 0x20, split: 1 }));
  env.server.openComplete(ids[0]!, STATUS_SUCCESS);
  env.server.openComplete(ids[1]!, STATUS_SUCCESS);
  env.notifier.take();
  env.send({ kind: 'Unload' });
  assert.deepEqual(env.notifier.take(), [
    did({ type: 'close', offerId: ids[0]!, channelId: 1 }),
    did({ type: 'gpadl-teardown', offerId: ids[0]!, channelId: 1, gpadlId: 0x10 }),
    did({ type: 'close', offerId: ids[1]!, channelId: 2 }),
    did({ type: 'gpadl-teardown', offerId: ids[1]!, channelId: 2, gpadlId: 0x20 }),
  ]);
  assert.equal(env.server.snapshot().connection, 'disconnecting');
  // While disconnecting only INITIATE_CONTACT is read.
  env.send({ kind: 'RequestOffers' });
  assert.match(env.trace.ofKind('message-dropped')[0]!.reason!, /not-negotiated/);
  env.server.unmapGpadl(rings.get(ids[0]!)!);
  assert.deepEqual(env.notifier.take(), []);
  env.server.unmapGpadl(rings.get(ids[1]!)!);
  assert.deepEqual(env.notifier.take(), [did({ type: 'disconnected' }), sent(unloadCompleteBytes())]);
  assert.deepEqual(env.server.snapshot().table, { gpadls: 0, mappings: 0, mappedPages: 0 });
});

test('UNLOAD while a device is opening waits for its answer; a successful open is closed again', () => {
  const env = setup();
  const id = offer(env);
  connectWithOffers(env, V.Win10);
  createGpadl(env, 1, RING, [4, 5]);
  env.send(openMessage(1, { gpadlId: RING, split: 1 }));
  env.notifier.take();
  env.send({ kind: 'Unload' });
  assert.deepEqual(env.notifier.take(), []);
  assert.deepEqual(env.server.offerStatus(id), { state: 'opening-released', channelId: null, monitorId: null });
  env.server.openComplete(id, STATUS_SUCCESS);
  // No OPEN_RESULT: the guest let go of the channel.
  assert.deepEqual(env.notifier.take(), [
    did({ type: 'close', offerId: id, channelId: 1 }),
    did({ type: 'disconnected' }),
    sent(unloadCompleteBytes()),
  ]);
});

test('INITIATE_CONTACT while an UNLOAD waits replaces it: no UNLOAD_COMPLETE, the new connection follows the release', () => {
  const env = setup();
  const id = offer(env);
  connectWithOffers(env, V.Win10);
  createGpadl(env, 1, RING, [4, 5]);
  const ring = env.server.mapGpadl(RING, { writable: true }) as GpadlMapping;
  env.send({ kind: 'Unload' });
  // The channel is closed, but the host maps one of its GPADLs: the mapper is asked to let go.
  assert.deepEqual(env.notifier.take(), [did({ type: 'gpadl-teardown', offerId: id, channelId: 1, gpadlId: RING })]);
  env.send(contact(V.Iron));
  assert.deepEqual(env.notifier.take(), []);
  env.server.unmapGpadl(ring);
  assert.deepEqual(env.notifier.take(), [
    did({ type: 'disconnected' }),
    did({
      type: 'connected',
      connection: {
        version: V.Iron,
        features: 0,
        targetMessageVp: 0,
        interruptPage: null,
        monitorPages: null,
        serverMonitorPages: false,
        clientId: '00000000-0000-0000-0000-000000000000',
      },
    }),
    sent(versionResponseBytes({ supported: 1, selected: 1 })),
  ]);
  assert.deepEqual(env.server.offerStatus(id), { state: 'client-released', channelId: null, monitorId: null });
});
