import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientRequestError, FIRST_GPADL_ID } from '../../../src/bus/client/index.js';
import type { ClientRequestErrorCode, OpenRequest } from '../../../src/bus/client/index.js';
import {
  CHANNEL_INTERRUPT_REDIRECTION,
  COPPER,
  GUEST_SPECIFIED_SIGNAL_PARAMETERS,
  HOST_CONNECTION_ID,
  IRON,
  WIN10,
  WIN10_RS3_0,
  WIN8,
  assertSound,
  channelWithRing,
  connectedRig,
  drops,
  fromHost,
  gpadlCreated,
  modifyChannelResponse,
  offer,
  openResult,
  pagesRange,
  postsTo,
  sentOn,
  u32,
  zeros,
} from './harness.js';
import type { Rig } from './harness.js';

const RING = FIRST_GPADL_ID;
// NTSTATUS values (ntstatus.ts): the host's failure status (protocol.rs:31-33) and STATUS_CANCELLED.
const HOST_FAILURE = 0x8000_ffff;
const STATUS_CANCELLED = 0xc000_0120;

/**
 * OPEN_CHANNEL (5) as OpenChannel, 148 bytes (openvmm-vmbus.md §6.7): channel_id @8,
 * open_id @12, ring_buffer_gpadl_id @16, target_vp @20, downstream_ring_buffer_page_offset
 * @24, user_data[120] @28.
 */
const openChannelV1 = (channelId: number, openId: number, targetVp: number, offset: number, userData: string): string =>
  `05000000 00000000 ${u32(channelId)} ${u32(openId)} ${u32(RING)} ${u32(targetVp)} ${u32(offset)} ${userData}`;

function openRig(version: number, features = 0): Rig {
  const rig = connectedRig(version, features);
  channelWithRing(rig, 1, 4);
  return rig;
}

for (const version of [WIN8, IRON]) {
  test(`open at 0x${version.toString(16)} sends the 148-byte OpenChannel with a fresh open id; OPEN_RESULT opens it`, () => {
    const rig = openRig(version);
    const openId = rig.client.openChannel(1, {
      ringGpadlId: RING,
      downstreamRingPageOffset: 2,
      targetVp: 1,
      userData: Uint8Array.of(0xaa, 0xbb),
    });
    assert.equal(openId, 1);
    assert.deepEqual(rig.notifier.take(), {
      sent: [sentOn(postsTo(version), openChannelV1(1, 1, 1, 2, `aabb ${zeros(118)}`))],
      events: [],
    });
    assert.equal(rig.client.channel(1)?.state, 'opening');
    fromHost(rig, openResult(1, 1, 0));
    assert.deepEqual(rig.notifier.take().events, [{ kind: 'open-result', channelId: 1, openId: 1, status: 0, cause: 'host' }]);
    assert.deepEqual(
      { state: rig.client.channel(1)?.state, openId: rig.client.channel(1)?.openId, ring: rig.client.channel(1)?.ringGpadlId },
      { state: 'open', openId: 1, ring: RING },
    );
    assertSound(rig);
  });
}

test('at 6.0 with both signal features, open sends OpenChannel2 with the guest-chosen connection id, event flag and redirect', () => {
  const rig = openRig(COPPER, GUEST_SPECIFIED_SIGNAL_PARAMETERS | CHANNEL_INTERRUPT_REDIRECTION);
  rig.client.openChannel(1, {
    ringGpadlId: RING, downstreamRingPageOffset: 3, targetVp: 0xffff_ffff, connectionId: 0x2101, eventFlag: 7, redirectInterrupt: true,
  });
  // OpenChannel2 (protocol.rs:745-758): connection_id u32 @148, event_flag u16 @152, flags u16 @154 (bit 0 redirect_interrupt).
  assert.deepEqual(rig.notifier.take().sent, [
    sentOn(HOST_CONNECTION_ID, `${openChannelV1(1, 1, 0xffff_ffff, 3, zeros(120))} 01210000 0700 0100`),
  ]);
});

test('OpenChannel2 defaults to the offer connection id and the channel id as event flag', () => {
  const rig = openRig(COPPER, GUEST_SPECIFIED_SIGNAL_PARAMETERS);
  rig.client.openChannel(1, { ringGpadlId: RING, downstreamRingPageOffset: 1, targetVp: 0 });
  // The harness offer's connection id is 0x2000 + channel id (protocol.rs:271-276).
  assert.deepEqual(rig.notifier.take().sent, [
    sentOn(HOST_CONNECTION_ID, `${openChannelV1(1, 1, 0, 1, zeros(120))} 01200000 0100 0000`),
  ]);
});

test('at 6.0 without signal features, open sends the 148-byte form', () => {
  const rig = openRig(COPPER, 0);
  rig.client.openChannel(1, { ringGpadlId: RING, downstreamRingPageOffset: 1, targetVp: 0 });
  assert.deepEqual(rig.notifier.take().sent, [sentOn(HOST_CONNECTION_ID, openChannelV1(1, 1, 0, 1, zeros(120)))]);
});

test('a failed open leaves the channel closed; the next open has a new open id; a stale result is dropped', () => {
  const rig = openRig(IRON);
  const request = { ringGpadlId: RING, downstreamRingPageOffset: 2, targetVp: 0 };
  rig.client.openChannel(1, request);
  fromHost(rig, openResult(1, 1, HOST_FAILURE));
  assert.deepEqual(rig.notifier.take().events, [
    { kind: 'open-result', channelId: 1, openId: 1, status: HOST_FAILURE, cause: 'host' },
  ]);
  assert.equal(rig.client.channel(1)?.state, 'closed');
  assert.equal(rig.client.openChannel(1, request), 2);
  fromHost(rig, openResult(1, 1, 0));
  fromHost(rig, openResult(9, 2, 0));
  assert.deepEqual(drops(rig).map((d) => d.reason), [
    'OPEN_RESULT for channel 1 with open id 1; the open waiting has id 2',
    'OPEN_RESULT for unknown channel 9',
  ]);
  assert.equal(rig.client.channel(1)?.state, 'opening');
  assertSound(rig);
});

test('close sends CLOSE_CHANNEL and leaves the ring GPADL live', () => {
  const rig = openRig(IRON);
  rig.client.openChannel(1, { ringGpadlId: RING, downstreamRingPageOffset: 2, targetVp: 0 });
  fromHost(rig, openResult(1, 1, 0));
  rig.notifier.take();
  assert.equal(rig.client.closeChannel(1), undefined);
  // CLOSE_CHANNEL (7): channel_id @8, 12 bytes (openvmm-vmbus.md §6.9).
  assert.deepEqual(rig.notifier.take(), { sent: [sentOn(HOST_CONNECTION_ID, '07000000 00000000 01000000')], events: [] });
  assert.equal(rig.client.channel(1)?.state, 'closed');
  assert.equal(rig.client.gpadl(RING)?.state, 'created');
  assert.equal((rig.client.closeChannel(1) as ClientRequestError).code, 'channel-state');
  assertSound(rig);
});

const OK_OPEN: OpenRequest = { ringGpadlId: RING, downstreamRingPageOffset: 2, targetVp: 0 };
const BAD_OPENS: readonly { readonly name: string; readonly request: unknown; readonly code: ClientRequestErrorCode }[] = [
  { name: 'no request', request: undefined, code: 'bad-argument' },
  { name: 'an unknown ring GPADL', request: { ...OK_OPEN, ringGpadlId: RING + 5 }, code: 'unknown-gpadl' },
  { name: 'a ring GPADL still being created', request: { ...OK_OPEN, ringGpadlId: RING + 1 }, code: 'gpadl-state' },
  { name: 'a ring GPADL of two ranges', request: { ...OK_OPEN, ringGpadlId: RING + 2 }, code: 'bad-argument' },
  // Both ring halves need a page (openvmm-vmbus.md §6.4).
  { name: 'a downstream offset of 0', request: { ...OK_OPEN, downstreamRingPageOffset: 0 }, code: 'bad-argument' },
  { name: 'a downstream offset at the end of the ring', request: { ...OK_OPEN, downstreamRingPageOffset: 4 }, code: 'bad-argument' },
  { name: 'a negative target VP', request: { ...OK_OPEN, targetVp: -1 }, code: 'bad-argument' },
  { name: '121 bytes of user data', request: { ...OK_OPEN, userData: new Uint8Array(121) }, code: 'bad-argument' },
  { name: 'user data as an array', request: { ...OK_OPEN, userData: [1, 2] }, code: 'bad-argument' },
  { name: 'a connection id without the feature', request: { ...OK_OPEN, connectionId: 5 }, code: 'not-negotiated' },
  { name: 'an event flag without the feature', request: { ...OK_OPEN, eventFlag: 5 }, code: 'not-negotiated' },
  { name: 'a redirect without the feature', request: { ...OK_OPEN, redirectInterrupt: true }, code: 'not-negotiated' },
];

for (const c of BAD_OPENS) {
  test(`openChannel refuses ${c.name} and sends nothing`, () => {
    const rig = openRig(IRON);
    rig.client.createGpadl(1, [pagesRange(0x300, 1)]);
    const twoRanges = rig.client.createGpadl(1, [pagesRange(0x400, 2), pagesRange(0x500, 2)]) as number;
    fromHost(rig, gpadlCreated(1, twoRanges, 0));
    rig.notifier.take();
    const result = rig.client.openChannel(1, c.request as OpenRequest);
    assert.ok(result instanceof ClientRequestError);
    assert.equal(result.code, c.code, result.message);
    assert.deepEqual(rig.notifier.take(), { sent: [], events: [] });
    assert.equal(rig.client.channel(1)?.state, 'closed');
  });
}

test('openChannel is refused for an unknown channel and for one already opening', () => {
  const rig = openRig(IRON);
  assert.equal((rig.client.openChannel(2, OK_OPEN) as ClientRequestError).code, 'unknown-channel');
  rig.client.openChannel(1, OK_OPEN);
  assert.equal((rig.client.openChannel(1, OK_OPEN) as ClientRequestError).code, 'channel-state');
});

function openedRig(version: number): Rig {
  const rig = openRig(version);
  rig.client.openChannel(1, OK_OPEN);
  fromHost(rig, openResult(1, 1, 0));
  rig.notifier.take();
  return rig;
}

// MODIFY_CHANNEL (22): channel_id @8, target_vp @12, 16 bytes (openvmm-vmbus.md §6.9).
const MODIFY_TO_3 = '16000000 00000000 01000000 03000000';

test('from 5.3 MODIFY_CHANNEL waits for MODIFY_CHANNEL_RESPONSE', () => {
  const rig = openedRig(IRON);
  assert.equal(rig.client.modifyChannel(1, 3), undefined);
  assert.deepEqual(rig.notifier.take(), { sent: [sentOn(HOST_CONNECTION_ID, MODIFY_TO_3)], events: [] });
  assert.equal(rig.client.channel(1)?.modifyPending, true);
  assert.equal((rig.client.modifyChannel(1, 4) as ClientRequestError).code, 'busy');
  fromHost(rig, modifyChannelResponse(1, 0));
  fromHost(rig, modifyChannelResponse(1, 0));
  fromHost(rig, modifyChannelResponse(2, 0));
  assert.deepEqual(rig.notifier.take().events, [
    { kind: 'modify-channel-result', channelId: 1, targetVp: 3, status: 0, cause: 'host' },
  ]);
  assert.deepEqual(drops(rig).map((d) => d.reason), [
    'MODIFY_CHANNEL_RESPONSE for channel 1, which has no modify waiting',
    'MODIFY_CHANNEL_RESPONSE for unknown channel 2',
  ]);
  assertSound(rig);
});

test('before 5.3 the host never answers MODIFY_CHANNEL, so it completes as it is sent', () => {
  const rig = openedRig(WIN10_RS3_0);
  assert.equal(rig.client.modifyChannel(1, 3), undefined);
  assert.deepEqual(rig.notifier.take(), {
    sent: [sentOn(1, MODIFY_TO_3)],
    events: [{ kind: 'modify-channel-result', channelId: 1, targetVp: 3, status: 0, cause: 'unacknowledged' }],
  });
  // MODIFY_CHANNEL_RESPONSE does not exist before 5.3 (protocol.rs:864-869): the decoder refuses it.
  fromHost(rig, modifyChannelResponse(1, 0));
  assert.deepEqual(drops(rig)[0]?.detail, { messageType: 24, code: 'not-negotiated' });
});

test('MODIFY_CHANNEL needs 4.1, an open channel and a VP other than "disabled"', () => {
  assert.equal((openedRig(WIN10).client.modifyChannel(1, 3) as ClientRequestError).code, 'not-negotiated');
  const rig = openRig(IRON);
  assert.equal((rig.client.modifyChannel(1, 3) as ClientRequestError).code, 'channel-state');
  const opened = openedRig(IRON);
  assert.equal((opened.client.modifyChannel(1, 0xffff_ffff) as ClientRequestError).code, 'bad-argument');
  assert.deepEqual(opened.notifier.take().sent, []);
});

test('closing a channel ends its waiting modify: the host answers none on a closed channel', () => {
  const rig = openedRig(IRON);
  rig.client.modifyChannel(1, 3);
  rig.notifier.take();
  rig.client.closeChannel(1);
  assert.deepEqual(rig.notifier.take(), {
    sent: [sentOn(HOST_CONNECTION_ID, '07000000 00000000 01000000')],
    events: [{ kind: 'modify-channel-result', channelId: 1, targetVp: 3, status: STATUS_CANCELLED, cause: 'closed' }],
  });
  assertSound(rig);
});

test('a second channel offered later opens with its own open id', () => {
  const rig = openedRig(IRON);
  fromHost(rig, offer({ channelId: 2, instanceWire: 'e7f4a0a9 455a 964d b8278a841e8c03e6' }));
  const ring = rig.client.createGpadl(2, [pagesRange(0x800, 2)]) as number;
  fromHost(rig, gpadlCreated(2, ring, 0));
  assert.equal(rig.client.openChannel(2, { ringGpadlId: ring, downstreamRingPageOffset: 1, targetVp: 0 }), 2);
  assertSound(rig);
});
