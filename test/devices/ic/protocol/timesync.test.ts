import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from '../../../../src/wire/wire-error.js';
import { IC_STATUS } from '../../../../src/devices/ic/protocol/ic-status.js';
import {
  TIME_SYNC_FLAG,
  WLTIMEDELTA,
  encodeTimeSyncRequest,
  filetimeFromUnixNs,
  parseTimeSyncResponse,
  respondTimeSync,
  timeSyncClockOffset,
  timeSyncHostTimeAt,
  unixNsFromFiletime,
  type TimeSyncAdjustment,
  type TimeSyncGuestState,
} from '../../../../src/devices/ic/protocol/timesync.js';
import type { IcGuestReply } from '../../../../src/devices/ic/protocol/guest-responder.js';
import { hex } from '../../../wire/messages/hex.js';

// Time sync: linux-vmbus.md §A.5.6. 100 ns since 1601, WLTIMEDELTA = 116444736000000000
// (L include/linux/hyperv.h:1613-1617); flags PROBE 0, SYNC 1, SAMPLE 2 (L :1609-1611);
// v4 body {u64 parenttime; u64 vmreferencetime; u8 flags; u8 leapflags; u8 stratum; reserved}
// 22 B in Linux (L :1626-1633), 24 B in OpenVMM (O hyperv_ic_protocol/src/timesync.rs:47-65);
// v1/v3 body {u64 parenttime; u64 childtime; u64 roundtriptime; u8 flags} 25 B (L :1619-1624),
// OpenVMM pads to 28 (O timesync.rs:30-45). v4 is used when the message version is > 3.x
// and the guest adds the reference time elapsed since the sample (L drivers/hv/hv_util.c:382-412).

const V4 = { framework: { major: 3, minor: 0 }, message: { major: 4, minor: 0 } };
const V3 = { framework: { major: 3, minor: 0 }, message: { major: 3, minor: 0 } };
/** 2024-01-01T00:00:00Z as FILETIME: 1704067200 s * 10^7 + WLTIMEDELTA = 0x01da3c457689c000. */
const NEW_YEAR_2024 = 133_485_408_000_000_000n;

const V4_REQUEST = hex(`
  01000000 2c000000   # pipe: DATA, 44 bytes follow (20 + 24)
  0300 0000 0400      # framework 3.0, TIME_SYNC (4)
  0400 0000 1800      # message version 4.0, icmsgsize 24
  00000000 00 03 0000
  00c08976453cda01    # parentTime 2024-01-01T00:00:00Z
  7856341200000000    # vmReferenceTime 0x12345678
  01 00 00            # flags SYNC, leap flags 0, stratum 0
  0000000000          # reserved[5]
`);
const V3_REQUEST = hex(`
  01000000 30000000   # pipe: DATA, 48 bytes follow (20 + 28)
  0300 0000 0400      # framework 3.0, TIME_SYNC
  0300 0000 1c00      # message version 3.0, icmsgsize 28
  00000000 00 03 0000
  00c08976453cda01    # parentTime
  0000000000000000    # childTime (unused)
  e803000000000000    # roundTripTime 1000
  02                  # flags SAMPLE
  000000              # reserved[3]
`);

function reply(request: Uint8Array, state: TimeSyncGuestState): IcGuestReply<TimeSyncAdjustment> {
  const r = respondTimeSync(request, state);
  assert.ok(!(r instanceof WireError));
  return r;
}

test('FILETIME ↔ Unix epoch conversion uses WLTIMEDELTA', () => {
  assert.equal(WLTIMEDELTA, 116444736000000000n);
  assert.equal(filetimeFromUnixNs(1_704_067_200_000_000_000n), NEW_YEAR_2024);
  assert.equal(unixNsFromFiletime(NEW_YEAR_2024), 1_704_067_200_000_000_000n);
  assert.equal(filetimeFromUnixNs(0n), WLTIMEDELTA);
  assert.equal(filetimeFromUnixNs(199n), WLTIMEDELTA + 1n, 'sub-tick nanoseconds round down');
  assert.equal(filetimeFromUnixNs(-1n), WLTIMEDELTA - 1n, 'before 1970 rounds down too');
  assert.equal(unixNsFromFiletime(0n), -11_644_473_600_000_000_000n, '1601-01-01 (O timesync.rs EPOCH)');
});

test('v4 request golden bytes; the guest answers status OK, flags 5, body untouched', () => {
  assert.deepEqual(TIME_SYNC_FLAG, { PROBE: 0, SYNC: 1, SAMPLE: 2 });
  assert.deepEqual(encodeTimeSyncRequest(V4, { kind: 'sync', parentTime: NEW_YEAR_2024, vmReferenceTime: 0x12345678n }), V4_REQUEST);
  const r = reply(V4_REQUEST, { versions: V4, referenceTime: 0x2000_0000n });
  const golden = V4_REQUEST.slice();
  golden[25] = 5;
  assert.deepEqual(r.response, golden);
  assert.deepEqual(r.event, {
    kind: 'sync',
    hostTime: NEW_YEAR_2024,
    referenceTime: 0x12345678n,
    message: { form: 'reference', parentTime: NEW_YEAR_2024, vmReferenceTime: 0x12345678n, flags: 1, leapFlags: 0, stratum: 0 },
  });
  assert.deepEqual(parseTimeSyncResponse(r.response), { ok: true });
});

test('v1/v3 request golden bytes; the sample is taken as of arrival on the guest reference clock', () => {
  const bytes = encodeTimeSyncRequest(V3, { kind: 'sample', parentTime: NEW_YEAR_2024, vmReferenceTime: 0n, roundTripTime: 1000n });
  assert.deepEqual(bytes, V3_REQUEST);
  for (const versions of [V3, { ...V3, message: { major: 1, minor: 0 } }]) {
    const r = reply(V3_REQUEST, { versions, referenceTime: 777n });
    const golden = V3_REQUEST.slice();
    golden[25] = 5; // TRANSACTION|RESPONSE, status 0, body untouched
    assert.deepEqual(r.response, golden);
    assert.deepEqual(r.event, {
      kind: 'sample',
      hostTime: NEW_YEAR_2024,
      referenceTime: 777n,
      message: { form: 'legacy', parentTime: NEW_YEAR_2024, childTime: 0n, roundTripTime: 1000n, flags: 2 },
    });
  }
});

test('a Linux-sized v4 body of 22 bytes and v3 body of 25 bytes are accepted; one byte less is not', () => {
  const v4 = hex(`01000000 2a000000 0300 0000 0400 0400 0000 1600 00000000 00 03 0000
                  00c08976453cda01 7856341200000000 02 01 05 000000`);
  const r4 = reply(v4, { versions: V4, referenceTime: 0n });
  assert.equal(r4.status, IC_STATUS.HV_S_OK);
  assert.deepEqual(r4.event?.message, { form: 'reference', parentTime: NEW_YEAR_2024, vmReferenceTime: 0x12345678n, flags: 2, leapFlags: 1, stratum: 5 });
  const v3 = V3_REQUEST.slice(0, 28 + 25);
  v3[4] = 20 + 25;
  v3[18] = 25;
  assert.equal(reply(v3, { versions: V3, referenceTime: 0n }).status, IC_STATUS.HV_S_OK);
  for (const [bytes, versions] of [[v4, V4], [v3, V3]] as const) {
    const shorter = bytes.slice(0, bytes.length - 1);
    shorter[4]! -= 1;
    shorter[18]! -= 1;
    const r = reply(shorter, { versions, referenceTime: 0n });
    assert.equal(r.status, IC_STATUS.HV_E_FAIL);
    assert.equal(r.error?.code, 'truncated');
  }
});

test('probe, sync and sample flags; reserved flag bits are refused', () => {
  const rows: [number, string | undefined][] = [[0, 'probe'], [1, 'sync'], [2, 'sample'], [3, 'sync'], [4, undefined], [0x80, undefined]];
  for (const [flags, kind] of rows) {
    const request = V4_REQUEST.slice();
    request[28 + 16] = flags;
    const r = reply(request, { versions: V4, referenceTime: 0n });
    if (kind === undefined) {
      assert.equal(r.status, IC_STATUS.HV_E_FAIL, `flags ${flags}`);
      assert.equal(r.error?.code, 'unknown-flags', `flags ${flags}`);
    } else {
      assert.equal(r.event?.kind, kind, `flags ${flags}`);
    }
  }
});

test("the guest's clock offset adds the reference time elapsed since the host's sample", () => {
  const r = reply(V4_REQUEST, { versions: V4, referenceTime: 0n });
  const adjustment = r.event!;
  // 1 s (10^7 reference ticks) after the sample the host clock reads NEW_YEAR_2024 + 1 s.
  assert.equal(timeSyncHostTimeAt(adjustment, 0x12345678n + 10_000_000n), NEW_YEAR_2024 + 10_000_000n);
  // A guest clock 2.5 s behind must move forward by 2.5 s.
  const guestNow = NEW_YEAR_2024 + 10_000_000n - 25_000_000n;
  assert.equal(timeSyncClockOffset(adjustment, 0x12345678n + 10_000_000n, guestNow), 25_000_000n);
  // A guest clock ahead gets a negative offset.
  assert.equal(timeSyncClockOffset(adjustment, 0x12345678n, NEW_YEAR_2024 + 5n), -5n);
});

test('time sync before negotiation, or a lying size, is answered with HV_E_FAIL', () => {
  const lying = V4_REQUEST.slice();
  lying[18] = 25;
  const rows: [string, Uint8Array, TimeSyncGuestState, string][] = [
    ['before negotiation', V4_REQUEST, { versions: undefined, referenceTime: 0n }, 'not-negotiated'],
    ['icmsgsize 25 > 24 sent', lying, { versions: V4, referenceTime: 0n }, 'truncated'],
  ];
  for (const [name, bytes, state, code] of rows) {
    const r = reply(bytes, state);
    assert.equal(r.status, IC_STATUS.HV_E_FAIL, name);
    assert.equal(r.error?.code, code, name);
  }
});

test('the host refuses out-of-range sample fields', () => {
  for (const order of [
    { kind: 'sync' as const, parentTime: -1n, vmReferenceTime: 0n },
    { kind: 'sync' as const, parentTime: 0n, vmReferenceTime: 1n << 64n },
    { kind: 'sync' as const, parentTime: 0n, vmReferenceTime: 0n, stratum: 256 },
  ]) {
    const r = encodeTimeSyncRequest(V4, order);
    assert.ok(r instanceof WireError);
    assert.equal(r.code, 'bad-value');
  }
});
