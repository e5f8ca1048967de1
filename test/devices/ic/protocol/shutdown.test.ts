import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from '../../../../src/wire/wire-error.js';
import { IC_STATUS } from '../../../../src/devices/ic/protocol/ic-status.js';
import {
  SHTDN_REASON_FLAG_PLANNED,
  SHUTDOWN_BODY_SIZE,
  SHUTDOWN_FLAG,
  encodeShutdownRequest,
  parseShutdownResponse,
  respondShutdown,
  type ShutdownGuestState,
  type ShutdownRequest,
} from '../../../../src/devices/ic/protocol/shutdown.js';
import type { IcGuestReply } from '../../../../src/devices/ic/protocol/guest-responder.js';
import { hex, zeros } from '../../../wire/messages/hex.js';

// Shutdown: linux-vmbus.md §A.5.5. Body {u32 reason_code; u32 timeout_seconds; u32 flags;
// u8 display_message[2048]} = 2060 B (L include/linux/hyperv.h:1596-1601; O shutdown.rs:28-41);
// flags bit0 force, bit1 restart, bit2 hibernate (O shutdown.rs:43-56); SHTDN_REASON_FLAG_PLANNED
// 0x80000000 (O :58-59). Guest: needs 28 + 2060 bytes, flags 0/1 power-off, 2/3 reboot, 4/5 hibernate,
// anything else HV_E_FAIL, response sent before acting (L drivers/hv/hv_util.c:219-275).

const VERSIONS = { framework: { major: 3, minor: 0 }, message: { major: 3, minor: 2 } };
const accept = (): number => IC_STATUS.HV_S_OK;
const GUEST: ShutdownGuestState = { versions: VERSIONS, decide: accept };

const REQUEST = hex(`
  01000000 20080000   # pipe: DATA, 0x820 = 2080 bytes follow (20 + 2060)
  0300 0000 0300      # framework 3.0, SHUTDOWN (3)
  0300 0200           # message version 3.2
  0c08                # icmsgsize 2060
  00000000 00 03 0000
  00000080            # reason SHTDN_REASON_FLAG_PLANNED
  1e000000            # timeout 30 s
  03000000            # flags FORCE|RESTART
  4200 7900 6500 0000 # display message "Bye" + NUL, UTF-16LE
  ${zeros(2048 - 8)}
`);

function reply(request: Uint8Array, state: ShutdownGuestState = GUEST): IcGuestReply<ShutdownRequest> {
  const r = respondShutdown(request, state);
  assert.ok(!(r instanceof WireError));
  return r;
}

test('host shutdown request has golden bytes', () => {
  assert.equal(SHUTDOWN_BODY_SIZE, 2060);
  assert.deepEqual(SHUTDOWN_FLAG, { FORCE: 1, RESTART: 2, HIBERNATE: 4 });
  assert.equal(SHTDN_REASON_FLAG_PLANNED, 0x80000000);
  const bytes = encodeShutdownRequest(VERSIONS, { kind: 'restart', force: true, timeoutSeconds: 30, message: 'Bye' });
  assert.deepEqual(bytes, REQUEST);
});

test('an accepted shutdown: status OK in place, the action returned for after the send', () => {
  const seen: ShutdownRequest[] = [];
  const r = reply(REQUEST, { versions: VERSIONS, decide: (req) => (seen.push(req), IC_STATUS.HV_S_OK) });
  const expected = { kind: 'restart', force: true, reasonCode: 0x80000000, timeoutSeconds: 30, message: 'Bye' };
  assert.deepEqual(seen, [expected]);
  assert.deepEqual(r.event, expected);
  const golden = REQUEST.slice();
  golden[25] = 0x05; // TRANSACTION|RESPONSE; status stays 0 = HV_S_OK; body untouched
  assert.deepEqual(r.response, golden);
  assert.deepEqual(parseShutdownResponse(r.response), { ok: true });
});

test('flag combinations map to actions as Linux does; others are refused without asking', () => {
  const rows: [number, ShutdownRequest['kind'] | undefined, boolean][] = [
    [0, 'power-off', false],
    [1, 'power-off', true],
    [2, 'restart', false],
    [3, 'restart', true],
    [4, 'hibernate', false],
    [5, 'hibernate', true],
    [6, undefined, false],
    [7, undefined, true],
    [8, undefined, false],
    [0x80000000, undefined, false],
  ];
  for (const [flags, kind, force] of rows) {
    const request = REQUEST.slice();
    new DataView(request.buffer).setUint32(28 + 8, flags, true);
    let asked = false;
    const r = reply(request, { versions: VERSIONS, decide: () => ((asked = true), IC_STATUS.HV_S_OK) });
    if (kind === undefined) {
      assert.equal(r.status, IC_STATUS.HV_E_FAIL, `flags ${flags}`);
      assert.equal(r.error?.code, 'unknown-flags', `flags ${flags}`);
      assert.equal(asked, false, `flags ${flags}`);
    } else {
      assert.equal(r.event?.kind, kind, `flags ${flags}`);
      assert.equal(r.event?.force, force, `flags ${flags}`);
    }
  }
});

test("the guest's refusal is its status, and there is nothing to act on", () => {
  const r = reply(REQUEST, { versions: VERSIONS, decide: () => IC_STATUS.HV_ERROR_MACHINE_LOCKED });
  assert.equal(r.status, IC_STATUS.HV_ERROR_MACHINE_LOCKED);
  assert.equal(r.event, undefined);
  assert.deepEqual(r.response.subarray(20, 24), hex('f7040780'));
  assert.deepEqual(parseShutdownResponse(r.response), { ok: false, status: IC_STATUS.HV_ERROR_MACHINE_LOCKED });
});

test('the display message reads up to its NUL or the end of the field; bad surrogates become U+FFFD', () => {
  const request = REQUEST.slice();
  const field = request.subarray(28 + 12, 28 + 12 + 2048);
  field.fill(0x41); // 'A' (0x4141) in every unit, no NUL at all
  field.set([0x00, 0xd8], 0); // a lone high surrogate first
  const r = reply(request);
  assert.equal(r.event?.message, '\ufffd' + '\u4141'.repeat(1023));
});

test('malformed shutdown requests are answered with HV_E_FAIL', () => {
  const short = hex(`01000000 1f080000 0300 0000 0300 0300 0200 0b08 00000000 00 03 0000 ${zeros(2059)}`);
  const lying = REQUEST.slice();
  lying[18] = 0x0d; // icmsgsize 2061 > 2060 sent
  for (const [name, bytes, code] of [
    ['body of 2059 bytes', short, 'truncated'],
    ['message size lies', lying, 'truncated'],
  ] as const) {
    const r = reply(bytes);
    assert.equal(r.status, IC_STATUS.HV_E_FAIL, name);
    assert.equal(r.error?.code, code, name);
    assert.equal(r.response.length, bytes.length, name);
  }
});

test('the host refuses a display message that does not fit 2048 bytes with its NUL', () => {
  assert.ok(!(encodeShutdownRequest(VERSIONS, { kind: 'power-off', force: false, message: 'x'.repeat(1023) }) instanceof WireError));
  const r = encodeShutdownRequest(VERSIONS, { kind: 'power-off', force: false, message: 'x'.repeat(1024) });
  assert.ok(r instanceof WireError);
  assert.equal(r.code, 'oversized');
  const bad = encodeShutdownRequest(VERSIONS, { kind: 'power-off', force: false, timeoutSeconds: -1 });
  assert.ok(bad instanceof WireError);
  assert.equal(bad.code, 'bad-value');
});
