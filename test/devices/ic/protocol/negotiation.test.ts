import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from '../../../../src/wire/wire-error.js';
import {
  IC_MESSAGE_TYPE,
  IC_REQUEST_FLAGS,
  encodeIcPacket,
  formatIcVersion,
  sameIcVersion,
  type IcVersion,
} from '../../../../src/devices/ic/protocol/ic-frame.js';
import { IC_STATUS } from '../../../../src/devices/ic/protocol/ic-status.js';
import {
  IC_FRAMEWORK_GUEST_VERSIONS,
  IC_FRAMEWORK_HOST_VERSIONS,
  IC_SERVICES,
  icHostOffer,
  type IcServiceSpec,
} from '../../../../src/devices/ic/protocol/ic-services.js';
import {
  IC_NEGOTIATE_MAX_COUNT,
  chooseIcVersions,
  decodeNegotiateResponse,
  encodeNegotiateRequest,
  type IcVersionLists,
  type IcVersions,
} from '../../../../src/devices/ic/protocol/negotiation.js';
import { respondToIcRequest, type IcGuestReply } from '../../../../src/devices/ic/protocol/guest-responder.js';
import { hex } from '../../../wire/messages/hex.js';

// Negotiation: linux-vmbus.md §A.5.3. Host request O hyperv_ic/src/common.rs:60-95 (framework
// versions {1.0, 3.0} :26-27, header versions 0.0, flags 3, size 8 + 4n); icmsg_negotiate
// L include/linux/hyperv.h:1589-1594; guest algorithm L drivers/hv/channel_mgmt.c:234-347
// (counts ≤ 100, first of the guest's own list, answer in place, size 16, 1/1 or 0/0);
// host accepts only 1/1, O common.rs:110-126.

const v = (major: number, minor: number): IcVersion => ({ major, minor });

/** Host offer of OpenVMM's KVP device: framework 1.0, 3.0; KVP 3.0, 4.0, 5.0 (O hyperv_ic/src/kvp.rs:47-51). */
const KVP_REQUEST = hex(`
  01000000 30000000   # pipe: DATA, 48 bytes follow
  0000 0000 0000 0000 0000   # icverframe 0.0, icmsgtype 0 NEGOTIATE, icvermsg 0.0
  1c00                # icmsgsize 28 = 8 + 4 * 5
  00000000 00 03 0000 # status 0, transaction id 0, flags TRANSACTION|REQUEST, reserved
  0200 0300 00000000  # icframe_vercnt 2, icmsg_vercnt 3, reserved
  0100 0000 0300 0000 # framework 1.0, 3.0
  0300 0000 0400 0000 0500 0000  # KVP 3.0, 4.0, 5.0
`);
/** A Linux guest's in-place answer (framework prefs 3.0, 1.0; KVP 4.0, 3.0, 1.0: L hv_kvp.c:35-55). */
const KVP_RESPONSE = hex(`
  01000000 30000000   # pipe header unchanged
  0000 0000 0000 0000 0000
  1000                # icmsgsize 16
  00000000 00 05 0000 # status HV_S_OK, transaction id echoed, flags TRANSACTION|RESPONSE
  0100 0100 00000000  # counts 1/1, reserved
  0300 0000 0400 0000 # framework 3.0, KVP 4.0
  0300 0000 0400 0000 0500 0000  # the rest of the request, untouched
`);

function answer(request: Uint8Array, spec: IcServiceSpec): IcGuestReply<never> {
  const reply = respondToIcRequest<never>(request, spec, undefined, () => assert.fail('negotiation only'));
  assert.ok(!(reply instanceof WireError));
  return reply;
}

test('the host negotiation request has golden bytes', () => {
  assert.deepEqual(encodeNegotiateRequest(icHostOffer(IC_SERVICES.kvp)), KVP_REQUEST);
});

test('the guest answers in place: counts 1/1, its choice, size 16, status OK, flags 5, same length', () => {
  const reply = answer(KVP_REQUEST, IC_SERVICES.kvp);
  assert.deepEqual(reply.response, KVP_RESPONSE);
  assert.equal(reply.status, IC_STATUS.HV_S_OK);
  assert.deepEqual(reply.versions, { framework: v(3, 0), message: v(4, 0) });
  assert.deepEqual(decodeNegotiateResponse(reply.response, icHostOffer(IC_SERVICES.kvp)), reply.versions);
});

test('the guest echoes the transaction id it received', () => {
  const request = KVP_REQUEST.slice();
  request[24] = 0x5a;
  assert.equal(answer(request, IC_SERVICES.kvp).response[24], 0x5a);
});

test('version lists per service match the references', () => {
  // Framework: guest 3.0, 1.0 (L include/uapi/linux/hyperv.h:31-40); host 1.0, 3.0 (O common.rs:26-27).
  assert.deepEqual(IC_FRAMEWORK_GUEST_VERSIONS, [v(3, 0), v(1, 0)]);
  assert.deepEqual(IC_FRAMEWORK_HOST_VERSIONS, [v(1, 0), v(3, 0)]);
  // Heartbeat: L hv_util.c:45-50, :71-75 (no OpenVMM heartbeat host; offer the same two).
  assert.deepEqual(IC_SERVICES.heartbeat.guestVersions, [v(3, 0), v(1, 0)]);
  assert.deepEqual(IC_SERVICES.heartbeat.hostVersions, [v(1, 0), v(3, 0)]);
  // Shutdown: L hv_util.c:24-33, :56-62; O hyperv_ic/src/shutdown.rs:38-43.
  assert.deepEqual(IC_SERVICES.shutdown.guestVersions, [v(3, 2), v(3, 1), v(3, 0), v(1, 0)]);
  assert.deepEqual(IC_SERVICES.shutdown.hostVersions, [v(1, 0), v(3, 0), v(3, 1), v(3, 2)]);
  // Time sync: L hv_util.c:35-43, :64-69; O hyperv_ic/src/timesync.rs:31 (4.0 only).
  assert.deepEqual(IC_SERVICES.timeSync.guestVersions, [v(4, 0), v(3, 0), v(1, 0)]);
  assert.deepEqual(IC_SERVICES.timeSync.hostVersions, [v(4, 0)]);
  // KVP: L hv_kvp.c:35-55; O hyperv_ic_protocol/src/kvp.rs:19-24.
  assert.deepEqual(IC_SERVICES.kvp.guestVersions, [v(4, 0), v(3, 0), v(1, 0)]);
  assert.deepEqual(IC_SERVICES.kvp.hostVersions, [v(3, 0), v(4, 0), v(5, 0)]);
});

/** Runs a whole negotiation: host request → guest responder → host check. */
function negotiate(spec: IcServiceSpec, offer: IcVersionLists): { reply: IcGuestReply<never>; host: IcVersions | WireError } {
  const request = encodeNegotiateRequest(offer);
  assert.ok(!(request instanceof WireError));
  const reply = answer(request, spec);
  assert.equal(reply.response.length, request.length);
  return { reply, host: decodeNegotiateResponse(reply.response, offer) };
}

const SERVICES = Object.values(IC_SERVICES);

test('full offers settle on the first guest preference the host offers', () => {
  const expected: Record<string, IcVersion> = { heartbeat: v(3, 0), shutdown: v(3, 2), timeSync: v(4, 0), kvp: v(4, 0) };
  for (const spec of SERVICES) {
    const { reply, host } = negotiate(spec, icHostOffer(spec));
    assert.deepEqual(host, { framework: v(3, 0), message: expected[spec.name] }, spec.name);
    assert.deepEqual(reply.versions, host, spec.name);
  }
});

test('every host-offer × guest-preference message version pair, for every service', () => {
  for (const spec of SERVICES) {
    // The host's offer plus the guest-only versions, so every guest version also meets its match.
    const offered = [...spec.hostVersions, ...spec.guestVersions.filter((g) => !spec.hostVersions.some((h) => sameIcVersion(g, h)))];
    for (const hostVersion of offered) {
      for (const guestVersion of spec.guestVersions) {
        const guestSpec = { ...spec, guestVersions: [guestVersion] };
        const offer = { framework: IC_FRAMEWORK_HOST_VERSIONS, message: [hostVersion] };
        const { reply, host } = negotiate(guestSpec, offer);
        const label = `${spec.name}: host ${formatIcVersion(hostVersion)} × guest ${formatIcVersion(guestVersion)}`;
        if (sameIcVersion(hostVersion, guestVersion)) {
          assert.deepEqual(host, { framework: v(3, 0), message: guestVersion }, label);
          assert.equal(reply.status, IC_STATUS.HV_S_OK, label);
        } else {
          assert.ok(host instanceof WireError, label);
          assert.equal(host.code, 'not-negotiated', label);
          assert.equal(reply.status, IC_STATUS.HV_ERROR_NOT_SUPPORTED, label);
          assert.equal(reply.versions, undefined, label);
        }
      }
    }
  }
});

test('every framework version pair: a match needs a common framework too', () => {
  for (const hostFramework of IC_FRAMEWORK_HOST_VERSIONS) {
    for (const guestFramework of IC_FRAMEWORK_GUEST_VERSIONS) {
      const offer = { framework: [hostFramework], message: [v(3, 0)] };
      const choice = chooseIcVersions(offer, { framework: [guestFramework], message: [v(3, 0)] });
      assert.deepEqual(choice, sameIcVersion(hostFramework, guestFramework) ? { framework: guestFramework, message: v(3, 0) } : undefined);
    }
  }
});

test('no common version: the guest answers 0/0 with zero versions, and the host refuses it', () => {
  const offer = { framework: IC_FRAMEWORK_HOST_VERSIONS, message: [v(9, 9)] };
  const { reply, host } = negotiate(IC_SERVICES.heartbeat, offer);
  assert.deepEqual(
    reply.response.subarray(0, 44),
    hex(`
      01000000 28000000   # pipe: 40 bytes follow (20 + 8 + 4 * 3)
      0000 0000 0000 0000 0000
      1000                # icmsgsize 16
      32000780 00 05 0000 # status HV_ERROR_NOT_SUPPORTED (our choice; Linux leaves status as sent)
      0000 0000 00000000  # counts 0/0
      0000 0000 0000 0000 # versions zeroed
    `),
  );
  assert.ok(host instanceof WireError);
  assert.equal(host.code, 'not-negotiated');
});

test('the host accepts only 1/1 answers whose versions it offered', () => {
  const offer = icHostOffer(IC_SERVICES.kvp);
  const tamper = (offset: number, value: number): Uint8Array => {
    const bytes = KVP_RESPONSE.slice();
    bytes[offset] = value;
    return bytes;
  };
  const rows: [string, Uint8Array, string][] = [
    ['counts 2/1', tamper(28, 2), 'not-negotiated'],
    ['counts 1/0', tamper(30, 0), 'not-negotiated'],
    ['framework 2.0 was not offered', tamper(36, 2), 'not-negotiated'],
    ['message 1.0 was not offered', tamper(40, 1), 'not-negotiated'],
    ['size 12 cannot hold both versions', tamper(18, 12), 'truncated'],
    ['size 2 cannot hold the counts', tamper(18, 2), 'truncated'],
    ['not a response (flags 3)', tamper(25, 3), 'bad-value'],
    ['a heartbeat response, not a negotiation', tamper(12, 1), 'bad-value'],
  ];
  for (const [name, bytes, code] of rows) {
    const r = decodeNegotiateResponse(bytes, offer);
    assert.ok(r instanceof WireError, name);
    assert.equal(r.code, code, name);
  }
});

/** A negotiation request whose counts need not match the versions that follow. */
function negotiateRequest(frameworkCount: number, messageCount: number, versions: IcVersion[]): Uint8Array {
  const body = new Uint8Array(8 + 4 * versions.length);
  const dv = new DataView(body.buffer);
  dv.setUint16(0, frameworkCount, true);
  dv.setUint16(2, messageCount, true);
  versions.forEach((version, i) => {
    dv.setUint16(8 + 4 * i, version.major, true);
    dv.setUint16(10 + 4 * i, version.minor, true);
  });
  const packet = encodeIcPacket(
    { frameworkVersion: v(0, 0), messageType: IC_MESSAGE_TYPE.NEGOTIATE, messageVersion: v(0, 0), status: 0, transactionId: 0, flags: IC_REQUEST_FLAGS },
    body,
  );
  assert.ok(!(packet instanceof WireError));
  return packet;
}

test('malformed negotiations get a failure status and 0/0 counts where the body has room', () => {
  const rows: { name: string; bytes: Uint8Array; status: number }[] = [
    { name: `framework count ${IC_NEGOTIATE_MAX_COUNT + 1}`, bytes: negotiateRequest(101, 1, [v(3, 0), v(3, 0)]), status: IC_STATUS.HV_E_FAIL },
    { name: `message count ${IC_NEGOTIATE_MAX_COUNT + 1}`, bytes: negotiateRequest(1, 101, [v(3, 0), v(3, 0)]), status: IC_STATUS.HV_E_FAIL },
    { name: 'counts promise 3 versions, 2 sent', bytes: negotiateRequest(2, 1, [v(3, 0), v(3, 0)]), status: IC_STATUS.HV_E_FAIL },
    { name: 'no versions at all', bytes: negotiateRequest(0, 0, []), status: IC_STATUS.HV_ERROR_NOT_SUPPORTED },
  ];
  for (const row of rows) {
    const reply = answer(row.bytes, IC_SERVICES.heartbeat);
    assert.equal(reply.status, row.status, row.name);
    assert.equal(reply.response.length, row.bytes.length, row.name);
    assert.equal(reply.response[25], 5, row.name);
    assert.deepEqual(reply.response.subarray(28, 32), hex('0000 0000'), `${row.name}: counts 0/0`);
    const size = reply.response[18]! | (reply.response[19]! << 8);
    assert.ok(28 + size <= reply.response.length, `${row.name}: message size stays inside the packet`);
    assert.equal(reply.versions, undefined, row.name);
  }
});

test('a negotiation body too short for the counts still gets a failure answer inside its bytes', () => {
  const bytes = hex('01000000 16000000 0000 0000 0000 0000 0000 0200 00000000 00 03 0000 0100');
  const reply = answer(bytes, IC_SERVICES.heartbeat);
  assert.equal(reply.status, IC_STATUS.HV_E_FAIL);
  assert.equal(reply.response.length, bytes.length);
  assert.equal(reply.response[18], 2, 'message size is what the packet holds');
});

test('the host refuses to encode empty or oversized offers', () => {
  for (const offer of [
    { framework: [], message: [v(1, 0)] },
    { framework: [v(1, 0)], message: Array.from({ length: 101 }, () => v(1, 0)) },
  ]) {
    const r = encodeNegotiateRequest(offer);
    assert.ok(r instanceof WireError);
    assert.equal(r.code, 'bad-value');
  }
});

test('a negotiation restarts a negotiated channel: the old versions are replaced', () => {
  const settled = { framework: v(3, 0), message: v(3, 0) };
  const request = encodeNegotiateRequest({ framework: [v(1, 0)], message: [v(1, 0)] });
  assert.ok(!(request instanceof WireError));
  const reply = respondToIcRequest<never>(request, IC_SERVICES.heartbeat, settled, () => assert.fail('negotiation only'));
  assert.ok(!(reply instanceof WireError));
  assert.deepEqual(reply.versions, { framework: v(1, 0), message: v(1, 0) });
});
