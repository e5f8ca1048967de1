import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientRequestError, FIRST_GPADL_ID } from '../../../src/bus/client/index.js';
import {
  COPPER,
  HEARTBEAT_IC,
  HEARTBEAT_IC_WIRE,
  HOST_CONNECTION_ID,
  KVP_IC,
  KVP_IC_WIRE,
  MODIFY_CONNECTION,
  PAUSE_RESUME,
  PAUSE_RESPONSE,
  SHUTDOWN_IC,
  SHUTDOWN_IC_WIRE,
  UNLOAD_COMPLETE,
  V1,
  WIN10,
  WIN10_RS3_0,
  WIN10_RS5,
  WIN7,
  WIN8_1,
  assertSound,
  channelWithRing,
  connectedRig,
  drops,
  fromHost,
  gpadlCreated,
  newRig,
  offer,
  openResult,
  pagesRange,
  rescind,
  sentOn,
  u32,
  u8,
  versionResponse2,
} from './harness.js';

// NTSTATUS STATUS_CANCELLED (ntstatus.ts): what requests cut short by an unload end with.
const STATUS_CANCELLED = 0xc000_0120;
// STATUS_CONNECTION_REFUSED, the host's hvsocket failure (protocol.rs:31-33).
const STATUS_CONNECTION_REFUSED = 0xc000_0236;
// UNLOAD (16): header only (openvmm-vmbus.md §6.9).
const UNLOAD = '10000000 00000000';

test('unload ends every waiting request, forgets every record and leaves the client ready to connect again', () => {
  const rig = connectedRig(COPPER, 0x2f);
  const ring = channelWithRing(rig, 1);
  rig.client.openChannel(1, { ringGpadlId: ring, downstreamRingPageOffset: 2, targetVp: 0 });
  fromHost(rig, openResult(1, 1, 0));
  rig.client.modifyChannel(1, 2);
  const ring2 = channelWithRing(rig, 2);
  const openId = rig.client.openChannel(2, { ringGpadlId: ring2, downstreamRingPageOffset: 2, targetVp: 0 });
  const creating = rig.client.createGpadl(1, [pagesRange(0x900, 1)]) as number;
  rig.client.tlConnect({ endpointId: KVP_IC, serviceId: HEARTBEAT_IC });
  rig.client.modifyConnection({ parentToChild: 0x1000n, childToParent: 0x2000n });
  rig.notifier.take();

  assert.equal(rig.client.unload(), undefined);
  assert.deepEqual(rig.notifier.take(), { sent: [sentOn(HOST_CONNECTION_ID, UNLOAD)], events: [] });
  assert.equal(rig.client.phase, 'unloading');
  assert.equal((rig.client.createGpadl(1, [pagesRange(0, 1)]) as ClientRequestError).code, 'invalid-state');
  // The host may still answer earlier requests before UNLOAD_COMPLETE.
  fromHost(rig, gpadlCreated(1, creating, 0));
  assert.equal(rig.notifier.take().events[0]?.kind, 'gpadl-created');

  fromHost(rig, UNLOAD_COMPLETE);
  assert.deepEqual(rig.notifier.take(), {
    sent: [],
    events: [
      { kind: 'gpadl-torndown', channelId: 1, gpadlId: ring, cause: 'unloaded' },
      { kind: 'gpadl-torndown', channelId: 2, gpadlId: ring2, cause: 'unloaded' },
      { kind: 'gpadl-torndown', channelId: 1, gpadlId: creating, cause: 'unloaded' },
      { kind: 'modify-channel-result', channelId: 1, targetVp: 2, status: STATUS_CANCELLED, cause: 'unloaded' },
      { kind: 'open-result', channelId: 2, openId, status: STATUS_CANCELLED, cause: 'unloaded' },
      { kind: 'tl-connect-result', endpointId: KVP_IC, serviceId: HEARTBEAT_IC, status: STATUS_CANCELLED, channelId: null, cause: 'unloaded' },
      // CONNECTION_STATE 2 = failed unknown failure (protocol.rs:335-343).
      { kind: 'modify-connection-result', connectionState: 2, cause: 'unloaded' },
      { kind: 'unloaded', cause: 'host' },
    ],
  });
  assert.equal(rig.client.phase, 'disconnected');
  assert.deepEqual(Object.values(rig.client.counts()), [0, 0, 0, 0, 0, 0, 0, 0]);
  assertSound(rig);
  assert.equal(rig.client.connect({ targetMessageVp: 0 }), undefined);
});

test('a 0.13 host sends no UNLOAD_COMPLETE (it exists from Win7), so unload completes as it is sent', () => {
  const rig = connectedRig(V1);
  fromHost(rig, offer({ channelId: 1 }));
  rig.notifier.take();
  assert.equal(rig.client.unload(), undefined);
  assert.deepEqual(rig.notifier.take(), { sent: [sentOn(1, UNLOAD)], events: [{ kind: 'unloaded', cause: 'unacknowledged' }] });
  assert.equal(rig.client.counts().channels, 0);
  const win7 = connectedRig(WIN7);
  win7.client.unload();
  assert.equal(win7.client.phase, 'unloading');
});

test('UNLOAD_COMPLETE nobody waits for is dropped; unload needs a connection', () => {
  const rig = connectedRig(COPPER);
  fromHost(rig, UNLOAD_COMPLETE);
  assert.match(drops(rig)[0]!.reason!, /UNLOAD_COMPLETE while connected/);
  assert.equal(rig.client.phase, 'connected');
  assert.equal((newRig().client.unload() as ClientRequestError).code, 'invalid-state');
});

test('pause waits for PAUSE_RESPONSE; the paused connection takes only RESUME or UNLOAD, and drops host messages', () => {
  const rig = connectedRig(COPPER, PAUSE_RESUME);
  assert.equal(rig.client.pause(), undefined);
  // PAUSE (27), PAUSE_RESPONSE (28), RESUME (29): header only, 6.0 + pause_resume (openvmm-vmbus.md §2.2).
  assert.deepEqual(rig.notifier.take().sent, [sentOn(HOST_CONNECTION_ID, '1b000000 00000000')]);
  assert.equal((rig.client.unload() as ClientRequestError).code, 'busy');
  assert.equal((rig.client.resume() as ClientRequestError).code, 'invalid-state');
  // Until PAUSE_RESPONSE the host may still send.
  fromHost(rig, offer({ channelId: 1 }));
  fromHost(rig, PAUSE_RESPONSE);
  assert.deepEqual(rig.notifier.take().events.map((e) => e.kind), ['offer', 'paused']);
  assert.equal((rig.client.createGpadl(1, [pagesRange(0, 1)]) as ClientRequestError).code, 'invalid-state');
  fromHost(rig, rescind(1));
  assert.match(drops(rig)[0]!.reason!, /RescindChannelOffer while the connection is paused/);
  assert.equal(rig.client.resume(), undefined);
  assert.deepEqual(rig.notifier.take().sent, [sentOn(HOST_CONNECTION_ID, '1d000000 00000000')]);
  fromHost(rig, rescind(1));
  assert.deepEqual(rig.notifier.take().events, [{ kind: 'rescinded', channelId: 1 }]);
  fromHost(rig, PAUSE_RESPONSE);
  assert.match(drops(rig)[1]!.reason!, /PAUSE_RESPONSE while running/);
  assertSound(rig);
});

test('a paused connection can unload; PAUSE needs the feature', () => {
  const rig = connectedRig(COPPER, PAUSE_RESUME);
  rig.client.pause();
  fromHost(rig, PAUSE_RESPONSE);
  assert.equal(rig.client.unload(), undefined);
  assert.equal(rig.client.phase, 'unloading');
  assertSound(rig);
  assert.equal((connectedRig(COPPER, 0).client.pause() as ClientRequestError).code, 'not-negotiated');
});

/** TL_CONNECT_REQUEST (21): endpoint_id @8, service_id @24 (+ silo_id @40 in v2) (openvmm-vmbus.md §6.9). */
const TL_REQUEST = `15000000 00000000 ${KVP_IC_WIRE} ${HEARTBEAT_IC_WIRE}`;
/** TL_CONNECT_REQUEST_RESULT (23): endpoint_id @8, service_id @24, status @40 (openvmm-vmbus.md §6.9). */
const tlResult = (status: number): string => `17000000 00000000 ${KVP_IC_WIRE} ${HEARTBEAT_IC_WIRE} ${u32(status)}`;

test('TL connect at 4.x sends the 40-byte request and at 5.2 the 56-byte one with the silo id', () => {
  const win10 = connectedRig(WIN10);
  assert.equal(win10.client.tlConnect({ endpointId: KVP_IC, serviceId: HEARTBEAT_IC }), undefined);
  assert.deepEqual(win10.notifier.take().sent, [sentOn(1, TL_REQUEST)]);
  const refusal = win10.client.tlConnect({ endpointId: HEARTBEAT_IC, serviceId: KVP_IC, siloId: SHUTDOWN_IC });
  assert.equal((refusal as ClientRequestError).code, 'not-negotiated');

  const rs5 = connectedRig(WIN10_RS5);
  // Any GUID spelling is accepted and sent canonically.
  rs5.client.tlConnect({ endpointId: KVP_IC.toUpperCase(), serviceId: `{${HEARTBEAT_IC}}`, siloId: SHUTDOWN_IC });
  assert.deepEqual(rs5.notifier.take().sent, [sentOn(HOST_CONNECTION_ID, `${TL_REQUEST} ${SHUTDOWN_IC_WIRE}`)]);
  assert.equal((connectedRig(WIN8_1).client.tlConnect({ endpointId: KVP_IC, serviceId: HEARTBEAT_IC }) as ClientRequestError).code, 'not-negotiated');
});

test('TL_CONNECT_REQUEST_RESULT ends the matching request; duplicates and strangers are refused or dropped', () => {
  const rig = connectedRig(WIN10_RS3_0);
  rig.client.tlConnect({ endpointId: KVP_IC, serviceId: HEARTBEAT_IC });
  assert.equal((rig.client.tlConnect({ endpointId: KVP_IC, serviceId: HEARTBEAT_IC }) as ClientRequestError).code, 'busy');
  rig.notifier.take();
  fromHost(rig, tlResult(STATUS_CONNECTION_REFUSED));
  fromHost(rig, tlResult(STATUS_CONNECTION_REFUSED));
  assert.deepEqual(rig.notifier.take().events, [
    { kind: 'tl-connect-result', endpointId: KVP_IC, serviceId: HEARTBEAT_IC, status: STATUS_CONNECTION_REFUSED, channelId: null, cause: 'host' },
  ]);
  assert.match(drops(rig)[0]!.reason!, /which nobody asked for/);
  assertSound(rig);
});

test('an hvsocket offer for the endpoint and service completes the TL connect with its channel', () => {
  const rig = connectedRig(WIN10_RS5);
  rig.client.tlConnect({ endpointId: KVP_IC, serviceId: HEARTBEAT_IC });
  rig.notifier.take();
  // OfferFlags tlnpi_provider 0x2000 | named_pipe_mode 0x10; hvsock user data: is_for_guest_accept u8 @4 (openvmm-vmbus.md §6.6).
  const hvsock = (channelId: number, forGuestAccept: number): string =>
    offer({
      channelId,
      interfaceWire: HEARTBEAT_IC_WIRE,
      instanceWire: KVP_IC_WIRE,
      flags: 0x2010,
      userDefined: `00000000 ${u8(forGuestAccept)} ${'00'.repeat(115)}`,
    });
  fromHost(rig, hvsock(6, 1));
  assert.deepEqual(rig.notifier.take().events.map((e) => e.kind), ['offer']);
  fromHost(rig, rescind(6));
  fromHost(rig, hvsock(7, 0));
  const events = rig.notifier.take().events;
  assert.deepEqual(events.map((e) => e.kind), ['rescinded', 'offer', 'tl-connect-result']);
  assert.deepEqual(events[2], {
    kind: 'tl-connect-result', endpointId: KVP_IC, serviceId: HEARTBEAT_IC, status: 0, channelId: 7, cause: 'host',
  });
  assert.equal(rig.client.counts().pendingTlConnects, 0);
});

test('MODIFY_CONNECTION moves the monitor pages and waits for its response', () => {
  const rig = connectedRig(COPPER, MODIFY_CONNECTION);
  assert.equal(rig.client.modifyConnection({ parentToChild: 0x3000n, childToParent: 0x4000n }), undefined);
  // MODIFY_CONNECTION (25): parent_to_child @8, child_to_parent @16, 24 bytes (openvmm-vmbus.md §6.9).
  assert.deepEqual(rig.notifier.take().sent, [
    sentOn(HOST_CONNECTION_ID, '19000000 00000000 0030000000000000 0040000000000000'),
  ]);
  const again = rig.client.modifyConnection({ parentToChild: 0n, childToParent: 0n });
  assert.equal((again as ClientRequestError).code, 'busy');
  // MODIFY_CONNECTION_RESPONSE (26): connection_state u8 @8, 9 bytes.
  fromHost(rig, '1a000000 00000000 00');
  fromHost(rig, '1a000000 00000000 00');
  assert.deepEqual(rig.notifier.take().events, [{ kind: 'modify-connection-result', connectionState: 0, cause: 'host' }]);
  assert.match(drops(rig)[0]!.reason!, /no MODIFY_CONNECTION waiting/);
  const unaligned = rig.client.modifyConnection({ parentToChild: 0x3001n, childToParent: 0x4000n });
  assert.equal((unaligned as ClientRequestError).code, 'bad-argument');
  assert.equal((connectedRig(COPPER, 0).client.modifyConnection({ parentToChild: 0n, childToParent: 0n }) as ClientRequestError).code, 'not-negotiated');
});

test('CLOSE_RESERVED_RESPONSE is dropped: this client opens no reserved channels', () => {
  const rig = connectedRig(WIN10);
  // CLOSE_RESERVED_RESPONSE (20): channel_id @8, 12 bytes (openvmm-vmbus.md §6.9).
  fromHost(rig, '14000000 00000000 05000000');
  assert.equal(drops(rig)[0]?.reason, 'CLOSE_RESERVED_RESPONSE for channel 5: this client opens no reserved channels');
});

test('a notifier may call back into the client from an event; its decisions follow the current ones', () => {
  const rig = newRig();
  const order: string[] = [];
  const { client } = rig;
  const notifier = rig.notifier;
  notifier.event = (e) => {
    order.push(`event ${e.kind}`);
    if (e.kind === 'connected') client.requestOffers();
    if (e.kind === 'offer') client.createGpadl(e.offer.channelId, [pagesRange(0x10, 1)]);
  };
  notifier.sendMessage = (bytes) => order.push(`send ${bytes[0]}`);
  client.connect({ targetMessageVp: 0, versions: [COPPER] });
  fromHost(rig, versionResponse2(HOST_CONNECTION_ID, 0));
  fromHost(rig, offer({ channelId: 1 }));
  // Message types: 14 INITIATE_CONTACT, 3 REQUEST_OFFERS, 8 GPADL_HEADER (openvmm-vmbus.md §2.2).
  assert.deepEqual(order, ['send 14', 'event connected', 'send 3', 'event offer', 'send 8']);
  assert.equal(client.gpadl(FIRST_GPADL_ID)?.state, 'creating');
});
