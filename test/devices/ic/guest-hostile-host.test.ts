/**
 * A hostile host against a guest IC driver over the real buses (one thread,
 * seeded): every malformed or unexpected IC message is answered with a
 * failure status, in place and at its own length; a packet too short for the
 * headers gets no answer; nothing throws, and the channel keeps working.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HeartbeatVsc } from '../../../src/devices/ic/guest/heartbeat-vsc.js';
import {
  HEARTBEAT_HOST,
  IC_SERVICES,
  IC_STATUS,
  IcHostSession,
  encodeHeartbeatRequest,
  encodeNegotiateRequest,
  encodeShutdownRequest,
  type IcVersionLists,
} from '../../../src/devices/ic/protocol/index.js';
import { testSeed } from '../../support/seed.js';
import { ScriptedIcHost } from './support/scripted-ic-host.js';

// IC framing (linux-vmbus.md §A.5.2): pipe header u32 type (1 DATA) @0, u32 len @4; IC header @8:
// framework @8, icmsgtype u16 @12, message version @14, icmsgsize u16 @18, status u32 @20,
// transaction id u8 @24, flags u8 @25 (1 TRANSACTION, 2 REQUEST, 4 RESPONSE); body @28.
const STATUS = 20;
const FLAGS = 25;
const MESSAGE_SIZE = 18;
const V3 = { framework: { major: 3, minor: 0 }, message: { major: 3, minor: 0 } };

function must(packet: Uint8Array | Error): Uint8Array {
  assert.ok(packet instanceof Uint8Array, String(packet));
  return packet;
}

function edited(packet: Uint8Array, edit: (dv: DataView) => void): Uint8Array {
  const copy = packet.slice();
  edit(new DataView(copy.buffer));
  return copy;
}

/** The guest sees the payload padded to 8 bytes (the ring's packet alignment, linux-vmbus.md §A.2). */
const padded = (length: number): number => Math.ceil(length / 8) * 8;

const BEAT = must(encodeHeartbeatRequest(V3, { sequenceNumber: 7n }));

const MALFORMED: [string, Uint8Array][] = [
  ['a pipe packet type other than DATA (2 PARTIAL)', edited(BEAT, (dv) => dv.setUint32(0, 2, true))],
  ['a pipe length beyond the bytes sent', edited(BEAT, (dv) => dv.setUint32(4, 0xffff, true))],
  ['a pipe length too short for the IC header', edited(BEAT, (dv) => dv.setUint32(4, 12, true))],
  ['an unknown message type (99)', edited(BEAT, (dv) => dv.setUint16(12, 99, true))],
  ['another service\'s message (a shutdown request)', must(encodeShutdownRequest(V3, { kind: 'power-off', force: false }))],
  ['a response instead of a request (flags 5)', edited(BEAT, (dv) => dv.setUint8(FLAGS, 5))],
  ['a reserved flag bit (0x80)', edited(BEAT, (dv) => dv.setUint8(FLAGS, 0x83))],
  ['a message size beyond the pipe message', edited(BEAT, (dv) => dv.setUint16(MESSAGE_SIZE, 200, true))],
  ['a heartbeat body too short for the sequence number', edited(BEAT, (dv) => dv.setUint16(MESSAGE_SIZE, 4, true))],
  ['a negotiation with 101 framework versions', edited(must(encodeNegotiateRequest({ framework: [V3.framework], message: [V3.message] })), (dv) => dv.setUint16(28, 101, true))],
];

test('every malformed IC message from the host is answered in place with HV_E_FAIL, and the channel keeps working', async (t) => {
  const host = await ScriptedIcHost.create(testSeed(t.name), IC_SERVICES.heartbeat);
  const failures: string[] = [];
  const vsc = new HeartbeatVsc({ device: host.m.device, onFailure: (error) => failures.push(error.code) });
  await host.m.settle();
  let session = new IcHostSession(HEARTBEAT_HOST);
  assert.equal(session.receive(await host.exchange(must(session.negotiate()))).kind, 'negotiated');
  for (const [name, packet] of MALFORMED) {
    const answer = await host.exchange(packet);
    const dv = new DataView(answer.buffer, answer.byteOffset, answer.byteLength);
    assert.equal(answer.length, padded(packet.length), `${name}: answered at its own length`);
    assert.equal(dv.getUint32(STATUS, true), IC_STATUS.HV_E_FAIL, `${name}: HV_E_FAIL`);
    assert.equal(dv.getUint8(FLAGS), 5, `${name}: TRANSACTION|RESPONSE`);
    assert.deepEqual(answer.subarray(0, 8), packet.subarray(0, 8), `${name}: pipe header as sent`);
  }
  assert.equal(failures.length, MALFORMED.length);
  assert.deepEqual(vsc.ic.counters, { answered: 1, failed: MALFORMED.length, refused: 0, unsent: 0 });
  // The bad negotiation (last) cleared the versions: a heartbeat now comes before negotiation and fails.
  assert.equal(vsc.ic.versions, undefined);
  const early = await host.exchange(BEAT);
  assert.equal(new DataView(early.buffer, early.byteOffset).getUint32(STATUS, true), IC_STATUS.HV_E_FAIL);
  // Too short for the 28 header bytes even padded (20 → 24): nothing to answer in, so no answer.
  await host.exchangeNoAnswer(BEAT.subarray(0, 20));
  assert.equal(vsc.ic.counters.refused, 1);

  session = new IcHostSession(HEARTBEAT_HOST);
  assert.equal(session.receive(await host.exchange(must(session.negotiate()))).kind, 'negotiated');
  const beat = session.receive(await host.exchange(must(session.request({ sequenceNumber: 7n }))));
  assert.deepEqual(beat.kind === 'response' && beat.result, { ok: true, sequenceNumber: 8n, applicationState: 1 });
  assert.equal(vsc.ic.state, 'open');
  await host.m.drive(vsc.stop());
});

test('random bytes from the host are each answered or refused, never a crash, and a good beat still works after', async (t) => {
  const seed = testSeed(t.name);
  const host = await ScriptedIcHost.create(seed, IC_SERVICES.heartbeat);
  const vsc = new HeartbeatVsc({ device: host.m.device });
  await host.m.settle();
  const packets = fc.sample(
    fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 200 }),
      // Valid framing with random header fields and body, to get past the first checks.
      fc.tuple(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.uint8Array({ maxLength: 64 })).map(([header, body]) => {
        const packet = new Uint8Array(8 + 20 + body.length);
        const dv = new DataView(packet.buffer);
        dv.setUint32(0, 1, true);
        dv.setUint32(4, 20 + body.length, true);
        packet.set(header, 8);
        packet.set(body, 28);
        return packet;
      }),
    ),
    { seed, numRuns: 150 },
  );
  for (const packet of packets) {
    host.send(packet);
    await host.m.settle();
    const answers = host.receive();
    if (padded(packet.length) < 28) {
      assert.deepEqual(answers, [], 'too short: no answer');
      continue;
    }
    assert.equal(answers.length, 1);
    assert.equal(answers[0]!.length, padded(packet.length));
    assert.equal(answers[0]![FLAGS], 5);
  }
  const { answered, failed, refused, unsent } = vsc.ic.counters;
  assert.equal(answered + failed + refused, packets.length);
  assert.equal(unsent, 0);
  const session = new IcHostSession(HEARTBEAT_HOST);
  assert.equal(session.receive(await host.exchange(must(session.negotiate()))).kind, 'negotiated');
  const beat = session.receive(await host.exchange(must(session.request({ sequenceNumber: 1n }))));
  assert.equal(beat.kind, 'response');
  await host.m.drive(vsc.stop());
});

const NEGOTIATIONS: [string, IcVersionLists, unknown][] = [
  // Linux framework prefs 3.0, 1.0 and heartbeat 3.0, 1.0 (linux-vmbus.md §A.5.3-4).
  ['an old host offering 1.0 only gets 1.0 / 1.0', { framework: [{ major: 1, minor: 0 }], message: [{ major: 1, minor: 0 }] }, { framework: { major: 1, minor: 0 }, message: { major: 1, minor: 0 } }],
  ['a host offering 1.0 and 3.0 gets the guest\'s first choice, 3.0 / 3.0', { framework: [{ major: 1, minor: 0 }, { major: 3, minor: 0 }], message: [{ major: 1, minor: 0 }, { major: 3, minor: 0 }] }, { framework: { major: 3, minor: 0 }, message: { major: 3, minor: 0 } }],
  ['a host with no common message version is told 0/0 with HV_ERROR_NOT_SUPPORTED', { framework: [{ major: 3, minor: 0 }], message: [{ major: 2, minor: 0 }] }, undefined],
];

for (const [name, offer, expected] of NEGOTIATIONS) {
  test(`negotiation over the channel: ${name}`, async (t) => {
    const host = await ScriptedIcHost.create(testSeed(t.name), IC_SERVICES.heartbeat);
    const vsc = new HeartbeatVsc({ device: host.m.device });
    await host.m.settle();
    const session = new IcHostSession(HEARTBEAT_HOST, offer);
    const answer = await host.exchange(must(session.negotiate()));
    const receipt = session.receive(answer);
    assert.deepEqual(vsc.ic.versions, expected);
    const dv = new DataView(answer.buffer, answer.byteOffset);
    if (expected === undefined) {
      assert.equal(receipt.kind, 'rejected');
      assert.equal(receipt.kind === 'rejected' && receipt.error.code, 'not-negotiated');
      assert.equal(dv.getUint32(STATUS, true), IC_STATUS.HV_ERROR_NOT_SUPPORTED);
      // icmsg_negotiate counts @28/@30: 0/0 on failure (L drivers/hv/channel_mgmt.c:326-345).
      assert.deepEqual([dv.getUint16(28, true), dv.getUint16(30, true)], [0, 0]);
      assert.equal(session.state, 'failed');
    } else {
      assert.deepEqual(receipt, { kind: 'negotiated', versions: expected });
      assert.deepEqual([dv.getUint16(28, true), dv.getUint16(30, true)], [1, 1]);
    }
    await host.m.drive(vsc.stop());
  });
}
