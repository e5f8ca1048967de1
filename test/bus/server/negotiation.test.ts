import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hex } from '../../wire/messages/hex.js';
import { versionResponseBytes } from './layouts.js';
import {
  CONNECTION_ID,
  MULTICLIENT_CONNECTION_ID,
  REFUSED,
  TO_VP0,
  V,
  connect,
  contact,
  did,
  sent,
  setup,
  targetInfo,
  traced,
} from './harness.js';

// Copper feature flags (openvmm-vmbus.md §2.1; protocol.rs:154-199).
const GUEST_SIGNAL = 0x1;
const CLIENT_ID = 0x8;
const SERVER_MONITOR_PAGES = 0x40;
// The server's default set: 0x1|0x2|0x4|0x8|0x20 (channels.rs:1336-1342, without 0x40 unless it has pages).
const DEFAULT_FEATURES = 0x2f;
// VersionResponse connection_state FAILED_UNKNOWN_FAILURE (protocol.rs:335-343).
const FAILED_UNKNOWN = 2;
const NIL = '00000000-0000-0000-0000-000000000000';

const connected = (version: number, more: Partial<Record<string, unknown>> = {}) =>
  did({
    type: 'connected',
    connection: {
      version,
      features: 0,
      targetMessageVp: 0,
      interruptPage: null,
      monitorPages: null,
      serverMonitorPages: false,
      clientId: NIL,
      ...more,
    },
  });

test('Win10 (4.0) is accepted with a 16-byte VERSION_RESPONSE echoing the version (golden bytes)', () => {
  const env = setup();
  env.send(contact(V.Win10));
  assert.deepEqual(env.notifier.take(), [
    connected(V.Win10),
    sent(
      hex(`
        0f000000 00000000  # @0 type 15 VERSION_RESPONSE, header padding
        01                 # @8 version_supported
        00                 # @9 connection_state SUCCESSFUL
        0000               # @10 padding
        00000400           # @12 selected_version_or_connection_id = 4.0 (openvmm-vmbus.md §6.8)
      `),
    ),
  ]);
  assert.equal(env.server.snapshot().connection, 'connected');
  assert.deepEqual(env.trace.events, []);
});

// Every version the server speaks (openvmm-vmbus.md §2.1). Before 5.0 the response echoes the version; from
// 5.0 it carries the message connection id (channels.rs:2538-2543), 1 for a VTL0 server (lib.rs:292).
for (const [name, version] of Object.entries(V)) {
  test(`version ${name} is accepted with the per-version VERSION_RESPONSE`, () => {
    const env = setup();
    env.send(contact(version));
    const selected = version >= V.Win10Rs3_1 ? CONNECTION_ID : version;
    const features = version >= V.Copper ? 0 : undefined;
    const response = versionResponseBytes({ supported: 1, selected, ...(features === undefined ? {} : { features }) });
    assert.deepEqual(env.notifier.take(), [connected(version), sent(response)]);
    assert.equal(env.server.snapshot().version, version);
  });
}

for (const [label, version] of [
  ['a version never defined', 0xffff_ffff],
  ['5.4, between Iron and Copper', 0x0005_0004],
  ['6.1, newer than Copper', 0x0006_0001],
  ['0.0', 0],
] as const) {
  test(`${label} is refused with the 16-byte VERSION_RESPONSE, version_supported 0`, () => {
    const env = setup();
    env.send(contact(version));
    assert.deepEqual(env.notifier.take(), [sent(REFUSED)]);
    assert.equal(env.server.snapshot().connection, 'disconnected');
    assert.equal(env.trace.events.length, 1);
    assert.equal(env.trace.events[0]!.kind, 'message-rejected');
    assert.match(env.trace.events[0]!.reason!, /not supported/);
  });
}

test('from 5.0 the response carries the configured message connection id; before 5.0 the version', () => {
  const env = setup({ messageConnectionId: 0x80_0074 });
  env.send(contact(V.Win10Rs3_1));
  assert.deepEqual(env.notifier.takeMessages(), [versionResponseBytes({ supported: 1, selected: 0x80_0074 })]);
  const old = setup({ messageConnectionId: 0x80_0074 });
  old.send(contact(V.Win10Rs3_0));
  assert.deepEqual(old.notifier.takeMessages(), [versionResponseBytes({ supported: 1, selected: V.Win10Rs3_0 })]);
});

test('a 5.0+ guest may contact the multiclient port 4; later messages may use either port', () => {
  const env = setup();
  env.send(contact(V.Iron), MULTICLIENT_CONNECTION_ID);
  assert.deepEqual(env.notifier.takeMessages(), [versionResponseBytes({ supported: 1, selected: CONNECTION_ID })]);
  env.send({ kind: 'RequestOffers' }, CONNECTION_ID);
  assert.equal(env.notifier.takeMessages().length, 1); // ALL_OFFERS_DELIVERED
});

test('a message on a connection id the server does not listen on is dropped and traced', () => {
  const env = setup();
  env.send(contact(V.Win10), 7);
  assert.deepEqual(env.notifier.take(), []);
  assert.deepEqual(traced(env), [['message-dropped', 'connection id 7 is not a message port of this server']]);
});

test('Copper: the response reports the intersection of server and guest feature flags (VersionResponse2)', () => {
  const cases: [requested: number, granted: number][] = [
    [0, 0],
    [GUEST_SIGNAL, GUEST_SIGNAL],
    [(GUEST_SIGNAL | 0xf000_0000) >>> 0, GUEST_SIGNAL], // unknown bits are not granted (channels.rs test_version_negotiation_feature_flags)
    [0xff, DEFAULT_FEATURES], // confidential 0x10, server pages 0x40 and pinning 0x80 are not in the default set
  ];
  for (const [requested, granted] of cases) {
    const env = setup();
    // Asking for client_id (0x8) requires the 56-byte InitiateContact2.
    const clientId = (requested & CLIENT_ID) !== 0 ? { clientId: 'e6e6e6e6-e6e6-e6e6-e6e6-e6e6e6e6e6e6' } : {};
    env.send(contact(V.Copper, { interruptPageOrTargetInfo: targetInfo(2, 0, requested), ...clientId }));
    assert.deepEqual(env.notifier.takeMessages(), [
      hex(`0f000000 00000000 01 00 0000 01000000  # accepted, connection id 1
           ${granted.toString(16).padStart(2, '0')}000000  # @16 supported_features (protocol.rs:360-363)`),
    ]);
    assert.equal(env.server.connection?.features, granted);
  }
});

test('the features option limits what is granted', () => {
  const env = setup({ features: GUEST_SIGNAL });
  env.send(contact(V.Copper, { interruptPageOrTargetInfo: targetInfo(2, 0, 0xff & ~CLIENT_ID) }));
  assert.deepEqual(env.notifier.takeMessages(), [versionResponseBytes({ supported: 1, selected: 1, features: GUEST_SIGNAL })]);
});

test('feature flags before Copper are ignored: no flags, 16-byte response', () => {
  const env = setup();
  // At 5.3 the u64 @16 is target info too, but its feature bits mean nothing (channels.rs:2175-2180).
  env.send(contact(V.Iron, { interruptPageOrTargetInfo: targetInfo(2, 0, 0xff) }));
  assert.deepEqual(env.notifier.takeMessages(), [versionResponseBytes({ supported: 1, selected: 1 })]);
  assert.equal(env.server.connection?.features, 0);
});

test('server-specified monitor pages: VersionResponse3 carries the server pages, which replace the guest ones', () => {
  const pages = { parentToChild: 0x5000n, childToParent: 0x6000n };
  const env = setup({ serverMonitorPages: pages });
  env.send(contact(V.Copper, { interruptPageOrTargetInfo: targetInfo(2, 0, SERVER_MONITOR_PAGES), parentToChild: 0x1000n, childToParent: 0x2000n }));
  assert.deepEqual(env.notifier.take(), [
    connected(V.Copper, { features: SERVER_MONITOR_PAGES, monitorPages: pages, serverMonitorPages: true }),
    sent(
      hex(`
        0f000000 00000000 01 00 0000 01000000
        40000000            # @16 supported_features: server_specified_monitor_pages
        00000000            # @20 padding
        0050000000000000    # @24 parent_to_child_monitor_page_gpa (protocol.rs:365-375)
        0060000000000000    # @32 child_to_parent_monitor_page_gpa
      `),
    ),
  ]);
});

test('without server pages, server_specified_monitor_pages is not granted and the guest pages are used', () => {
  const env = setup();
  env.send(contact(V.Copper, { interruptPageOrTargetInfo: targetInfo(2, 0, SERVER_MONITOR_PAGES), parentToChild: 0x1000n, childToParent: 0x2000n }));
  assert.deepEqual(env.notifier.take(), [
    connected(V.Copper, { monitorPages: { parentToChild: 0x1000n, childToParent: 0x2000n } }),
    sent(versionResponseBytes({ supported: 1, selected: 1, features: 0 })),
  ]);
});

test('maxVersion caps negotiation: newer versions are refused, the cap itself is accepted', () => {
  const env = setup({ maxVersion: V.Win10 });
  env.send(contact(V.Iron));
  assert.deepEqual(env.notifier.takeMessages(), [REFUSED]);
  env.send(contact(V.Win10));
  assert.deepEqual(env.notifier.takeMessages(), [versionResponseBytes({ supported: 1, selected: V.Win10 })]);
});

test('monitor pages come both or neither: from Win8 a failure response, before Win8 a refusal', () => {
  const onlyOne = { parentToChild: 0x3000n };
  const win10 = setup();
  win10.send(contact(V.Win10, onlyOne));
  assert.deepEqual(win10.notifier.take(), [sent(versionResponseBytes({ supported: 1, state: FAILED_UNKNOWN, selected: V.Win10 }))]);
  assert.equal(win10.server.snapshot().connection, 'disconnected');
  assert.equal(win10.trace.events[0]!.kind, 'message-rejected');

  const copper = setup();
  copper.send(contact(V.Copper, { ...onlyOne, interruptPageOrTargetInfo: targetInfo(2, 0, GUEST_SIGNAL) }));
  assert.deepEqual(copper.notifier.takeMessages(), [
    versionResponseBytes({ supported: 1, state: FAILED_UNKNOWN, selected: 1, features: GUEST_SIGNAL }),
  ]);

  // Pre-Win8 has no way to report a failure (channels.rs:2530-2536).
  const win7 = setup();
  win7.send(contact(V.Win7, { childToParent: 0x3000n }));
  assert.deepEqual(win7.notifier.takeMessages(), [REFUSED]);

  const both = setup();
  both.send(contact(V.Win10, { parentToChild: 0x3000n, childToParent: 0x4000n }));
  assert.deepEqual(both.notifier.take()[0], connected(V.Win10, { monitorPages: { parentToChild: 0x3000n, childToParent: 0x4000n } }));
});

test('target_message_vp is honoured from Win8.1 (3.0) and ignored before', () => {
  const win8 = setup();
  win8.send(contact(V.Win8, { targetMessageVp: 3 }));
  assert.deepEqual(win8.notifier.take()[1], sent(versionResponseBytes({ supported: 1, selected: V.Win8 }), TO_VP0));

  const win81 = setup();
  win81.send(contact(V.Win8_1, { targetMessageVp: 3 }));
  assert.deepEqual(win81.notifier.take(), [
    connected(V.Win8_1, { targetMessageVp: 3 }),
    sent(versionResponseBytes({ supported: 1, selected: V.Win8_1 }), { vp: 3, sint: 2 }),
  ]);
  win81.send({ kind: 'RequestOffers' });
  assert.deepEqual(win81.notifier.take(), [sent(hex('04000000 00000000'), { vp: 3, sint: 2 })]); // ALL_OFFERS_DELIVERED
});

test('multiclient SINT: honoured from 5.0 on port 4 only; another SINT is refused on that SINT', () => {
  const env = setup();
  env.send(contact(V.Win10Rs3_1, { interruptPageOrTargetInfo: targetInfo(3, 0, 0), targetMessageVp: 1 }), MULTICLIENT_CONNECTION_ID);
  assert.deepEqual(env.notifier.take(), [sent(REFUSED, { vp: 1, sint: 3 })]);
  assert.equal(env.server.snapshot().connection, 'disconnected');
  // On port 1 the target info's SINT is not read (channels.rs test_version_negotiation_multiclient_sint).
  env.send(contact(V.Win10Rs3_1, { interruptPageOrTargetInfo: targetInfo(3, 0, 0) }), CONNECTION_ID);
  assert.equal(env.server.snapshot().connection, 'connected');
});

test('multiclient VTL: from 5.1 on port 4 a request for another VTL is handed on, not answered', () => {
  const env = setup();
  env.send(contact(V.Win10Rs4, { interruptPageOrTargetInfo: targetInfo(2, 2, 0) }), MULTICLIENT_CONNECTION_ID);
  assert.deepEqual(env.notifier.take(), [
    did({
      type: 'contact-for-other-vtl',
      request: {
        versionRequested: V.Win10Rs4,
        targetMessageVp: 0,
        targetSint: 2,
        targetVtl: 2,
        featureFlags: 0,
        interruptPage: null,
        monitorPages: null,
        clientId: NIL,
      },
    }),
  ]);
  assert.equal(env.server.snapshot().connection, 'disconnected');
  // At 5.0 the VTL byte is not read yet.
  env.send(contact(V.Win10Rs3_1, { interruptPageOrTargetInfo: targetInfo(2, 2, 0) }), MULTICLIENT_CONNECTION_ID);
  assert.equal(env.server.snapshot().connection, 'connected');
});

test('a VTL2 server serves VTL2 requests and hands VTL0 ones on', () => {
  const env = setup({ vtl: 2 });
  env.send(contact(V.Win10Rs4, { interruptPageOrTargetInfo: targetInfo(2, 2, 0) }), MULTICLIENT_CONNECTION_ID);
  assert.equal(env.server.snapshot().connection, 'connected');
  const other = setup({ vtl: 2 });
  other.send(contact(V.Win10Rs4));
  assert.equal(other.notifier.takeActions()[0]!.type, 'contact-for-other-vtl');
});

test('the u64 @16 is an interrupt page before Win8 and ignored from Win8', () => {
  const v1 = setup();
  v1.send(contact(V.V1, { interruptPageOrTargetInfo: 0x1234_5000n }));
  assert.deepEqual(v1.notifier.take()[0], connected(V.V1, { interruptPage: 0x1234_5000n }));
  const win8 = setup();
  win8.send(contact(V.Win8, { interruptPageOrTargetInfo: 0x1234_5000n }));
  assert.deepEqual(win8.notifier.take()[0], connected(V.Win8));
});

test('client_id: taken from InitiateContact2 with the feature; a 40-byte request asking for it is dropped', () => {
  const id = 'e6e6e6e6-e6e6-e6e6-e6e6-e6e6e6e6e6e6';
  const env = setup();
  env.send(contact(V.Copper, { interruptPageOrTargetInfo: targetInfo(2, 0, CLIENT_ID), clientId: id }));
  assert.deepEqual(env.notifier.take()[0], connected(V.Copper, { features: CLIENT_ID, clientId: id }));

  const short = setup();
  short.send(contact(V.Copper, { interruptPageOrTargetInfo: targetInfo(2, 0, CLIENT_ID) }));
  assert.deepEqual(short.notifier.take(), []);
  assert.deepEqual(traced(short), [['message-dropped', 'client_id feature requested without the 56-byte InitiateContact2']]);

  // Without the feature the GUID is not used (channels.rs:2217-2231).
  const unused = setup();
  unused.send(contact(V.Copper, { clientId: id }));
  assert.deepEqual(unused.notifier.take()[0], connected(V.Copper));
});

test('INITIATE_CONTACT while connected releases the connection first, then negotiates, without UNLOAD_COMPLETE', () => {
  const env = setup();
  const offer = env.server.offerChannel({ interfaceId: '11111111-0000-0000-0000-000000000000', instanceId: NIL });
  connect(env, V.Win10);
  env.send({ kind: 'RequestOffers' });
  env.notifier.take();
  assert.equal(env.server.offerStatus(offer as number)?.channelId, 1);
  env.send(contact(V.Iron));
  assert.deepEqual(env.notifier.take(), [
    did({ type: 'disconnected' }),
    connected(V.Iron),
    sent(versionResponseBytes({ supported: 1, selected: 1 })),
  ]);
  // The offer waits for the new connection's REQUEST_OFFERS.
  assert.deepEqual(env.server.offerStatus(offer as number), { state: 'client-released', channelId: null, monitorId: null });
});

test('a refused request while connected still ends the old connection', () => {
  const env = setup();
  connect(env, V.Win10);
  env.send(contact(0x0009_0000));
  assert.deepEqual(env.notifier.take(), [did({ type: 'disconnected' }), sent(REFUSED)]);
  assert.equal(env.server.snapshot().connection, 'disconnected');
});
