/**
 * The saved state's bytes, written out by hand from the layout documented in
 * src/bus/server/saved-state.ts (body) and src/bus/server/saved-bytes.ts
 * (envelope), and the CRC-32 they carry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32, decodeServerSavedState } from '../../../src/bus/server/index.js';
import { hex, zeros } from '../../wire/messages/hex.js';
import { testSeed } from '../../support/seed.js';
import { SeededRandom } from '../../../src/hv/seeded-random.js';
import { V, connect, connectWithOffers, createGpadl, openMessage, setup } from './harness.js';
import { saved } from './restore-harness.js';

const IF_A = '0000000a-0000-0000-0000-000000000000';
const IF_A_WIRE = '0a000000 0000 0000 0000000000000000'; // mixed-endian GUID (openvmm-vmbus.md §6.6)
const INST_1 = '00000001-0000-0000-0000-000000000000';
const INST_1_WIRE = '01000000 0000 0000 0000000000000000';

/** The envelope around `body` (saved-bytes.ts): magic "VBSS", format 1, reserved 0, length, CRC-32 of the body. */
function envelope(body: Uint8Array): Uint8Array {
  const header = new Uint8Array(16);
  const view = new DataView(header.buffer);
  header.set([0x56, 0x42, 0x53, 0x53]); // "VBSS"
  view.setUint16(4, 1, true);
  view.setUint32(8, body.length, true);
  view.setUint32(12, zlibCrc32(body), true); // zlib's CRC-32 as the independent reference
  return Uint8Array.from([...header, ...body]);
}

test('CRC-32 gives the standard check value 0xCBF43926 for "123456789" and agrees with zlib', (t) => {
  // The catalogue check value of CRC-32/ISO-HDLC (the zlib, PNG and Ethernet CRC).
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  const random = new SeededRandom(testSeed(t.name));
  for (let i = 0; i < 50; i++) {
    const bytes = Uint8Array.from({ length: random.nextBelow(600) }, () => random.nextBelow(256));
    assert.equal(crc32(bytes), zlibCrc32(bytes));
  }
});

test('a connected Win10 server with one offered channel saves to the documented bytes (golden)', () => {
  const env = setup();
  env.server.offerChannel({ interfaceId: IF_A, instanceId: INST_1 });
  connect(env, V.Win10);
  env.send({ kind: 'RequestOffers' });
  const body = hex(`
    00 000000 01000000                # config: vtl 0, reserved, message connection id 1
    01 000000 00000000                # connection: kind 1 connected, reserved, message VP 0
    00000400 00000000 00000000        # version 0x00040000 (Win10), features 0, target message VP 0
    08 000000                         # flags: bit 3 offers sent; reserved
    ${zeros(8)} ${zeros(8)} ${zeros(8)}  # interrupt page, parent-to-child, child-to-parent: none
    ${zeros(16)}                      # client id: nil
    01000000                          # 1 channel
    ${IF_A_WIRE} ${INST_1_WIRE}       # interface, instance
    0000 0000 0000 0000               # subchannel index, mmio MB, mmio MB optional, flags
    ${zeros(120)}                     # user defined
    00 00 0000 ${zeros(8)}            # not monitored, no order, reserved, order 0
    01000000 01200000                 # channel id 1, connection id 0x2001 (protocol.rs:271-276)
    00 00 01 00                       # no monitor id, monitor id 0, state 1 closed, reserved
    00000000 00000000 00000000        # no GPADLs, no held messages, no hvsocket requests
  `);
  assert.deepEqual(saved(env), envelope(body));
});

test('an open channel with its ring GPADL and a GPADL in progress save to the documented bytes (golden)', () => {
  const env = setup();
  env.server.offerChannel({ interfaceId: IF_A, instanceId: INST_1 });
  connectWithOffers(env, V.Win10);
  createGpadl(env, 1, 0x100, [10, 11, 12, 13]);
  const userData = new Uint8Array(120);
  userData.set([0xde, 0xad, 0xbe, 0xef]);
  env.send(openMessage(1, { gpadlId: 0x100, openId: 42, targetVp: 3, split: 2, userData }));
  const [open] = env.notifier.takeActions();
  assert.equal(open?.type, 'open');
  env.server.openComplete(open.offerId, 0);
  // A header announcing 16 bytes (2 values) that carries only the first: still in progress.
  env.send({ kind: 'GpadlHeader', channelId: 1, gpadlId: 0x200, len: 16, count: 1, range: [0x1000n] });
  const body = hex(`
    00 000000 01000000
    01 000000 00000000 00000400 00000000 00000000 08 000000 ${zeros(24)} ${zeros(16)}
    01000000 ${IF_A_WIRE} ${INST_1_WIRE} 0000 0000 0000 0000 ${zeros(120)} 00 00 0000 ${zeros(8)}
    01000000 01200000 00 00
    03 00                             # state 3 open, reserved
    2a000000 00010000 03000000 02000000  # open id 42, ring GPADL 0x100, target VP 3, downstream offset 2
    deadbeef ${zeros(116)}            # user data
    00 00 0000 00000000               # no guest signal, no redirect, event flag 0, signal connection 0
    02000000                          # 2 GPADLs
    00010000 01000000 02 00 0100      # GPADL 0x100 on channel 1, state 2 created, reserved, 1 range
    28000000                          # 40 bytes of ranges
    00400000 00000000                 # byte count 0x4000, byte offset 0 (gparange.rs:13-18)
    0a00000000000000 0b00000000000000 0c00000000000000 0d00000000000000  # PFNs 10-13
    00020000 01000000 01 00 0100      # GPADL 0x200 on channel 1, state 1 in progress, 1 range announced
    02000000 01000000 0010000000000000  # capacity 2 values, 1 received: byte count 0x1000, offset 0
    00000000 00000000                 # no held messages, no hvsocket requests
  `);
  const bytes = saved(env);
  assert.deepEqual(bytes, envelope(body));
  const state = decodeServerSavedState(bytes);
  assert.ok(!(state instanceof Error));
  assert.deepEqual(state.gpadls[1], { gpadlId: 0x200, channelId: 1, state: { kind: 'in-progress', count: 1, capacity: 2, values: [0x1000n] } });
});
