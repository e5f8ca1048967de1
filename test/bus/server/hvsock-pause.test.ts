import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerRequestError, type HvsockConnectRequest } from '../../../src/bus/server/index.js';
import { hex } from '../../wire/messages/hex.js';
import {
  gpadlCreatedBytes,
  modifyConnectionResponseBytes,
  offerBytes,
  tlConnectResultBytes,
  unloadCompleteBytes,
} from './layouts.js';
import {
  PAGE,
  STATUS_CONNECTION_REFUSED,
  STATUS_SUCCESS,
  V,
  connect,
  connectWithOffers,
  createGpadl,
  did,
  openMessage,
  rangeValues,
  sent,
  setup,
  targetInfo,
  contact,
  traced,
} from './harness.js';

const SERVICE = '0000abcd-facb-11e6-bd58-64006a7986d3'; // hv_sock service GUID template (Linux hyperv_transport.c)
const ENDPOINT = 'e0e16197-dd56-4a10-9195-5ee7a155a838';
const SERVICE_WIRE = 'cdab0000 cbfa e611 bd5864006a7986d3';
const ENDPOINT_WIRE = '9761e1e0 56dd 104a 91955ee7a155a838';
const NIL = '00000000-0000-0000-0000-000000000000';
// Copper feature flags (protocol.rs:154-199).
const MODIFY_CONNECTION = 0x4;
const PAUSE_RESUME = 0x20;
// connection_state values (protocol.rs:335-343).
const SUCCESSFUL = 0;
const FAILED_UNKNOWN = 2;

const tlRequest = { kind: 'TlConnectRequest', endpointId: ENDPOINT, serviceId: SERVICE } as const;

test('TL_CONNECT_REQUEST becomes an hvsock-connect action; accepting offers the hvsocket channel', () => {
  const env = setup();
  connectWithOffers(env, V.Win10Rs4);
  env.send(tlRequest);
  const request: HvsockConnectRequest = { serviceId: SERVICE, endpointId: ENDPOINT, siloId: NIL, hostedSiloUnaware: true };
  assert.deepEqual(env.notifier.take(), [did({ type: 'hvsock-connect', request })]);
  const offerId = env.server.acceptHvsockConnect(request);
  assert.equal(typeof offerId, 'number');
  // interface = service, instance = endpoint; pipe_type BYTE, not for guest accept, version RS5 (hvsock.rs:400-410).
  const userDefined = hex(`00000000 00 00 01000000 ${'00'.repeat(16)} ${'00'.repeat(94)}`);
  assert.deepEqual(env.notifier.takeMessages(), [
    offerBytes({ interfaceId: SERVICE, instanceId: ENDPOINT, flags: 0x2011, userDefined, channelId: 1, connectionId: 0x2001 }),
  ]);
  const again = env.server.acceptHvsockConnect(request);
  assert.ok(again instanceof ServerRequestError && again.code === 'unknown-request');
});

test('refusing answers TL_CONNECT_RESULT with STATUS_CONNECTION_REFUSED (golden bytes)', () => {
  const env = setup();
  connectWithOffers(env, V.Win10Rs5);
  env.send({ ...tlRequest, kind: 'TlConnectRequest2', siloId: NIL });
  const [action] = env.notifier.takeActions();
  assert.ok(action?.type === 'hvsock-connect');
  assert.equal(action.request.hostedSiloUnaware, false); // 5.2 knows silos (channels.rs:3405)
  assert.equal(env.server.refuseHvsockConnect(action.request), undefined);
  assert.deepEqual(env.notifier.takeMessages(), [
    hex(`
      17000000 00000000  # @0 type 23 TL_CONNECT_REQUEST_RESULT (openvmm-vmbus.md §6.9)
      ${ENDPOINT_WIRE}   # @8 endpoint_id
      ${SERVICE_WIRE}    # @24 service_id
      360200c0           # @40 status STATUS_CONNECTION_REFUSED 0xC0000236
    `),
  ]);
});

test('at 4.0 a refusal cannot be told: TL_CONNECT_RESULT exists from 4.1', () => {
  const env = setup();
  connectWithOffers(env, V.Win10);
  env.send(tlRequest);
  const [action] = env.notifier.takeActions();
  assert.ok(action?.type === 'hvsock-connect');
  env.server.refuseHvsockConnect(action.request);
  assert.deepEqual(env.notifier.take(), []);
});

test('beyond 16 pending requests the guest is refused at once', () => {
  const env = setup();
  connectWithOffers(env, V.Iron);
  for (let i = 0; i < 16; i++) env.send({ ...tlRequest, endpointId: `${i.toString(16).padStart(8, '0')}-0000-0000-0000-000000000000` });
  assert.equal(env.notifier.takeActions().length, 16);
  env.send(tlRequest);
  assert.deepEqual(env.notifier.take(), [sent(tlConnectResultBytes(ENDPOINT, SERVICE, STATUS_CONNECTION_REFUSED))]);
  assert.equal(env.trace.ofKind('message-rejected').length, 1);
  assert.equal(env.server.snapshot().pendingHvsockRequests, 16);
});

test('pending hvsocket requests end with the connection', () => {
  const env = setup();
  connectWithOffers(env, V.Iron);
  env.send(tlRequest);
  const [action] = env.notifier.takeActions();
  env.send({ kind: 'Unload' });
  assert.ok(action?.type === 'hvsock-connect');
  const late = env.server.refuseHvsockConnect(action.request);
  assert.ok(late instanceof ServerRequestError && late.code === 'unknown-request');
});

test('PAUSE: PAUSE_RESPONSE, then messages are held until RESUME and sent in order', () => {
  const env = setup();
  const first = env.server.offerChannel({ interfaceId: SERVICE, instanceId: NIL }) as number;
  connectWithOffers(env, V.Copper, PAUSE_RESUME);
  env.send({ kind: 'Pause' });
  assert.deepEqual(env.notifier.take(), [sent(hex('1c000000 00000000  # type 28 PAUSE_RESPONSE'))]);
  env.server.offerChannel({ interfaceId: SERVICE, instanceId: ENDPOINT });
  env.server.rescindChannel(first);
  assert.deepEqual(env.notifier.take(), []);
  assert.equal(env.server.snapshot().heldMessages, 2);
  // Anything but RESUME, UNLOAD or INITIATE_CONTACT is ignored while paused (channels.rs:3665-3682).
  env.send({ kind: 'RequestOffers' });
  assert.deepEqual(traced(env), [['message-dropped', 'the guest paused the server; only RESUME, UNLOAD or INITIATE_CONTACT are read']]);
  env.send({ kind: 'Resume' });
  const messages = env.notifier.takeMessages();
  assert.deepEqual(messages.map((m) => m[0]), [1, 2]); // OFFER_CHANNEL, then RESCIND_CHANNEL_OFFER
  assert.equal(env.server.snapshot().paused, false);
  env.send({ kind: 'Resume' });
  assert.deepEqual(traced(env).at(-1), ['message-dropped', 'the server is not paused']);
});

test('UNLOAD while paused sends the held messages, then UNLOAD_COMPLETE', () => {
  const env = setup();
  connectWithOffers(env, V.Copper, PAUSE_RESUME);
  env.send({ kind: 'Pause' });
  env.notifier.take();
  env.server.offerChannel({ interfaceId: SERVICE, instanceId: ENDPOINT });
  env.send({ kind: 'Unload' });
  const out = env.notifier.take();
  assert.equal(out.length, 3);
  assert.deepEqual(out.slice(1), [did({ type: 'disconnected' }), sent(unloadCompleteBytes())]);
});

test('GPADL and open answers are held while paused too', () => {
  const env = setup();
  const id = env.server.offerChannel({ interfaceId: SERVICE, instanceId: NIL }) as number;
  connectWithOffers(env, V.Copper, PAUSE_RESUME);
  createGpadl(env, 1, 5, [1, 2]);
  env.send(openMessage(1, { gpadlId: 5, split: 1 }));
  env.send({ kind: 'Pause' });
  env.notifier.take();
  env.server.openComplete(id, STATUS_SUCCESS);
  assert.deepEqual(env.notifier.take(), []);
  env.send({ kind: 'Resume' });
  assert.equal(env.notifier.takeMessages()[0]![0], 6); // OPEN_CHANNEL_RESULT
  env.send({ kind: 'GpadlHeader', channelId: 1, gpadlId: 6, len: 16, count: 1, range: rangeValues(0, PAGE, [3]) });
  assert.deepEqual(env.notifier.takeMessages(), [gpadlCreatedBytes(1, 6, STATUS_SUCCESS)]);
});

test('PAUSE exists only with Copper + pause_resume', () => {
  const env = setup();
  connect(env, V.Copper);
  env.send({ kind: 'Pause' });
  assert.deepEqual(env.notifier.take(), []);
  assert.match(env.trace.events[0]!.reason!, /^not-negotiated/);
});

test('MODIFY_CONNECTION replaces the monitor pages, both or neither (golden bytes)', () => {
  const env = setup();
  env.send(contact(V.Copper, { interruptPageOrTargetInfo: targetInfo(2, 0, MODIFY_CONNECTION) }));
  env.notifier.take();
  env.send({ kind: 'ModifyConnection', parentToChildMonitorPageGpa: 0x5000n, childToParentMonitorPageGpa: 0x6000n });
  assert.deepEqual(env.notifier.take(), [
    did({ type: 'monitor-pages-changed', monitorPages: { parentToChild: 0x5000n, childToParent: 0x6000n } }),
    sent(hex('1a000000 00000000 00  # type 26 MODIFY_CONNECTION_RESPONSE, connection_state @8 SUCCESSFUL')),
  ]);
  assert.deepEqual(env.server.connection?.monitorPages, { parentToChild: 0x5000n, childToParent: 0x6000n });
  env.send({ kind: 'ModifyConnection', parentToChildMonitorPageGpa: 0x5000n, childToParentMonitorPageGpa: 0n });
  assert.deepEqual(env.notifier.take(), [sent(modifyConnectionResponseBytes(FAILED_UNKNOWN))]);
  env.send({ kind: 'ModifyConnection', parentToChildMonitorPageGpa: 0n, childToParentMonitorPageGpa: 0n });
  assert.deepEqual(env.notifier.take(), [did({ type: 'monitor-pages-changed', monitorPages: null }), sent(modifyConnectionResponseBytes(SUCCESSFUL))]);
});

test('MODIFY_CONNECTION is refused while an open channel uses MNF, or when the server owns the pages', () => {
  const env = setup();
  const id = env.server.offerChannel({ interfaceId: SERVICE, instanceId: NIL, monitored: true }) as number;
  env.send(contact(V.Copper, { interruptPageOrTargetInfo: targetInfo(2, 0, MODIFY_CONNECTION), parentToChild: 0x1000n, childToParent: 0x2000n }));
  env.send({ kind: 'RequestOffers' });
  env.notifier.take();
  createGpadl(env, 1, 5, [1, 2]);
  env.send(openMessage(1, { gpadlId: 5, split: 1 }));
  env.server.openComplete(id, STATUS_SUCCESS);
  env.notifier.take();
  env.send({ kind: 'ModifyConnection', parentToChildMonitorPageGpa: 0x5000n, childToParentMonitorPageGpa: 0x6000n });
  assert.deepEqual(env.notifier.take(), [sent(modifyConnectionResponseBytes(FAILED_UNKNOWN))]);
  assert.deepEqual(traced(env), [['message-rejected', 'open channel 1 uses the monitor pages']]);

  const serverPages = setup({ serverMonitorPages: { parentToChild: 0x7000n, childToParent: 0x8000n } });
  serverPages.send(contact(V.Copper, { interruptPageOrTargetInfo: targetInfo(2, 0, MODIFY_CONNECTION | 0x40) }));
  serverPages.notifier.take();
  serverPages.send({ kind: 'ModifyConnection', parentToChildMonitorPageGpa: 0x5000n, childToParentMonitorPageGpa: 0x6000n });
  assert.deepEqual(serverPages.notifier.take(), [sent(modifyConnectionResponseBytes(FAILED_UNKNOWN))]);
});
