import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from '../../../../src/wire/wire-error.js';
import { IC_STATUS } from '../../../../src/devices/ic/protocol/ic-status.js';
import {
  KVP_BODY_SIZE,
  KVP_MESSAGE_SIZE,
  KVP_OPERATION,
  KVP_POOL,
  KVP_RECORD_SIZE,
  KVP_VALUE_TYPE,
  type KvpRequest,
  type KvpValue,
} from '../../../../src/devices/ic/protocol/kvp-record.js';
import { KVP_AUTO_POOL_KEYS, type KvpAutoPoolKey } from '../../../../src/devices/ic/protocol/kvp-auto-pool.js';
import { KvpMemoryStore, respondKvp, type KvpGuestState } from '../../../../src/devices/ic/protocol/kvp-guest.js';
import { encodeKvpRequest, parseKvpResponse } from '../../../../src/devices/ic/protocol/kvp-host.js';
import type { IcGuestReply } from '../../../../src/devices/ic/protocol/guest-responder.js';
import { hex, zeros } from '../../../wire/messages/hex.js';

// KVP: linux-vmbus.md §A.5.7. hv_kvp_hdr {u8 operation; u8 pool; u16 pad} (L include/uapi/linux/hyperv.h:350-354);
// operations 0 GET .. 5 SET_IP_INFO (:296-304); pools 0 EXTERNAL .. 4 AUTO_INTERNAL (:306-313);
// hv_kvp_exchg_msg_value {u32 value_type; u32 key_size; u32 value_size; u8 key[512]; u8 value[2048]}
// = 2572 B (:356-366), sizes in bytes INCLUDING the UTF-16 NUL (L drivers/hv/hv_kvp.c:597-608);
// value types 1 REG_SZ, 4 REG_U32, 8 REG_U64 (Linux) / 11 QWORD, 2 EXPAND_SZ (O hyperv_ic_protocol/src/kvp.rs:90-103);
// bodies: GET/SET record @4, DELETE {u32 key_size; key[512]} @4, ENUMERATE {u32 index; record} @4
// (L :368-384); OpenVMM sends KvpMessage = 2 + 2578 = 2580 bytes for every operation (O kvp.rs:133-142).
// HV_S_CONT ends enumeration; the daemon answers a missing key / failed write with it
// (L tools/hv/hv_kvp_daemon.c, KVP_OP_SET/GET/DELETE and the AUTO-pool switch);
// AUTO pool index → key list (L include/uapi/linux/hyperv.h:213-223).

const VERSIONS = { framework: { major: 3, minor: 0 }, message: { major: 4, minor: 0 } };
const HEADER = `
  01000000 280a0000   # pipe: DATA, 0xa28 = 2600 bytes follow (20 + 2580)
  0300 0000 0200      # framework 3.0, KVP_EXCHANGE (2)
  0400 0000 140a      # message version 4.0, icmsgsize 2580
`;
const REQUEST_TAIL = '00000000 00 03 0000   # status 0, transaction 0, TRANSACTION|REQUEST';
const RESPONSE_TAIL = '00000000 00 05 0000   # status HV_S_OK, TRANSACTION|RESPONSE';
const KEY_NAME = `4e00 6100 6d00 6500 0000 ${zeros(512 - 10)}  # key "Name" + NUL, 512-byte field`;
const VALUE_KMCL = `6b00 6d00 6300 6c00 0000 ${zeros(2048 - 10)}  # value "kmcl" + NUL, 2048-byte field`;

const SET_REQUEST = hex(`${HEADER} ${REQUEST_TAIL}
  01 00 0000          # SET, pool EXTERNAL, pad
  01000000 0a000000 0a000000   # REG_SZ, key size 10, value size 10
  ${KEY_NAME}
  ${VALUE_KMCL}
  00000000            # the 4 bytes past the record in OpenVMM's 2580-byte message
`);
const GET_REQUEST = hex(`${HEADER} ${REQUEST_TAIL}
  00 01 0000          # GET, pool GUEST
  00000000 0a000000 00000000   # no type, key size 10, no value
  ${KEY_NAME}
  ${zeros(2048)}
  00000000
`);
const GET_RESPONSE = hex(`${HEADER} ${RESPONSE_TAIL}
  00 01 0000
  01000000 0a000000 0a000000   # the guest fills type, value size and value
  ${KEY_NAME}
  ${VALUE_KMCL}
  00000000
`);
const DELETE_REQUEST = hex(`${HEADER} ${REQUEST_TAIL}
  02 00 0000          # DELETE, pool EXTERNAL
  0a000000            # key size 10
  ${KEY_NAME}
  ${zeros(KVP_MESSAGE_SIZE - 4 - 4 - 512)}
`);
const ENUMERATE_REQUEST = hex(`${HEADER} ${REQUEST_TAIL}
  03 02 0000          # ENUMERATE, pool AUTO
  05000000            # index 5 (OSName)
  ${zeros(KVP_RECORD_SIZE)}
`);
const ENUMERATE_RESPONSE = hex(`${HEADER} ${RESPONSE_TAIL}
  03 02 0000 05000000
  01000000 0e000000 0c000000   # REG_SZ, key size 14 ("OSName" + NUL), value size 12 ("Linux" + NUL)
  4f00 5300 4e00 6100 6d00 6500 0000 ${zeros(512 - 14)}
  4c00 6900 6e00 7500 7800 0000 ${zeros(2048 - 12)}
`);

function autoPool(key: KvpAutoPoolKey): string {
  return key === 'OSName' ? 'Linux' : `${key}-value`;
}

function guest(store = new KvpMemoryStore(), provider = autoPool): KvpGuestState {
  return { versions: VERSIONS, store, autoPool: provider };
}

function reply(request: Uint8Array, state: KvpGuestState): IcGuestReply<KvpRequest> {
  const r = respondKvp(request, state);
  assert.ok(!(r instanceof WireError));
  return r;
}

function asResponse(request: Uint8Array): Uint8Array {
  const bytes = request.slice();
  bytes[25] = 5;
  return bytes;
}

function packet(request: KvpRequest): Uint8Array {
  const bytes = encodeKvpRequest(VERSIONS, request);
  assert.ok(!(bytes instanceof WireError));
  return bytes;
}

test('KVP constants and sizes match the references', () => {
  assert.deepEqual(KVP_OPERATION, { GET: 0, SET: 1, DELETE: 2, ENUMERATE: 3, GET_IP_INFO: 4, SET_IP_INFO: 5 });
  assert.deepEqual(KVP_POOL, { EXTERNAL: 0, GUEST: 1, AUTO: 2, AUTO_EXTERNAL: 3, AUTO_INTERNAL: 4 });
  assert.deepEqual(KVP_VALUE_TYPE, { REG_SZ: 1, REG_EXPAND_SZ: 2, REG_U32: 4, REG_U64_LINUX: 8, REG_QWORD: 11 });
  assert.equal(KVP_RECORD_SIZE, 2572);
  assert.deepEqual(KVP_BODY_SIZE, { get: 2576, set: 2576, delete: 520, enumerate: 2580 });
  assert.equal(KVP_MESSAGE_SIZE, 2580);
  assert.deepEqual(KVP_AUTO_POOL_KEYS, [
    'FullyQualifiedDomainName', 'IntegrationServicesVersion', 'NetworkAddressIPv4', 'NetworkAddressIPv6', 'OSBuildNumber',
    'OSName', 'OSMajorVersion', 'OSMinorVersion', 'OSVersion', 'ProcessorArchitecture',
  ]);
});

test('SET: golden request, in-place answer, the store updated, host result "done"', () => {
  const request: KvpRequest = { op: 'set', pool: KVP_POOL.EXTERNAL, key: 'Name', value: { type: 'string', text: 'kmcl' } };
  assert.deepEqual(packet(request), SET_REQUEST);
  const store = new KvpMemoryStore();
  const r = reply(SET_REQUEST, guest(store));
  assert.deepEqual(r.response, asResponse(SET_REQUEST));
  assert.deepEqual(r.event, request);
  assert.deepEqual(store.get(KVP_POOL.EXTERNAL, 'Name'), { type: 'string', text: 'kmcl' });
  assert.deepEqual(parseKvpResponse(request, r.response), { kind: 'done' });
});

test('GET: golden request, the guest fills type, size and value in place', () => {
  const request: KvpRequest = { op: 'get', pool: KVP_POOL.GUEST, key: 'Name' };
  assert.deepEqual(packet(request), GET_REQUEST);
  const store = new KvpMemoryStore();
  store.set(KVP_POOL.GUEST, 'Name', { type: 'string', text: 'kmcl' });
  const r = reply(GET_REQUEST, guest(store));
  assert.deepEqual(r.response, GET_RESPONSE);
  assert.deepEqual(parseKvpResponse(request, r.response), { kind: 'value', key: 'Name', value: { type: 'string', text: 'kmcl' } });
});

test('GET of a missing key answers HV_S_CONT, which the host reads as no-more-items', () => {
  const r = reply(GET_REQUEST, guest());
  assert.equal(r.status, IC_STATUS.HV_S_CONT);
  assert.deepEqual(r.response.subarray(20, 24), hex('03010780'));
  assert.deepEqual(parseKvpResponse({ op: 'get', pool: KVP_POOL.GUEST, key: 'Name' }, r.response), { kind: 'no-more-items' });
});

test('DELETE: golden request; deleting an existing key succeeds, a missing one answers HV_S_CONT', () => {
  const request: KvpRequest = { op: 'delete', pool: KVP_POOL.EXTERNAL, key: 'Name' };
  assert.deepEqual(packet(request), DELETE_REQUEST);
  const store = new KvpMemoryStore();
  store.set(KVP_POOL.EXTERNAL, 'Name', { type: 'u32', value: 1 });
  const r = reply(DELETE_REQUEST, guest(store));
  assert.deepEqual(r.response, asResponse(DELETE_REQUEST));
  assert.deepEqual(parseKvpResponse(request, r.response), { kind: 'done' });
  assert.equal(store.get(KVP_POOL.EXTERNAL, 'Name'), undefined);
  assert.equal(reply(DELETE_REQUEST, guest(store)).status, IC_STATUS.HV_S_CONT);
});

test('ENUMERATE of the AUTO pool: golden request and answer from the provider', () => {
  const request: KvpRequest = { op: 'enumerate', pool: KVP_POOL.AUTO, index: 5 };
  assert.deepEqual(packet(request), ENUMERATE_REQUEST);
  const r = reply(ENUMERATE_REQUEST, guest());
  assert.deepEqual(r.response, ENUMERATE_RESPONSE);
  assert.deepEqual(parseKvpResponse(request, r.response), { kind: 'value', key: 'OSName', value: { type: 'string', text: 'Linux' } });
});

test('ENUMERATE past the end answers HV_S_CONT with the body untouched (the no-more-items end)', () => {
  const request: KvpRequest = { op: 'enumerate', pool: KVP_POOL.AUTO, index: 10 };
  const bytes = packet(request);
  const r = reply(bytes, guest());
  const golden = asResponse(bytes);
  golden.set(hex('03010780'), 20); // status HV_S_CONT 0x80070103
  assert.deepEqual(r.response, golden);
  assert.deepEqual(parseKvpResponse(request, r.response), { kind: 'no-more-items' });
});

test('enumerating a whole pool walks indices until HV_S_CONT', () => {
  const store = new KvpMemoryStore();
  const entries: [string, KvpValue][] = [
    ['a', { type: 'string', text: 'ünïcödé 🙂' }],
    ['b', { type: 'u32', value: 0xdeadbeef }],
    ['c', { type: 'u64', value: 0x1_0000_0000_0001n }],
    ['d', { type: 'expand-string', text: '%PATH%' }],
  ];
  for (const [key, value] of entries) store.set(KVP_POOL.GUEST, key, value);
  const seen: [string, KvpValue][] = [];
  for (let index = 0; ; index++) {
    const request: KvpRequest = { op: 'enumerate', pool: KVP_POOL.GUEST, index };
    const result = parseKvpResponse(request, reply(packet(request), guest(store)).response);
    assert.ok(!(result instanceof WireError));
    if (result.kind === 'no-more-items') break;
    assert.equal(result.kind, 'value');
    if (result.kind === 'value') seen.push([result.key, result.value]);
  }
  assert.deepEqual(seen, entries);
  const auto: string[] = [];
  for (let index = 0; index < 11; index++) {
    const request: KvpRequest = { op: 'enumerate', pool: KVP_POOL.AUTO, index };
    const result = parseKvpResponse(request, reply(packet(request), guest()).response);
    if (!(result instanceof WireError) && result.kind === 'value') auto.push(result.key);
  }
  assert.deepEqual(auto, KVP_AUTO_POOL_KEYS);
});

test('integer values: u32 as REG_U32 (4), u64 written as 11, read as either 8 or 11', () => {
  const u32 = packet({ op: 'set', pool: KVP_POOL.EXTERNAL, key: 'n', value: { type: 'u32', value: 0x01020304 } });
  assert.deepEqual(u32.subarray(32, 44), hex('04000000 04000000 04000000'));
  assert.deepEqual(u32.subarray(556, 560), hex('04030201'));
  const u64 = packet({ op: 'set', pool: KVP_POOL.EXTERNAL, key: 'n', value: { type: 'u64', value: 0x0102030405060708n } });
  assert.deepEqual(u64.subarray(32, 44), hex('0b000000 04000000 08000000'));
  assert.deepEqual(u64.subarray(556, 564), hex('0807060504030201'));
  const linux = u64.slice();
  linux[32] = 8; // REG_U64 as Linux writes it
  for (const bytes of [u64, linux]) {
    const store = new KvpMemoryStore();
    assert.equal(reply(bytes, guest(store)).status, IC_STATUS.HV_S_OK);
    assert.deepEqual(store.get(KVP_POOL.EXTERNAL, 'n'), { type: 'u64', value: 0x0102030405060708n });
  }
});

/** The SET request with a u32 field of the record (offsets from the record start) changed. */
function setWith(recordOffset: number, value: number): Uint8Array {
  const bytes = SET_REQUEST.slice();
  new DataView(bytes.buffer).setUint32(32 + recordOffset, value, true);
  return bytes;
}

test('malformed KVP requests are answered with HV_E_FAIL and change nothing', () => {
  const keyUnit = (unit: number, value: number): Uint8Array => {
    const bytes = SET_REQUEST.slice();
    new DataView(bytes.buffer).setUint16(44 + unit * 2, value, true);
    return bytes;
  };
  const short = SET_REQUEST.slice(0, 28 + 2575);
  new DataView(short.buffer).setUint32(4, 20 + 2575, true);
  new DataView(short.buffer).setUint16(18, 2575, true);
  const rows: { name: string; bytes: Uint8Array; code: string }[] = [
    { name: 'SET body of 2575 bytes', bytes: short, code: 'truncated' },
    { name: 'message size lies (2581 > 2580)', bytes: (() => { const b = SET_REQUEST.slice(); b[18] = 0x15; return b; })(), code: 'truncated' },
    { name: 'unknown operation 6', bytes: (() => { const b = SET_REQUEST.slice(); b[28] = 6; return b; })(), code: 'unknown-type' },
    { name: 'pool 4 (AUTO_INTERNAL, never exchanged)', bytes: (() => { const b = SET_REQUEST.slice(); b[29] = 4; return b; })(), code: 'bad-value' },
    { name: 'odd key size', bytes: setWith(4, 9), code: 'bad-size' },
    { name: 'zero key size', bytes: setWith(4, 0), code: 'bad-size' },
    { name: 'key size 514 > 512', bytes: setWith(4, 514), code: 'bad-size' },
    { name: 'key size 0xfffffffe', bytes: setWith(4, 0xffff_fffe), code: 'bad-size' },
    { name: 'key not NUL-terminated at its size', bytes: setWith(4, 8), code: 'bad-value' },
    { name: 'NUL inside the key', bytes: keyUnit(1, 0), code: 'bad-value' },
    { name: 'unpaired surrogate in the key', bytes: keyUnit(0, 0xdc00), code: 'bad-value' },
    { name: 'value size 2050 > 2048', bytes: setWith(8, 2050), code: 'bad-size' },
    { name: 'odd value size', bytes: setWith(8, 7), code: 'bad-size' },
    { name: 'string value not NUL-terminated', bytes: setWith(8, 8), code: 'bad-value' },
    { name: 'REG_U32 of 3 bytes', bytes: (() => { const b = setWith(0, 4); new DataView(b.buffer).setUint32(40, 3, true); return b; })(), code: 'bad-size' },
    { name: 'REG_U64 of 10 bytes', bytes: setWith(0, 11), code: 'bad-size' },
    { name: 'unknown value type 3 (REG_BINARY)', bytes: setWith(0, 3), code: 'bad-value' },
  ];
  for (const row of rows) {
    const store = new KvpMemoryStore();
    const r = reply(row.bytes, guest(store));
    assert.equal(r.status, IC_STATUS.HV_E_FAIL, row.name);
    assert.equal(r.error?.code, row.code, row.name);
    assert.equal(r.response.length, row.bytes.length, row.name);
    assert.equal(r.response[25], 5, row.name);
    assert.equal(store.entryAt(KVP_POOL.EXTERNAL, 0), undefined, `${row.name}: nothing stored`);
  }
});

test('a DELETE with a bad key size is refused', () => {
  const bytes = DELETE_REQUEST.slice();
  new DataView(bytes.buffer).setUint32(32, 600, true);
  const r = reply(bytes, guest());
  assert.equal(r.status, IC_STATUS.HV_E_FAIL);
  assert.equal(r.error?.code, 'bad-size');
});

test('a value too long for its field: the guest answers HV_E_FAIL, the host refuses to encode it', () => {
  const long = (key: KvpAutoPoolKey): string => (key === 'FullyQualifiedDomainName' ? 'x'.repeat(1024) : 'ok');
  const r = reply(packet({ op: 'enumerate', pool: KVP_POOL.AUTO, index: 0 }), guest(new KvpMemoryStore(), long));
  assert.equal(r.status, IC_STATUS.HV_E_FAIL);
  assert.equal(r.error?.code, 'oversized');
  const fits = encodeKvpRequest(VERSIONS, { op: 'set', pool: 0, key: 'k'.repeat(255), value: { type: 'string', text: 'v'.repeat(1023) } });
  assert.ok(!(fits instanceof WireError));
  for (const request of [
    { op: 'get', pool: 0, key: 'k'.repeat(256) },
    { op: 'set', pool: 0, key: 'k', value: { type: 'string', text: 'v'.repeat(1024) } },
    { op: 'delete', pool: 0, key: 'k'.repeat(256) },
  ] as const) {
    const e = encodeKvpRequest(VERSIONS, request);
    assert.ok(e instanceof WireError, request.op);
    assert.equal(e.code, 'oversized', request.op);
  }
});

test('IP-info operations and writes to the AUTO pool answer HV_ERROR_NOT_SUPPORTED', () => {
  for (const [name, op, pool] of [
    ['GET_IP_INFO', 4, 1],
    ['SET_IP_INFO', 5, 1],
    ['SET on AUTO', 1, 2],
    ['DELETE on AUTO', 2, 2],
  ] as const) {
    const bytes = (op === 2 ? DELETE_REQUEST : SET_REQUEST).slice();
    bytes[28] = op;
    bytes[29] = pool;
    assert.equal(reply(bytes, guest()).status, IC_STATUS.HV_ERROR_NOT_SUPPORTED, name);
  }
});

test('the host validates the answer: echoed operation and pool, sizes, record contents', () => {
  const request: KvpRequest = { op: 'get', pool: KVP_POOL.GUEST, key: 'Name' };
  const tamper = (offset: number, value: number): Uint8Array => {
    const bytes = GET_RESPONSE.slice();
    bytes[offset] = value;
    return bytes;
  };
  const rows: [string, Uint8Array, string][] = [
    ['operation changed', tamper(28, 3), 'bad-value'],
    ['pool changed', tamper(29, 0), 'bad-value'],
    ['value size lies', tamper(40, 0xff), 'bad-size'],
    ['unknown value type', tamper(32, 9), 'bad-value'],
    ['request flags', tamper(25, 3), 'bad-value'],
    ['transaction id 1', tamper(24, 1), 'bad-value'],
  ];
  for (const [name, bytes, code] of rows) {
    const r = parseKvpResponse(request, bytes);
    assert.ok(r instanceof WireError, name);
    assert.equal(r.code, code, name);
  }
  const failed = tamper(23, 0x80);
  assert.deepEqual(parseKvpResponse(request, failed), { kind: 'failed', status: 0x80000000 });
  const short = asResponse(DELETE_REQUEST).slice(0, 28 + 519);
  new DataView(short.buffer).setUint32(4, 20 + 519, true);
  new DataView(short.buffer).setUint16(18, 519, true);
  const r = parseKvpResponse({ op: 'delete', pool: 0, key: 'Name' }, short);
  assert.ok(r instanceof WireError);
  assert.equal(r.code, 'truncated');
});

test('the host refuses requests it cannot put on the wire', () => {
  for (const request of [
    { op: 'enumerate', pool: 0, index: -1 },
    { op: 'enumerate', pool: 4 as 0, index: 0 },
    { op: 'set', pool: 0, key: 'k', value: { type: 'u32', value: 2 ** 32 } },
    { op: 'set', pool: 0, key: 'k', value: { type: 'u64', value: -1n } },
    { op: 'get', pool: 0, key: 'a\u0000b' },
    { op: 'get', pool: 0, key: '\ud800' },
  ] as const) {
    const r = encodeKvpRequest(VERSIONS, request);
    assert.ok(r instanceof WireError, JSON.stringify(request, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    assert.equal(r.code, 'bad-value');
  }
});
