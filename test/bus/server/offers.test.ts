import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerRequestError } from '../../../src/bus/server/index.js';
import { hex, zeros } from '../../wire/messages/hex.js';
import { allOffersDeliveredBytes, offerBytes } from './layouts.js';
import { V, connect, connectWithOffers, contact, setup, targetInfo, traced } from './harness.js';

const IF_A = '0000000a-0000-0000-0000-000000000000';
const IF_B = '0000000b-0000-0000-0000-000000000000';
const INST_1 = '00000001-0000-0000-0000-000000000000';
const INST_2 = '00000002-0000-0000-0000-000000000000';
const INST_3 = '00000003-0000-0000-0000-000000000000';
// Heartbeat IC class and OpenVMM's shutdown IC instance (linux-vmbus.md §A.5.4-A.5.5), with their
// mixed-endian wire forms (Data1-3 little-endian, Data4 as bytes).
const HEARTBEAT = '57164f39-9115-4e78-ab55-382f3bd5422d';
const HEARTBEAT_WIRE = '394f1657 1591 784e ab55382f3bd5422d';
const SHUTDOWN_INSTANCE = 'b6650ff7-33bc-4840-8048-e0676786f393';
const SHUTDOWN_INSTANCE_WIRE = 'f70f65b6 bc33 4048 8048e0676786f393';

// The guest→host connection id in the offer is `channel_id | sint << 12 | vtl << 16` (protocol.rs:271-276).
const conn = (channelId: number, vtl = 0): number => channelId | (2 << 12) | (vtl << 16);

test('an offer has the golden OFFER_CHANNEL layout: dedicated, no monitor, connection id 0x2000 + id', () => {
  const env = setup();
  env.server.offerChannel({ interfaceId: HEARTBEAT, instanceId: SHUTDOWN_INSTANCE, mmioMegabytes: 0x102, mmioMegabytesOptional: 0x405 });
  connect(env, V.Win10);
  env.send({ kind: 'RequestOffers' });
  assert.deepEqual(env.notifier.takeMessages(), [
    hex(`
      01000000 00000000          # @0 type 1 OFFER_CHANNEL (openvmm-vmbus.md §6.6)
      ${HEARTBEAT_WIRE}          # @8 interface_id
      ${SHUTDOWN_INSTANCE_WIRE}  # @24 instance_id
      ${zeros(16)}               # @40 rsvd
      0000                       # @56 flags: a plain device
      0201                       # @58 mmio_megabytes 0x102
      ${zeros(120)}              # @60 user_defined
      0000                       # @180 subchannel_index 0
      0504                       # @182 mmio_megabytes_optional 0x405
      01000000                   # @184 channel_id 1, the lowest free
      ff                         # @188 monitor_id: none
      00                         # @189 monitor_allocated
      0100                       # @190 is_dedicated 1 (channels.rs:4016)
      01200000                   # @192 connection_id 0x2001
    `),
    hex('04000000 00000000'), // ALL_OFFERS_DELIVERED (type 4)
  ]);
});

test('REQUEST_OFFERS sends the offers sorted by (interface, order, instance) with ids lowest first, then ALL_OFFERS_DELIVERED', () => {
  const env = setup();
  // Offered out of order; OpenVMM sorts before assigning ids (channels.rs:2714-2739).
  env.server.offerChannel({ interfaceId: IF_B, instanceId: INST_1 });
  env.server.offerChannel({ interfaceId: IF_A, instanceId: INST_3 });
  env.server.offerChannel({ interfaceId: IF_A, instanceId: INST_2, order: 5 });
  env.server.offerChannel({ interfaceId: IF_A, instanceId: INST_1 });
  connect(env, V.Win10);
  env.send({ kind: 'RequestOffers' });
  assert.deepEqual(env.notifier.takeMessages(), [
    offerBytes({ interfaceId: IF_A, instanceId: INST_2, channelId: 1, connectionId: conn(1) }), // ordered first within IF_A
    offerBytes({ interfaceId: IF_A, instanceId: INST_1, channelId: 2, connectionId: conn(2) }),
    offerBytes({ interfaceId: IF_A, instanceId: INST_3, channelId: 3, connectionId: conn(3) }),
    offerBytes({ interfaceId: IF_B, instanceId: INST_1, channelId: 4, connectionId: conn(4) }),
    allOffersDeliveredBytes(),
  ]);
});

test('offers made after REQUEST_OFFERS go out at once; offers made before it wait for it', () => {
  const env = setup();
  connect(env, V.Win10);
  const early = env.server.offerChannel({ interfaceId: IF_A, instanceId: INST_1 });
  assert.deepEqual(env.notifier.take(), []);
  assert.deepEqual(env.server.offerStatus(early as number), { state: 'client-released', channelId: null, monitorId: null });
  env.send({ kind: 'RequestOffers' });
  env.notifier.take();
  env.server.offerChannel({ interfaceId: IF_B, instanceId: INST_1 });
  assert.deepEqual(env.notifier.takeMessages(), [offerBytes({ interfaceId: IF_B, instanceId: INST_1, channelId: 2, connectionId: conn(2) })]);
});

test('a monitored offer gets a monitor id, sent only when the connection has monitor pages', () => {
  const withPages = setup();
  withPages.server.offerChannel({ interfaceId: IF_A, instanceId: INST_1, monitored: true });
  withPages.server.offerChannel({ interfaceId: IF_A, instanceId: INST_2 });
  withPages.server.offerChannel({ interfaceId: IF_A, instanceId: INST_3, monitored: true });
  withPages.send(contact(V.Win10, { parentToChild: 0x1000n, childToParent: 0x2000n }));
  withPages.send({ kind: 'RequestOffers' });
  assert.deepEqual(withPages.notifier.takeMessages().slice(1, 4), [
    offerBytes({ interfaceId: IF_A, instanceId: INST_1, channelId: 1, monitorId: 0, monitorAllocated: 1, connectionId: conn(1) }),
    offerBytes({ interfaceId: IF_A, instanceId: INST_2, channelId: 2, connectionId: conn(2) }),
    offerBytes({ interfaceId: IF_A, instanceId: INST_3, channelId: 3, monitorId: 1, monitorAllocated: 1, connectionId: conn(3) }),
  ]);
  assert.deepEqual(withPages.server.snapshot().monitorIds, [0, 1]);

  // No monitor pages: the guest cannot use MNF, so it is sent no monitor id (channels.rs:3997-4003).
  const without = setup();
  without.server.offerChannel({ interfaceId: IF_A, instanceId: INST_1, monitored: true });
  connectWithOffers(without, V.Win10);
  without.server.offerChannel({ interfaceId: IF_B, instanceId: INST_1, monitored: true });
  assert.deepEqual(without.notifier.takeMessages(), [offerBytes({ interfaceId: IF_B, instanceId: INST_1, channelId: 2, connectionId: conn(2) })]);
});

test('a VTL2 server puts the VTL in the offer connection id', () => {
  const env = setup({ vtl: 2 });
  env.server.offerChannel({ interfaceId: IF_A, instanceId: INST_1 });
  env.send(contact(V.Win10Rs4, { interruptPageOrTargetInfo: targetInfo(2, 2, 0) }), 4);
  env.send({ kind: 'RequestOffers' });
  assert.deepEqual(env.notifier.takeMessages()[1], offerBytes({ interfaceId: IF_A, instanceId: INST_1, channelId: 1, connectionId: 0x2_2001 }));
});

test('channel kinds set the offer flags and user-defined bytes (protocol.rs:570-673; channels.rs:673-742)', () => {
  const provider = new Uint8Array(112).fill(0xab);
  const interfaceBytes = new Uint8Array(120).fill(0x5a);
  const silo = '12345678-9abc-def0-1234-56789abcdef0';
  const cases = [
    {
      type: { kind: 'device', pipePackets: true } as const,
      flags: 0x10, // named_pipe_mode
      userDefined: hex(`04000000 ${zeros(116)}  # pipe_type MESSAGE`),
    },
    { type: { kind: 'interface', userDefined: interfaceBytes } as const, flags: 0x1, userDefined: interfaceBytes },
    {
      type: { kind: 'pipe', messageMode: false, userDefined: provider, pipeFlags: 1 } as const,
      flags: 0x11, // enumerate_device_interface | named_pipe_mode
      userDefined: hex(`00000000 # pipe_type BYTE
                        ${'ab'.repeat(112)} # provider bytes @4
                        01000000 # flags @116: gpa_direct`),
    },
    {
      type: { kind: 'hvsocket', isConnect: true, isForContainer: false, siloId: silo } as const,
      flags: 0x2011, // tlnpi_provider | named_pipe_mode | enumerate_device_interface
      userDefined: hex(`00000000   # @0 pipe_type BYTE
                        01         # @4 is_for_guest_accept
                        00         # @5 is_for_guest_container
                        01000000   # @6 version RS5, unaligned
                        78563412 bc9a f0de 123456789abcdef0  # @10 silo_id
                        ${zeros(94)}`),
    },
  ];
  for (const c of cases) {
    const env = setup();
    connectWithOffers(env, V.Win10);
    env.server.offerChannel({ interfaceId: IF_A, instanceId: INST_1, channelType: c.type, subchannelIndex: 0 });
    assert.deepEqual(env.notifier.takeMessages(), [
      offerBytes({ interfaceId: IF_A, instanceId: INST_1, flags: c.flags, userDefined: c.userDefined, channelId: 1, connectionId: conn(1) }),
    ]);
  }
});

test('confidential and pinning offer flags are sent only when their features were negotiated', () => {
  const flags = 0x2 | 0x4 | 0x8; // confidential ring, confidential external memory, pinned memory (protocol.rs:549-568)
  const plain = setup();
  connectWithOffers(plain, V.Copper, 0xff & ~0x8);
  plain.server.offerChannel({ interfaceId: IF_A, instanceId: INST_1, flags });
  assert.deepEqual(plain.notifier.takeMessages(), [offerBytes({ interfaceId: IF_A, instanceId: INST_1, channelId: 1, connectionId: conn(1) })]);

  const trusted = setup({ features: 0x10 | 0x80 });
  connectWithOffers(trusted, V.Copper, 0x10 | 0x80);
  trusted.server.offerChannel({ interfaceId: IF_A, instanceId: INST_1, flags });
  assert.deepEqual(trusted.notifier.takeMessages(), [
    offerBytes({ interfaceId: IF_A, instanceId: INST_1, flags, channelId: 1, connectionId: conn(1) }),
  ]);
});

test('subchannels share interface and instance and carry their index', () => {
  const env = setup();
  connectWithOffers(env, V.Win10);
  env.server.offerChannel({ interfaceId: IF_A, instanceId: INST_1 });
  env.server.offerChannel({ interfaceId: IF_A, instanceId: INST_1, subchannelIndex: 1 });
  env.server.offerChannel({ interfaceId: IF_A, instanceId: INST_1, subchannelIndex: 2 });
  assert.deepEqual(env.notifier.takeMessages(), [
    offerBytes({ interfaceId: IF_A, instanceId: INST_1, channelId: 1, connectionId: conn(1) }),
    offerBytes({ interfaceId: IF_A, instanceId: INST_1, subchannelIndex: 1, channelId: 2, connectionId: conn(2) }),
    offerBytes({ interfaceId: IF_A, instanceId: INST_1, subchannelIndex: 2, channelId: 3, connectionId: conn(3) }),
  ]);
});

test('local offer mistakes are returned as errors, never thrown', () => {
  const env = setup();
  const cases: [Parameters<typeof env.server.offerChannel>[0], string][] = [
    [{ interfaceId: 'not-a-guid', instanceId: INST_1 }, 'bad-parameter'],
    [{ interfaceId: IF_A.toUpperCase(), instanceId: INST_1 }, 'bad-parameter'],
    [{ interfaceId: IF_A, instanceId: INST_1, subchannelIndex: 0x1_0000 }, 'bad-parameter'],
    [{ interfaceId: IF_A, instanceId: INST_1, mmioMegabytes: -1 }, 'bad-parameter'],
    [{ interfaceId: IF_A, instanceId: INST_1, order: 1.5 }, 'bad-parameter'],
    [{ interfaceId: IF_A, instanceId: INST_1, channelType: { kind: 'interface', userDefined: new Uint8Array(3) } }, 'bad-parameter'],
    [{ interfaceId: IF_A, instanceId: INST_1, channelType: { kind: 'pipe', messageMode: true, pipeFlags: -1 } }, 'bad-parameter'],
    [{ interfaceId: IF_A, instanceId: INST_1, channelType: { kind: 'hvsocket', isConnect: true, isForContainer: true, siloId: 'x' } }, 'bad-parameter'],
  ];
  for (const [params, code] of cases) {
    const result = env.server.offerChannel(params);
    assert.ok(result instanceof ServerRequestError, JSON.stringify(params));
    assert.equal(result.code, code);
  }
  assert.equal(typeof env.server.offerChannel({ interfaceId: IF_A, instanceId: INST_1 }), 'number');
  const duplicate = env.server.offerChannel({ interfaceId: IF_A, instanceId: INST_1 });
  assert.ok(duplicate instanceof ServerRequestError && duplicate.code === 'duplicate-offer');
  assert.deepEqual(env.server.checkInvariants(), []);
});

test('at most 2047 channels can be offered (channel ids 1..2047, channels.rs:1067-1069)', () => {
  const env = setup();
  connectWithOffers(env, V.Win10);
  for (let i = 0; i < 2047; i++) {
    const instance = `${i.toString(16).padStart(8, '0')}-0000-0000-0000-000000000000`;
    assert.equal(typeof env.server.offerChannel({ interfaceId: IF_A, instanceId: instance }), 'number');
  }
  const messages = env.notifier.takeMessages();
  assert.equal(new DataView(messages[2046]!.buffer).getUint32(184, true), 2047); // channel_id @184 of the last
  const extra = env.server.offerChannel({ interfaceId: IF_B, instanceId: INST_1 });
  assert.ok(extra instanceof ServerRequestError && extra.code === 'too-many-channels');
});

test('a second REQUEST_OFFERS is dropped and traced', () => {
  const env = setup();
  connectWithOffers(env, V.Win10);
  env.send({ kind: 'RequestOffers' });
  assert.deepEqual(env.notifier.take(), []);
  assert.deepEqual(traced(env), [['message-dropped', 'offers were already sent on this connection']]);
});
