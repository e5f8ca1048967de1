import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from '../../../../src/wire/wire-error.js';
import {
  IC_BODY_OFFSET,
  IC_FLAG,
  IC_HEADER_SIZE,
  IC_MAX_MESSAGE_SIZE,
  IC_MESSAGE_TYPE,
  IC_REQUEST_FLAGS,
  IC_RESPONSE_FLAGS,
  PIPE_HEADER_SIZE,
  PIPE_PACKET_TYPE,
  decodeIcPacket,
  encodeIcPacket,
  icBodyRoom,
  icMessageTypeName,
  type IcMessageType,
} from '../../../../src/devices/ic/protocol/ic-frame.js';
import { IC_STATUS, icStatusName } from '../../../../src/devices/ic/protocol/ic-status.js';
import { hex } from '../../../wire/messages/hex.js';

// Layouts: linux-vmbus.md §A.5.2 — vmbuspipe_hdr {u32 flags(type), u32 msgsize}
// (L include/linux/hyperv.h:1562-1565; O vmbus_ring/src/lib.rs:48-69 PipeHeader, DATA = 1),
// icmsg_hdr 20 bytes (L hyperv.h:1567-1581; O hyperv_ic_protocol/src/lib.rs:80-132), ICMSG_HDR = 28.

const HEADER = {
  frameworkVersion: { major: 3, minor: 0 },
  messageType: IC_MESSAGE_TYPE.HEARTBEAT,
  messageVersion: { major: 3, minor: 1 },
  status: 0x8000_4005,
  transactionId: 0x7a,
  flags: IC_REQUEST_FLAGS,
} as const;
const PACKET = hex(`
  01000000 18000000   # pipe header: DATA (1), 0x18 = 24 bytes follow (20 header + 4 body)
  0300 0000           # icverframe 3.0
  0100                # icmsgtype 1 HEARTBEAT
  0300 0100           # icvermsg 3.1
  0400                # icmsgsize 4
  05400080            # status 0x80004005 HV_E_FAIL
  7a                  # ictransaction_id
  03                  # icflags TRANSACTION|REQUEST
  0000                # reserved
  deadbeef            # body
`);

test('sizes and constants match the references', () => {
  assert.equal(PIPE_HEADER_SIZE, 8);
  assert.equal(IC_HEADER_SIZE, 20);
  assert.equal(IC_BODY_OFFSET, 28); // Linux ICMSG_HDR
  assert.equal(IC_MAX_MESSAGE_SIZE, 13312); // O hyperv_ic_protocol/src/lib.rs:22-23
  assert.deepEqual(PIPE_PACKET_TYPE, { DATA: 1, PARTIAL: 2, SETUP_GPA_DIRECT: 3, TEARDOWN_GPA_DIRECT: 4 });
  // L hyperv.h:1532-1538 (0-5); O lib.rs:55-78 (6 RDV, 7 GUEST_INTERFACE, 8 VM_SESSION)
  assert.deepEqual(IC_MESSAGE_TYPE, {
    NEGOTIATE: 0, HEARTBEAT: 1, KVP_EXCHANGE: 2, SHUTDOWN: 3, TIME_SYNC: 4, VSS: 5, RDV: 6, GUEST_INTERFACE: 7, VM_SESSION: 8,
  });
  assert.deepEqual(IC_FLAG, { TRANSACTION: 1, REQUEST: 2, RESPONSE: 4 }); // L hyperv.h:1540-1542
  assert.equal(IC_REQUEST_FLAGS, 3);
  assert.equal(IC_RESPONSE_FLAGS, 5);
});

test('HRESULT status values (L include/uapi/linux/hyperv.h:319-328; O lib.rs:102-117) and their names', () => {
  assert.equal(IC_STATUS.HV_S_OK, 0);
  assert.equal(IC_STATUS.HV_E_FAIL, 0x80004005);
  assert.equal(IC_STATUS.HV_S_CONT, 0x80070103);
  assert.equal(IC_STATUS.HV_ERROR_NOT_SUPPORTED, 0x80070032);
  assert.equal(IC_STATUS.HV_ERROR_MACHINE_LOCKED, 0x800704f7);
  assert.equal(IC_STATUS.HV_ERROR_DEVICE_NOT_CONNECTED, 0x8007048f);
  assert.equal(IC_STATUS.HV_INVALIDARG, 0x80070057);
  assert.equal(IC_STATUS.HV_GUID_NOTFOUND, 0x80041002);
  assert.equal(IC_STATUS.HV_ERROR_ALREADY_EXISTS, 0x80070050);
  assert.equal(IC_STATUS.HV_ERROR_DISK_FULL, 0x80070070);
  assert.equal(icStatusName(0x80070103), 'HV_S_CONT');
  assert.equal(icStatusName(0x12345678), '0x12345678');
  assert.equal(icMessageTypeName(4), 'TIME_SYNC');
  assert.equal(icMessageTypeName(99), 'type 99');
});

test('a packet encodes as pipe header, 20-byte IC header, body', () => {
  assert.deepEqual(encodeIcPacket(HEADER, hex('deadbeef')), PACKET);
});

test('a packet decodes to its header and a view of exactly messageSize body bytes', () => {
  const padded = new Uint8Array(PACKET.length + 4); // VMBus pads payloads to 8 bytes
  padded.set(PACKET);
  const decoded = decodeIcPacket(padded, 'request');
  assert.ok(!(decoded instanceof WireError));
  assert.deepEqual(decoded.header, { ...HEADER, messageSize: 4 });
  assert.deepEqual(decoded.body, hex('deadbeef'));
  assert.equal(icBodyRoom(padded), 4);
});

function withByte(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  copy[offset] = value;
  return copy;
}

test('malformed packets return the WireError naming the broken rule', () => {
  const response = withByte(withByte(PACKET, 25, IC_RESPONSE_FLAGS), 24, 0);
  const rows: { name: string; bytes: Uint8Array; direction: 'request' | 'response'; code: string }[] = [
    { name: 'shorter than the pipe header', bytes: PACKET.subarray(0, 7), direction: 'request', code: 'truncated' },
    { name: 'pipe type PARTIAL, not DATA', bytes: withByte(PACKET, 0, 2), direction: 'request', code: 'unknown-type' },
    { name: 'pipe len claims more than present', bytes: withByte(PACKET, 4, 0x19), direction: 'request', code: 'truncated' },
    { name: 'pipe len too small for the IC header', bytes: withByte(PACKET, 4, 19), direction: 'request', code: 'truncated' },
    { name: 'message size overruns the pipe message', bytes: withByte(PACKET, 18, 5), direction: 'request', code: 'truncated' },
    { name: 'unknown message type 9', bytes: withByte(PACKET, 12, 9), direction: 'request', code: 'unknown-type' },
    { name: 'reserved flag bit 3', bytes: withByte(PACKET, 25, 0x0b), direction: 'request', code: 'unknown-flags' },
    { name: 'request without TRANSACTION', bytes: withByte(PACKET, 25, IC_FLAG.REQUEST), direction: 'request', code: 'bad-value' },
    { name: 'request flagged as a response', bytes: withByte(PACKET, 25, 7), direction: 'request', code: 'bad-value' },
    { name: 'response flags on a request', bytes: response, direction: 'request', code: 'bad-value' },
    { name: 'request flags on a response', bytes: withByte(response, 25, IC_REQUEST_FLAGS), direction: 'response', code: 'bad-value' },
    { name: 'response with transaction id 1 (host sends 0)', bytes: withByte(response, 24, 1), direction: 'response', code: 'bad-value' },
  ];
  for (const row of rows) {
    const r = decodeIcPacket(row.bytes, row.direction);
    assert.ok(r instanceof WireError, row.name);
    assert.equal(r.code, row.code, row.name);
  }
  assert.ok(!(decodeIcPacket(response, 'response') instanceof WireError));
});

test('a pipe message larger than 13312 bytes is refused before anything else is read', () => {
  const big = new Uint8Array(PIPE_HEADER_SIZE + IC_MAX_MESSAGE_SIZE + 1);
  big.set(PACKET.subarray(0, IC_BODY_OFFSET));
  new DataView(big.buffer).setUint32(4, IC_MAX_MESSAGE_SIZE + 1, true);
  const r = decodeIcPacket(big, 'request');
  assert.ok(r instanceof WireError);
  assert.equal(r.code, 'oversized');
});

test('encoding refuses field values outside their wire range', () => {
  const rows: [string, Parameters<typeof encodeIcPacket>[0], Uint8Array, string][] = [
    ['body too large', HEADER, new Uint8Array(IC_MAX_MESSAGE_SIZE), 'oversized'],
    ['version not u16', { ...HEADER, messageVersion: { major: 0x10000, minor: 0 } }, new Uint8Array(0), 'bad-value'],
    ['unknown type', { ...HEADER, messageType: 42 as IcMessageType }, new Uint8Array(0), 'unknown-type'],
    ['status not u32', { ...HEADER, status: -1 }, new Uint8Array(0), 'bad-value'],
    ['transaction id not u8', { ...HEADER, transactionId: 256 }, new Uint8Array(0), 'bad-value'],
    ['reserved flags', { ...HEADER, flags: 8 }, new Uint8Array(0), 'unknown-flags'],
  ];
  for (const [name, header, body, code] of rows) {
    const r = encodeIcPacket(header, body);
    assert.ok(r instanceof WireError, name);
    assert.equal(r.code, code, name);
  }
});
