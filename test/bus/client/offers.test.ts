import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientRequestError } from '../../../src/bus/client/index.js';
import type { ChannelOffer } from '../../../src/bus/client/index.js';
import {
  ALL_OFFERS_DELIVERED,
  COPPER,
  HEARTBEAT_IC,
  HOST_CONNECTION_ID,
  KVP_IC,
  KVP_IC_WIRE,
  SHUTDOWN_IC,
  assertSound,
  channelWithRing,
  connectedRig,
  drops,
  fromHost,
  gpadlCreated,
  gpadlTorndown,
  newRig,
  offer,
  openResult,
  pagesRange,
  rescind,
  sentOn,
  versionResponse2,
} from './harness.js';

// NTSTATUS STATUS_DEVICE_REMOVED (ntstatus.ts): what requests the host will never answer end with after a rescind.
const STATUS_DEVICE_REMOVED = 0xc000_02b6;

const USER_DEFINED = Uint8Array.from({ length: 120 }, (_, i) => i);

test('an offer becomes a channel record and an offer event with every field', () => {
  const rig = connectedRig(COPPER);
  fromHost(rig, offer({
    channelId: 5,
    flags: 0x1,
    subchannelIndex: 2,
    monitorId: 3,
    monitorAllocated: 1,
    connectionId: 0x2005,
    userDefined: Buffer.from(USER_DEFINED).toString('hex'),
  }));
  const expected: ChannelOffer = {
    channelId: 5,
    interfaceId: HEARTBEAT_IC,
    instanceId: SHUTDOWN_IC,
    subchannelIndex: 2,
    flags: 0x1,
    mmioMegabytes: 0,
    mmioMegabytesOptional: 0,
    monitorId: 3,
    isDedicated: true,
    connectionId: 0x2005,
    userDefined: USER_DEFINED,
  };
  assert.deepEqual(rig.notifier.take(), { sent: [], events: [{ kind: 'offer', offer: expected }] });
  assert.deepEqual(rig.client.channel(5), {
    offer: expected, rescinded: false, state: 'closed', openId: null, ringGpadlId: null, modifyPending: false,
  });
  assertSound(rig);
});

test('a channel without a monitor id reports null, whatever monitor_id says', () => {
  const rig = connectedRig(COPPER);
  // monitor_allocated = 0 (openvmm-vmbus.md §6.6: monitor_id is 0xFF when unused).
  fromHost(rig, offer({ channelId: 1, monitorId: 0x42, monitorAllocated: 0 }));
  assert.equal(rig.client.channel(1)?.offer.monitorId, null);
});

test('ALL_OFFERS_DELIVERED is reported once; offers keep coming after it', () => {
  const rig = connectedRig(COPPER);
  fromHost(rig, offer({ channelId: 1 }));
  fromHost(rig, ALL_OFFERS_DELIVERED);
  fromHost(rig, ALL_OFFERS_DELIVERED);
  fromHost(rig, offer({ channelId: 2, instanceWire: KVP_IC_WIRE }));
  const kinds = rig.notifier.take().events.map((e) => e.kind);
  assert.deepEqual(kinds, ['offer', 'all-offers-delivered', 'offer']);
  assert.equal(drops(rig).length, 1);
  assert.match(drops(rig)[0]!.reason!, /ALL_OFFERS_DELIVERED while offers are delivered/);
  assert.deepEqual(rig.client.channelIds(), [1, 2]);
});

test('offers before REQUEST_OFFERS are dropped', () => {
  const rig = newRig();
  rig.client.connect({ targetMessageVp: 0 });
  fromHost(rig, versionResponse2(HOST_CONNECTION_ID, 0));
  rig.notifier.take();
  fromHost(rig, offer({ channelId: 1 }));
  fromHost(rig, ALL_OFFERS_DELIVERED);
  assert.deepEqual(rig.notifier.take().events, []);
  assert.equal(rig.client.counts().channels, 0);
  assert.match(drops(rig)[0]!.reason!, /before REQUEST_OFFERS/);
  assert.match(drops(rig)[1]!.reason!, /ALL_OFFERS_DELIVERED while offers are not-requested/);
});

test('REQUEST_OFFERS twice is refused', () => {
  const rig = connectedRig(COPPER);
  const again = rig.client.requestOffers();
  assert.ok(again instanceof ClientRequestError);
  assert.equal(again.code, 'invalid-state');
});

const HOSTILE_OFFERS: readonly { readonly name: string; readonly text: string; readonly reason: RegExp }[] = [
  // Channel ids are 1..2047 (channels.rs:1067-1069).
  { name: 'channel id 0', text: offer({ channelId: 0 }), reason: /channel id 0, outside 1\.\.2047/ },
  { name: 'channel id 2048', text: offer({ channelId: 2048 }), reason: /channel id 2048, outside 1\.\.2047/ },
  { name: 'a live channel id again', text: offer({ channelId: 7, instanceWire: KVP_IC_WIRE }), reason: /duplicate offer for channel id 7, which is live/ },
  // A second offer of the same device and subchannel index (linux-vmbus.md §A.4 item 10).
  { name: 'the same device under another id', text: offer({ channelId: 8 }), reason: /duplicates live channel 7/ },
  // 128 monitor ids (openvmm-vmbus.md §6.8).
  { name: 'monitor id 128', text: offer({ channelId: 9, instanceWire: KVP_IC_WIRE, monitorId: 128, monitorAllocated: 1 }), reason: /monitor id 128/ },
  // Connection ids are 24 bits (hv_connection_id, linux-vmbus.md §A.3.1).
  {
    name: 'a 25-bit connection id',
    text: offer({ channelId: 9, instanceWire: KVP_IC_WIRE, connectionId: 0x100_0000 }),
    reason: /connection id 0x1000000, beyond 24 bits/,
  },
  // OFFER_CHANNEL is 196 bytes (openvmm-vmbus.md §6.6).
  { name: 'a 195-byte offer', text: offer({ channelId: 9 }).trim().slice(0, -2), reason: /needs 196 bytes, got 195/ },
];

for (const c of HOSTILE_OFFERS) {
  test(`an offer with ${c.name} is dropped and traced`, () => {
    const rig = connectedRig(COPPER);
    fromHost(rig, offer({ channelId: 7 }));
    rig.notifier.take();
    fromHost(rig, c.text);
    assert.deepEqual(rig.notifier.take().events, []);
    assert.deepEqual(rig.client.channelIds(), [7]);
    const [dropped] = drops(rig);
    assert.equal(dropped?.layer, 'bus');
    assert.equal(dropped?.source, 'client');
    assert.match(dropped?.reason ?? '', c.reason);
    assertSound(rig);
  });
}

test('a rescinded id stays taken until released; REL_ID_RELEASED frees it', () => {
  const rig = connectedRig(COPPER);
  fromHost(rig, offer({ channelId: 5 }));
  fromHost(rig, rescind(5));
  assert.deepEqual(rig.notifier.take().events.map((e) => e.kind), ['offer', 'rescinded']);
  assert.equal(rig.client.channel(5)?.rescinded, true);
  // The host re-offers the device: not under id 5 while it is taken, but under a new id.
  fromHost(rig, offer({ channelId: 5 }));
  assert.match(drops(rig)[0]!.reason!, /channel id 5, which is rescinded but not yet released/);
  fromHost(rig, offer({ channelId: 6 }));
  assert.deepEqual(rig.client.channelIds(), [5, 6]);
  rig.notifier.take();

  assert.equal(rig.client.releaseId(5), undefined);
  // REL_ID_RELEASED (13): channel_id @8, 12 bytes (openvmm-vmbus.md §6.9).
  assert.deepEqual(rig.notifier.take(), { sent: [sentOn(HOST_CONNECTION_ID, '0d000000 00000000 05000000')], events: [] });
  assert.deepEqual(rig.client.channelIds(), [6]);
  fromHost(rig, offer({ channelId: 5, instanceWire: KVP_IC_WIRE }));
  assert.equal(rig.client.channel(5)?.offer.instanceId, KVP_IC);
  assertSound(rig);
});

test('releaseId is refused for a live channel, an unknown id and a rescinded channel still open', () => {
  const rig = connectedRig(COPPER);
  const ring = channelWithRing(rig, 3);
  rig.client.openChannel(3, { ringGpadlId: ring, downstreamRingPageOffset: 2, targetVp: 0 });
  fromHost(rig, openResult(3, 1, 0));
  const codeOf = (r: ClientRequestError | undefined): string | undefined => r?.code;
  assert.equal(codeOf(rig.client.releaseId(3)), 'channel-state');
  assert.equal(codeOf(rig.client.releaseId(4)), 'unknown-channel');
  fromHost(rig, rescind(3));
  assert.equal(codeOf(rig.client.releaseId(3)), 'channel-state');
  rig.notifier.take();
  // Closing a rescinded channel is local: the host ignores CLOSE_CHANNEL on it (channels.rs:3123).
  assert.equal(rig.client.closeChannel(3), undefined);
  assert.deepEqual(rig.notifier.take(), { sent: [], events: [] });
  assert.equal(rig.client.releaseId(3), undefined);
  assertSound(rig);
});

test('a rescind ends a pending open: the host never answers it on a revoked channel', () => {
  const rig = connectedRig(COPPER);
  const ring = channelWithRing(rig, 3);
  const openId = rig.client.openChannel(3, { ringGpadlId: ring, downstreamRingPageOffset: 2, targetVp: 0 });
  rig.notifier.take();
  fromHost(rig, rescind(3));
  assert.deepEqual(rig.notifier.take().events, [
    { kind: 'rescinded', channelId: 3 },
    { kind: 'open-result', channelId: 3, openId, status: STATUS_DEVICE_REMOVED, cause: 'rescinded' },
  ]);
  assert.equal(rig.client.channel(3)?.state, 'closed');
  fromHost(rig, openResult(3, openId as number, 0));
  assert.match(drops(rig)[0]!.reason!, /OPEN_RESULT for channel 3, which is closed/);
  assertSound(rig);
});

test('a rescind of an unknown or already rescinded channel is dropped', () => {
  const rig = connectedRig(COPPER);
  fromHost(rig, rescind(9));
  fromHost(rig, offer({ channelId: 9 }));
  fromHost(rig, rescind(9));
  fromHost(rig, rescind(9));
  assert.deepEqual(drops(rig).map((d) => d.reason), [
    'RESCIND_CHANNEL_OFFER for unknown channel 9',
    'RESCIND_CHANNEL_OFFER for channel 9, already rescinded',
  ]);
});

test('releasing a channel ends its GPADLs: the host drops them with the id', () => {
  const rig = connectedRig(COPPER);
  fromHost(rig, offer({ channelId: 4 }));
  const creating = rig.client.createGpadl(4, [pagesRange(0x10, 1)]) as number;
  const live = rig.client.createGpadl(4, [pagesRange(0x20, 1)]) as number;
  const tearing = rig.client.createGpadl(4, [pagesRange(0x30, 1)]) as number;
  fromHost(rig, gpadlCreated(4, live, 0));
  fromHost(rig, gpadlCreated(4, tearing, 0));
  rig.client.teardownGpadl(4, tearing);
  fromHost(rig, rescind(4));
  rig.notifier.take();
  assert.equal(rig.client.releaseId(4), undefined);
  assert.deepEqual(rig.notifier.take(), {
    sent: [sentOn(HOST_CONNECTION_ID, '0d000000 00000000 04000000')],
    events: [
      { kind: 'gpadl-created', channelId: 4, gpadlId: creating, status: STATUS_DEVICE_REMOVED, cause: 'released' },
      { kind: 'gpadl-torndown', channelId: 4, gpadlId: live, cause: 'released' },
      { kind: 'gpadl-torndown', channelId: 4, gpadlId: tearing, cause: 'released' },
    ],
  });
  assert.equal(rig.client.counts().gpadls, 0);
  // A late answer for a forgotten GPADL is dropped.
  fromHost(rig, gpadlTorndown(tearing));
  assert.match(drops(rig)[0]!.reason!, /unknown GPADL/);
  assertSound(rig);
});
