import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MESSAGE_TABLE,
  VMBUS_VERSION as V,
  VMBUS_VERSIONS,
  decodeMessage,
  encodeMessage,
  initiateContactKind,
  messageAllowed,
  openChannelKind,
  senderKind,
  tlConnectRequestKind,
  versionResponseKind,
} from '../../../src/wire/messages/index.js';
import type { MessageSpec, MessageTypeName } from '../../../src/wire/messages/index.js';
import { WireError } from '../../../src/wire/wire-error.js';
import { CHANNEL_VECTORS } from './vectors-channel.js';
import { CONNECTION_VECTORS } from './vectors-connection.js';

// Copper feature bits, openvmm-vmbus.md §2.1 (protocol.rs:153-199).
const SIGNAL_PARAMETERS = 0x1;
const INTERRUPT_REDIRECTION = 0x2;
const MODIFY_CONNECTION = 0x4;
const SERVER_MONITOR_PAGES = 0x40;

test('versionResponseKind: 16 bytes before Copper or when refused, 20 at Copper, 40 with server monitor pages', () => {
  // channels.rs:2515-2572 (openvmm-vmbus.md §6.8).
  assert.equal(versionResponseKind(null, SERVER_MONITOR_PAGES), 'VersionResponse');
  assert.equal(versionResponseKind(V.Iron, SERVER_MONITOR_PAGES), 'VersionResponse');
  assert.equal(versionResponseKind(V.Win8, 0), 'VersionResponse');
  assert.equal(versionResponseKind(V.Copper, 0), 'VersionResponse2');
  assert.equal(versionResponseKind(V.Copper, 0x3f), 'VersionResponse2');
  assert.equal(versionResponseKind(V.Copper, SERVER_MONITOR_PAGES), 'VersionResponse3');
});

test('initiateContactKind: InitiateContact2 when requesting Copper or later (vmbus_client/src/lib.rs:629-633)', () => {
  assert.equal(initiateContactKind(V.Iron), 'InitiateContact');
  assert.equal(initiateContactKind(V.Win8), 'InitiateContact');
  assert.equal(initiateContactKind(V.Copper), 'InitiateContact2');
});

test('openChannelKind: OpenChannel2 at Copper with either signal feature (protocol.rs:64-67)', () => {
  assert.equal(openChannelKind(V.Copper, SIGNAL_PARAMETERS), 'OpenChannel2');
  assert.equal(openChannelKind(V.Copper, INTERRUPT_REDIRECTION), 'OpenChannel2');
  assert.equal(openChannelKind(V.Copper, MODIFY_CONNECTION), 'OpenChannel');
  assert.equal(openChannelKind(V.Iron, SIGNAL_PARAMETERS | INTERRUPT_REDIRECTION), 'OpenChannel');
  assert.equal(openChannelKind(V.V1, 0), 'OpenChannel');
});

test('tlConnectRequestKind: none before Win10, TlConnectRequest2 from Win10Rs5 (protocol.rs:93-98)', () => {
  assert.equal(tlConnectRequestKind(V.Win8_1), undefined);
  assert.equal(tlConnectRequestKind(V.Win10), 'TlConnectRequest');
  assert.equal(tlConnectRequestKind(V.Win10Rs4), 'TlConnectRequest');
  assert.equal(tlConnectRequestKind(V.Win10Rs5), 'TlConnectRequest2');
});

test('messageAllowed follows the table gates: MODIFY_CHANNEL_RESPONSE from Iron, PAUSE with pause_resume', () => {
  // openvmm-vmbus.md §2.2.
  assert.equal(messageAllowed('MODIFY_CHANNEL_RESPONSE', V.Win10Rs5, 0), false);
  assert.equal(messageAllowed('MODIFY_CHANNEL_RESPONSE', V.Iron, 0), true);
  assert.equal(messageAllowed('PAUSE', V.Copper, 0), false);
  assert.equal(messageAllowed('PAUSE', V.Copper, 0x20), true);
  assert.equal(messageAllowed('CLOSE_RESERVED_CHANNEL', null, 0), true);
  assert.equal(messageAllowed('OFFER_CHANNEL', null, 0), false);
});

const SAMPLE = new Map([...CHANNEL_VECTORS, ...CONNECTION_VECTORS].map((v) => [v.kind, v.message]));
const FEATURE_SETS = [0, 0x1, 0x2, 0x4, 0x8, 0x10, 0x20, 0x40, 0x80, 0xff];

test('whatever variant a sender picks at a version and feature set, a receiver at the same state decodes as that variant', () => {
  for (const spec of MESSAGE_TABLE as readonly MessageSpec[]) {
    const receiver = spec.direction === 'guest-to-host' ? 'host' : 'guest';
    for (const version of [null, ...VMBUS_VERSIONS]) {
      for (const features of FEATURE_SETS) {
        const name = spec.name as MessageTypeName;
        const kind = senderKind(name, version, features);
        assert.equal(kind !== undefined, messageAllowed(name, version, features), `${spec.name} at ${version}`);
        if (kind === undefined) continue;
        const bytes = encodeMessage(SAMPLE.get(kind)!);
        assert.ok(bytes instanceof Uint8Array);
        // VERSION_RESPONSE and INITIATE_CONTACT travel before the version is set on the receiving side.
        const receiverVersion = spec.variants.every((v) => v.minVersion === 0) ? null : version;
        const decoded = decodeMessage(bytes, { receiver, version: receiverVersion, features });
        assert.ok(!(decoded instanceof WireError), `${kind} at ${version}/${features}: ${String(decoded)}`);
        assert.equal(decoded.kind, kind);
      }
    }
  }
});
