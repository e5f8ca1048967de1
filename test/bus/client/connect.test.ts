import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientRequestError } from '../../../src/bus/client/index.js';
import type { ClientRequestErrorCode, ConnectRequest } from '../../../src/bus/client/index.js';
import {
  COPPER,
  HOST_CONNECTION_ID,
  IRON,
  KVP_IC,
  KVP_IC_WIRE,
  V1,
  WIN10,
  WIN10_RS3_0,
  WIN10_RS3_1,
  WIN10_RS4,
  WIN10_RS5,
  WIN7,
  WIN8,
  WIN8_1,
  assertSound,
  drops,
  fromHost,
  newRig,
  sentOn,
  u32,
  versionResponse,
  versionResponse2,
} from './harness.js';

// Connection ids (linux-vmbus.md §A.3.1): INITIATE_CONTACT goes to 4 from 5.0 on, to 1 before.
const MULTICLIENT = 4;
const CLASSIC = 1;

test('connect at 6.0 sends InitiateContact2 with TargetInfo features and the client id on connection 4', () => {
  const rig = newRig();
  assert.equal(rig.client.connect({ targetMessageVp: 3, clientId: KVP_IC }), undefined);
  assert.equal(rig.client.phase, 'connecting');
  // protocol.rs:278-313; openvmm-vmbus.md §6.8: InitiateContact2, 56 bytes.
  assert.deepEqual(rig.notifier.take().sent, [
    sentOn(MULTICLIENT, `
      0e000000 00000000    # @0 type 14 INITIATE_CONTACT
      00000600             # @8 version_requested 6.0
      03000000             # @12 target_message_vp 3
      02 00 0000 2f000000  # @16 TargetInfo: sint 2, vtl 0, features 0x2f (0x1|0x2|0x4|0x8|0x20)
      0000000000000000     # @24 parent_to_child_monitor_page_gpa: none
      0000000000000000     # @32 child_to_parent_monitor_page_gpa: none
      ${KVP_IC_WIRE}       # @40 client_id
    `),
  ]);
});

test('an accepted 6.0 VersionResponse2 connects with requested ∩ reported features and the host message connection id', () => {
  const rig = newRig();
  rig.client.connect({ targetMessageVp: 0 });
  rig.notifier.take();
  // The host reports every bit 0x1..0x40; the client asked for 0x2f only.
  fromHost(rig, versionResponse2(HOST_CONNECTION_ID, 0x7f));
  assert.deepEqual(rig.notifier.take().events, [
    { kind: 'connected', version: COPPER, features: 0x2f, messageConnectionId: HOST_CONNECTION_ID, serverMonitorPages: null },
  ]);
  assert.equal(rig.client.version, COPPER);
  assert.equal(rig.client.features, 0x2f);
  assert.equal(rig.client.requestOffers(), undefined);
  // REQUEST_OFFERS (3), header only, on the host-chosen id (linux-vmbus.md §A.3.1).
  assert.deepEqual(rig.notifier.take().sent, [sentOn(HOST_CONNECTION_ID, '03000000 00000000')]);
  assertSound(rig);
});

test('monitor pages go in INITIATE_CONTACT and the host pages of a VersionResponse3 are reported', () => {
  const rig = newRig();
  const monitorPages = { parentToChild: 0x1234_6000n, childToParent: 0x1234_7000n };
  rig.client.connect({ targetMessageVp: 0, monitorPages, featureFlags: 0x40 });
  assert.deepEqual(rig.notifier.take().sent, [
    sentOn(MULTICLIENT, `
      0e000000 00000000 00000600 00000000
      02 00 0000 40000000  # @16 TargetInfo: features 0x40 server_specified_monitor_pages
      0060341200000000     # @24 parent_to_child 0x12346000
      0070341200000000     # @32 child_to_parent 0x12347000
      ${'00'.repeat(16)}   # @40 client_id: nil
    `),
  ]);
  // VersionResponse3 (protocol.rs:365-375): VersionResponse2 + padding u32 @20 + two GPAs @24, @32.
  fromHost(rig, `${versionResponse2(HOST_CONNECTION_ID, 0x40)} 00000000 00a0000000000000 00b0000000000000`);
  assert.deepEqual(rig.notifier.take().events, [
    {
      kind: 'connected',
      version: COPPER,
      features: 0x40,
      messageConnectionId: HOST_CONNECTION_ID,
      serverMonitorPages: { parentToChild: 0xa000n, childToParent: 0xb000n },
    },
  ]);
});

test('a 16-byte VersionResponse accepting 6.0 negotiates no features', () => {
  const rig = newRig();
  rig.client.connect({ targetMessageVp: 0 });
  fromHost(rig, versionResponse(1, 0, HOST_CONNECTION_ID));
  assert.equal(rig.client.phase, 'connected');
  assert.equal(rig.client.features, 0);
});

test('a refusing host walks the client through every version down to 0.13, then connect fails', () => {
  const rig = newRig();
  rig.client.connect({ targetMessageVp: 1, interruptPageGpa: 0x5000n, clientId: KVP_IC });
  const tries = [COPPER, IRON, WIN10_RS5, WIN10_RS4, WIN10_RS3_1, WIN10_RS3_0, WIN10, WIN8_1, WIN8, WIN7, V1];
  const sent = [];
  for (let i = 0; i < tries.length; i++) {
    sent.push(...rig.notifier.take().sent);
    fromHost(rig, versionResponse(0, 0, 0));
  }
  // channels.rs:2156-2200: TargetInfo from 5.0 (features only at 6.0), the interrupt page before.
  const contact = (version: number, at16: string): string =>
    `0e000000 00000000 ${u32(version)} 01000000 ${at16} 0000000000000000 0000000000000000`;
  const targetInfo = '02 00 0000 00000000';
  const interruptPage = '0050000000000000';
  assert.deepEqual(sent, [
    sentOn(MULTICLIENT, `0e000000 00000000 00000600 01000000 02 00 0000 2f000000 ${'00'.repeat(16)} ${KVP_IC_WIRE}`),
    sentOn(MULTICLIENT, contact(IRON, targetInfo)),
    sentOn(MULTICLIENT, contact(WIN10_RS5, targetInfo)),
    sentOn(MULTICLIENT, contact(WIN10_RS4, targetInfo)),
    sentOn(MULTICLIENT, contact(WIN10_RS3_1, targetInfo)),
    sentOn(CLASSIC, contact(WIN10_RS3_0, interruptPage)),
    sentOn(CLASSIC, contact(WIN10, interruptPage)),
    sentOn(CLASSIC, contact(WIN8_1, interruptPage)),
    sentOn(CLASSIC, contact(WIN8, interruptPage)),
    sentOn(CLASSIC, contact(WIN7, interruptPage)),
    sentOn(CLASSIC, contact(V1, interruptPage)),
  ]);
  assert.deepEqual(rig.notifier.take(), {
    sent: [],
    events: [{ kind: 'connect-failed', reason: 'no-supported-version', version: V1, connectionState: null }],
  });
  assert.equal(rig.client.phase, 'disconnected');
  assertSound(rig);
});

test('versions and minVersion limit the tries', () => {
  const rig = newRig();
  rig.client.connect({ targetMessageVp: 0, versions: [WIN8, COPPER, IRON, WIN8], minVersion: IRON });
  fromHost(rig, versionResponse(0, 0, 0));
  fromHost(rig, versionResponse(0, 0, 0));
  const { sent, events } = rig.notifier.take();
  assert.deepEqual(sent.map((s) => s.hex.slice(16, 24)), [u32(COPPER), u32(IRON)]);
  assert.deepEqual(events, [{ kind: 'connect-failed', reason: 'no-supported-version', version: IRON, connectionState: null }]);
});

test('an accepted version before 5.0 keeps posting on connection 1', () => {
  const rig = newRig();
  rig.client.connect({ targetMessageVp: 0, versions: [WIN8_1] });
  // Before 5.0 the field echoes the version (channels.rs:2538-2543).
  fromHost(rig, versionResponse(1, 0, WIN8_1));
  assert.equal(rig.client.messageConnectionId, CLASSIC);
  rig.client.requestOffers();
  assert.deepEqual(rig.notifier.take().sent.at(-1), sentOn(CLASSIC, '03000000 00000000'));
});

test('a connection_state failure fails the connect with the state', () => {
  const rig = newRig();
  rig.client.connect({ targetMessageVp: 0, versions: [WIN8] });
  rig.notifier.take();
  // CONNECTION_STATE 1 = failed low resources (protocol.rs:335-343).
  fromHost(rig, versionResponse(1, 1, WIN8));
  assert.deepEqual(rig.notifier.take().events, [
    { kind: 'connect-failed', reason: 'connection-state', version: WIN8, connectionState: 1 },
  ]);
  assert.equal(rig.client.phase, 'disconnected');
});

for (const id of [0, 0x100_0000]) {
  test(`an accepted 5.0+ response naming message connection id 0x${id.toString(16)} fails the connect`, () => {
    const rig = newRig();
    rig.client.connect({ targetMessageVp: 0, versions: [IRON] });
    rig.notifier.take();
    fromHost(rig, versionResponse(1, 0, id));
    assert.deepEqual(rig.notifier.take().events, [
      { kind: 'connect-failed', reason: 'bad-connection-id', version: IRON, connectionState: null },
    ]);
  });
}

test('a VERSION_RESPONSE nobody waits for is dropped and traced', () => {
  const rig = newRig();
  fromHost(rig, versionResponse(1, 0, 1));
  assert.equal(rig.client.phase, 'disconnected');
  assert.match(drops(rig)[0]?.reason ?? '', /no INITIATE_CONTACT is waiting/);
  assert.deepEqual(drops(rig)[0]?.detail, { messageType: 15 });
});

test('connect while connecting or connected is refused', () => {
  const rig = newRig();
  rig.client.connect({ targetMessageVp: 0 });
  const again = rig.client.connect({ targetMessageVp: 0 });
  assert.ok(again instanceof ClientRequestError);
  assert.equal(again.code, 'invalid-state');
});

const BAD_REQUESTS: readonly { readonly name: string; readonly request: unknown; readonly code: ClientRequestErrorCode }[] = [
  { name: 'no request', request: null, code: 'bad-argument' },
  { name: 'a negative VP', request: { targetMessageVp: -1 }, code: 'bad-argument' },
  { name: 'a VP of 2^32', request: { targetMessageVp: 2 ** 32 }, code: 'bad-argument' },
  {
    name: 'one monitor page only',
    request: { targetMessageVp: 0, monitorPages: { parentToChild: 0x1000n, childToParent: 0n } },
    code: 'bad-argument',
  },
  {
    name: 'an unaligned monitor page',
    request: { targetMessageVp: 0, monitorPages: { parentToChild: 0x1001n, childToParent: 0x2000n } },
    code: 'bad-argument',
  },
  { name: 'a number as interrupt page', request: { targetMessageVp: 0, interruptPageGpa: 0x1000 }, code: 'bad-argument' },
  { name: 'an unaligned interrupt page', request: { targetMessageVp: 0, interruptPageGpa: 0x10n }, code: 'bad-argument' },
  { name: 'an unknown version', request: { targetMessageVp: 0, versions: [0x0005_0004] }, code: 'bad-argument' },
  { name: 'no version', request: { targetMessageVp: 0, versions: [] }, code: 'bad-argument' },
  { name: 'a floor above every version', request: { targetMessageVp: 0, versions: [WIN8], minVersion: IRON }, code: 'bad-argument' },
  { name: 'reserved feature bits', request: { targetMessageVp: 0, featureFlags: 0x100 }, code: 'bad-argument' },
  { name: 'a client id that is no GUID', request: { targetMessageVp: 0, clientId: 'kvp' }, code: 'bad-argument' },
  { name: 'SINT 16', request: { targetMessageVp: 0, sint: 16 }, code: 'bad-argument' },
  { name: 'VTL 256', request: { targetMessageVp: 0, vtl: 256 }, code: 'bad-argument' },
];

for (const c of BAD_REQUESTS) {
  test(`connect refuses ${c.name} and sends nothing`, () => {
    const rig = newRig();
    const result = rig.client.connect(c.request as ConnectRequest);
    assert.ok(result instanceof ClientRequestError);
    assert.equal(result.code, c.code, result.message);
    assert.deepEqual(rig.notifier.take(), { sent: [], events: [] });
    assert.equal(rig.client.phase, 'disconnected');
  });
}
