import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from '../../../../src/wire/wire-error.js';
import {
  HEARTBEAT_APPLICATION_STATE,
  HEARTBEAT_BODY_SIZE,
  encodeHeartbeatRequest,
  parseHeartbeatResponse,
  respondHeartbeat,
  type HeartbeatGuestState,
} from '../../../../src/devices/ic/protocol/heartbeat.js';
import { IC_STATUS } from '../../../../src/devices/ic/protocol/ic-status.js';
import type { IcGuestReply } from '../../../../src/devices/ic/protocol/guest-responder.js';
import { hex } from '../../../wire/messages/hex.js';

// Heartbeat: linux-vmbus.md §A.5.4. Body {u64 sequence_number; u32 application_state
// (0 unknown, 1 healthy, 2 critical, 3 stopped); u8 reserved[4]} = 16 B
// (O hyperv_ic_protocol/src/heartbeat.rs:11-36); the guest needs only ICMSG_HDR + 8 bytes
// and increments the sequence number in place (L drivers/hv/hv_util.c:552-563).

const VERSIONS = { framework: { major: 3, minor: 0 }, message: { major: 3, minor: 0 } };
const GUEST: HeartbeatGuestState = { versions: VERSIONS, applicationState: HEARTBEAT_APPLICATION_STATE.HEALTHY };

const REQUEST = hex(`
  01000000 24000000   # pipe: DATA, 36 bytes follow (20 + 16)
  0300 0000           # framework 3.0 (negotiated)
  0100                # HEARTBEAT
  0300 0000           # message version 3.0 (negotiated)
  1000                # icmsgsize 16
  00000000 00 03 0000 # status 0, transaction 0, TRANSACTION|REQUEST
  0807060504030201    # sequence number 0x0102030405060708
  00000000 00000000   # application state 0, reserved
`);
const RESPONSE = hex(`
  01000000 24000000
  0300 0000 0100 0300 0000 1000
  00000000 00 05 0000 # status HV_S_OK, TRANSACTION|RESPONSE
  0907060504030201    # sequence number + 1
  01000000 00000000   # application state HEALTHY, reserved
`);

function reply(request: Uint8Array, state: HeartbeatGuestState = GUEST): IcGuestReply<unknown> {
  const r = respondHeartbeat(request, state);
  assert.ok(!(r instanceof WireError));
  return r;
}

test('host heartbeat request and guest response have golden bytes', () => {
  assert.equal(HEARTBEAT_BODY_SIZE, 16);
  assert.deepEqual(encodeHeartbeatRequest(VERSIONS, { sequenceNumber: 0x0102030405060708n }), REQUEST);
  const r = reply(REQUEST);
  assert.deepEqual(r.response, RESPONSE);
  assert.deepEqual(r.event, { sequenceNumber: 0x0102030405060709n });
  assert.deepEqual(parseHeartbeatResponse({ sequenceNumber: 0x0102030405060708n }, RESPONSE), {
    ok: true,
    sequenceNumber: 0x0102030405060709n,
    applicationState: HEARTBEAT_APPLICATION_STATE.HEALTHY,
  });
});

test('the request is not modified: the guest edits a copy', () => {
  const request = REQUEST.slice();
  reply(request);
  assert.deepEqual(request, REQUEST);
});

test('the sequence number wraps at 2^64', () => {
  const request = encodeHeartbeatRequest(VERSIONS, { sequenceNumber: 0xffff_ffff_ffff_ffffn });
  assert.ok(!(request instanceof WireError));
  const r = reply(request);
  assert.deepEqual(r.response.subarray(28, 36), hex('0000000000000000'));
  assert.deepEqual(parseHeartbeatResponse({ sequenceNumber: 0xffff_ffff_ffff_ffffn }, r.response), {
    ok: true,
    sequenceNumber: 0n,
    applicationState: HEARTBEAT_APPLICATION_STATE.HEALTHY,
  });
});

test('a Linux-sized body of just the 8 sequence bytes is answered, state left unwritten', () => {
  const request = hex('01000000 1c000000 0300 0000 0100 0300 0000 0800 00000000 00 03 0000 0100000000000000');
  const r = reply(request);
  assert.equal(r.status, IC_STATUS.HV_S_OK);
  assert.deepEqual(r.response.subarray(28), hex('0200000000000000'));
  assert.deepEqual(parseHeartbeatResponse({ sequenceNumber: 1n }, r.response), {
    ok: true,
    sequenceNumber: 2n,
    applicationState: HEARTBEAT_APPLICATION_STATE.UNKNOWN,
  });
});

function withByte(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  copy[offset] = value;
  return copy;
}

test('malformed heartbeat requests are answered with HV_E_FAIL, same length, flags 5', () => {
  const rows: { name: string; bytes: Uint8Array; code: string; state?: HeartbeatGuestState }[] = [
    { name: 'body of 7 bytes (L needs ICMSG_HDR + 8)', bytes: hex('01000000 1b000000 0300 0000 0100 0300 0000 0700 00000000 00 03 0000 01000000000000'), code: 'truncated' },
    { name: 'message size lies (32 > 16 sent)', bytes: withByte(REQUEST, 18, 32), code: 'truncated' },
    { name: 'pipe length lies', bytes: withByte(REQUEST, 4, 0x40), code: 'truncated' },
    { name: 'response flags on a request', bytes: withByte(REQUEST, 25, 5), code: 'bad-value' },
    { name: 'reserved flag bits', bytes: withByte(REQUEST, 25, 0x83), code: 'unknown-flags' },
    { name: 'unknown message type 200', bytes: withByte(REQUEST, 12, 200), code: 'unknown-type' },
    { name: 'a shutdown message on the heartbeat channel (L hv_util.c: unknown type → HV_E_FAIL)', bytes: withByte(REQUEST, 12, 3), code: 'unknown-type' },
    { name: 'heartbeat before negotiation', bytes: REQUEST, code: 'not-negotiated', state: { ...GUEST, versions: undefined } },
  ];
  for (const row of rows) {
    const r = reply(row.bytes, row.state);
    assert.equal(r.status, IC_STATUS.HV_E_FAIL, row.name);
    assert.equal(r.error?.code, row.code, row.name);
    assert.equal(r.response.length, row.bytes.length, row.name);
    assert.equal(r.response[25], 5, row.name);
    assert.deepEqual(r.response.subarray(20, 24), hex('05400080'), `${row.name}: status bytes`);
    assert.equal(r.event, undefined, row.name);
  }
});

test('a packet shorter than the 28 header bytes cannot be answered', () => {
  const r = respondHeartbeat(REQUEST.subarray(0, 27), GUEST);
  assert.ok(r instanceof WireError);
  assert.equal(r.code, 'truncated');
});

test('the host checks the answered sequence number and application state', () => {
  const sent = { sequenceNumber: 0x0102030405060708n };
  const rows: [string, Uint8Array, string][] = [
    ['sequence not incremented', withByte(RESPONSE, 28, 0x08), 'bad-value'],
    ['application state 4', withByte(RESPONSE, 36, 4), 'bad-value'],
    ['body of 4 bytes', withByte(withByte(RESPONSE, 18, 4), 4, 0x18), 'truncated'],
    ['transaction id 9', withByte(RESPONSE, 24, 9), 'bad-value'],
    ['a request, not a response', withByte(RESPONSE, 25, 3), 'bad-value'],
    ['a time sync response', withByte(RESPONSE, 12, 4), 'bad-value'],
  ];
  for (const [name, bytes, code] of rows) {
    const r = parseHeartbeatResponse(sent, bytes);
    assert.ok(r instanceof WireError, name);
    assert.equal(r.code, code, name);
  }
  assert.deepEqual(parseHeartbeatResponse(sent, withByte(RESPONSE, 23, 0x80)), { ok: false, status: 0x80000000 });
});

test('the host refuses a sequence number that is not a u64', () => {
  const r = encodeHeartbeatRequest(VERSIONS, { sequenceNumber: -1n });
  assert.ok(r instanceof WireError);
  assert.equal(r.code, 'bad-value');
});
