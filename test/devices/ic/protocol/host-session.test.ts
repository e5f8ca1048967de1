import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WireError } from '../../../../src/wire/wire-error.js';
import { IcHostSession, IcRequestRefused } from '../../../../src/devices/ic/protocol/host-session.js';
import { HEARTBEAT_APPLICATION_STATE, HEARTBEAT_HOST, respondHeartbeat } from '../../../../src/devices/ic/protocol/heartbeat.js';
import { KVP_HOST } from '../../../../src/devices/ic/protocol/kvp-host.js';
import { KvpMemoryStore, respondKvp, type KvpGuestState } from '../../../../src/devices/ic/protocol/kvp-guest.js';
import { SHUTDOWN_HOST, respondShutdown } from '../../../../src/devices/ic/protocol/shutdown.js';
import { TIME_SYNC_HOST, respondTimeSync } from '../../../../src/devices/ic/protocol/timesync.js';
import { IC_STATUS } from '../../../../src/devices/ic/protocol/ic-status.js';
import { IC_SERVICES } from '../../../../src/devices/ic/protocol/ic-services.js';
import type { IcVersions } from '../../../../src/devices/ic/protocol/negotiation.js';
import { hex } from '../../../wire/messages/hex.js';

// Host flow: negotiate, then one request/response at a time (O hyperv_ic/src/common.rs negotiate/
// write_message/read_response; O kvp.rs ReadyState Ready → SendingRequest → WaitingResponse);
// at most one outstanding KVP transaction (L drivers/hv/hv_kvp.c:63-75); stale responses of
// another type are dropped while negotiating (O common.rs:98-109).

function bytes(packet: Uint8Array | WireError | IcRequestRefused): Uint8Array {
  assert.ok(packet instanceof Uint8Array, String(packet));
  return packet;
}

/** A guest that answers like a Linux guest: negotiation + the service's own messages. */
function guestAnswer(
  respond: (request: Uint8Array, versions: IcVersions | undefined) => { response: Uint8Array; versions: IcVersions | undefined } | WireError,
) {
  let versions: IcVersions | undefined;
  return (request: Uint8Array): Uint8Array => {
    const reply = respond(request, versions);
    assert.ok(!(reply instanceof WireError));
    versions = reply.versions;
    return reply.response;
  };
}

test('heartbeat session: negotiate, then requests carry the negotiated versions', () => {
  const session = new IcHostSession(HEARTBEAT_HOST);
  assert.equal(session.state, 'idle');
  const guest = guestAnswer((r, versions) => respondHeartbeat(r, { versions, applicationState: HEARTBEAT_APPLICATION_STATE.HEALTHY }));
  const negotiation = bytes(session.negotiate());
  assert.equal(session.state, 'negotiating');
  assert.deepEqual(session.receive(guest(negotiation)), {
    kind: 'negotiated',
    versions: { framework: { major: 3, minor: 0 }, message: { major: 3, minor: 0 } },
  });
  assert.equal(session.state, 'ready');
  const request = bytes(session.request({ sequenceNumber: 41n }));
  assert.deepEqual(request.subarray(8, 18), hex('0300 0000 0100 0300 0000'), 'framework 3.0, HEARTBEAT, message 3.0');
  assert.deepEqual(session.outstanding, { sequenceNumber: 41n });
  assert.deepEqual(session.receive(guest(request)), {
    kind: 'response',
    request: { sequenceNumber: 41n },
    result: { ok: true, sequenceNumber: 42n, applicationState: HEARTBEAT_APPLICATION_STATE.HEALTHY },
  });
  assert.equal(session.outstanding, undefined);
});

test('KVP session: one transaction at a time; a second request is refused until the answer arrives', () => {
  const store = new KvpMemoryStore();
  const session = new IcHostSession(KVP_HOST);
  const guest = guestAnswer((r, versions) => respondKvp(r, { versions, store, autoPool: () => 'x' } satisfies KvpGuestState));
  session.receive(guest(bytes(session.negotiate())));
  assert.deepEqual(session.versions, { framework: { major: 3, minor: 0 }, message: { major: 4, minor: 0 } });
  const set = bytes(session.request({ op: 'set', pool: 0, key: 'k', value: { type: 'u32', value: 7 } }));
  const second = session.request({ op: 'get', pool: 0, key: 'k' });
  assert.ok(second instanceof IcRequestRefused);
  assert.equal(second.reason, 'busy');
  const done = session.receive(guest(set));
  assert.equal(done.kind, 'response');
  const get = bytes(session.request({ op: 'get', pool: 0, key: 'k' }));
  const got = session.receive(guest(get));
  assert.ok(got.kind === 'response');
  assert.deepEqual(got.result, { kind: 'value', key: 'k', value: { type: 'u32', value: 7 } });
});

test('shutdown and time sync sessions report the guest status', () => {
  const shutdown = new IcHostSession(SHUTDOWN_HOST);
  const shutdownGuest = guestAnswer((r, versions) => respondShutdown(r, { versions, decide: () => IC_STATUS.HV_E_FAIL }));
  shutdown.receive(shutdownGuest(bytes(shutdown.negotiate())));
  assert.deepEqual(shutdown.versions?.message, { major: 3, minor: 2 });
  const order = { kind: 'hibernate', force: false } as const;
  assert.deepEqual(shutdown.receive(shutdownGuest(bytes(shutdown.request(order)))), {
    kind: 'response',
    request: order,
    result: { ok: false, status: IC_STATUS.HV_E_FAIL },
  });

  const timeSync = new IcHostSession(TIME_SYNC_HOST);
  const timeGuest = guestAnswer((r, versions) => respondTimeSync(r, { versions, referenceTime: 0n }));
  timeSync.receive(timeGuest(bytes(timeSync.negotiate())));
  assert.deepEqual(timeSync.versions?.message, { major: 4, minor: 0 });
  const sample = { kind: 'sample', parentTime: 1n, vmReferenceTime: 2n } as const;
  assert.deepEqual(timeSync.receive(timeGuest(bytes(timeSync.request(sample)))), {
    kind: 'response',
    request: sample,
    result: { ok: true },
  });
});

test('requests before negotiation, or after it failed, are refused as not ready', () => {
  const session = new IcHostSession(HEARTBEAT_HOST, { framework: [{ major: 1, minor: 0 }], message: [{ major: 7, minor: 0 }] });
  const early = session.request({ sequenceNumber: 0n });
  assert.ok(early instanceof IcRequestRefused);
  assert.equal(early.reason, 'not-ready');
  const guest = guestAnswer((r, versions) => respondHeartbeat(r, { versions, applicationState: 0 }));
  const receipt = session.receive(guest(bytes(session.negotiate())));
  assert.ok(receipt.kind === 'rejected');
  assert.equal(receipt.error.code, 'not-negotiated');
  assert.equal(session.state, 'failed');
  const late = session.request({ sequenceNumber: 0n });
  assert.ok(late instanceof IcRequestRefused);
  assert.equal(late.reason, 'not-ready');
});

test('stale responses of another type are dropped without disturbing the state', () => {
  const session = new IcHostSession(HEARTBEAT_HOST);
  const guest = guestAnswer((r, versions) => respondHeartbeat(r, { versions, applicationState: 0 }));
  const negotiation = bytes(session.negotiate());
  // A KVP-typed response left over from before a reset (flags 5, transaction 0).
  const stale = hex('01000000 14000000 0300 0000 0200 0400 0000 0000 00000000 00 05 0000');
  assert.equal(session.receive(stale).kind, 'stale');
  assert.equal(session.state, 'negotiating');
  session.receive(guest(negotiation));
  const request = bytes(session.request({ sequenceNumber: 1n }));
  assert.equal(session.receive(stale).kind, 'stale');
  assert.deepEqual(session.outstanding, { sequenceNumber: 1n });
  assert.equal(session.receive(guest(request)).kind, 'response');
});

test('unsolicited and malformed responses are rejected; a malformed answer ends its transaction', () => {
  const session = new IcHostSession(HEARTBEAT_HOST);
  const guest = guestAnswer((r, versions) => respondHeartbeat(r, { versions, applicationState: 0 }));
  session.receive(guest(bytes(session.negotiate())));
  const request = bytes(session.request({ sequenceNumber: 5n }));
  const answer = guest(request);
  const broken = answer.slice();
  broken[28] = 0; // sequence number not incremented
  const receipt = session.receive(broken);
  assert.ok(receipt.kind === 'rejected');
  assert.equal(receipt.error.code, 'bad-value');
  assert.deepEqual(receipt.request, { sequenceNumber: 5n });
  assert.equal(session.outstanding, undefined);
  const unsolicited = session.receive(answer);
  assert.ok(unsolicited.kind === 'rejected');
  assert.equal(unsolicited.request, undefined);
  const garbage = session.receive(new Uint8Array(3));
  assert.ok(garbage.kind === 'rejected');
  assert.equal(garbage.error.code, 'truncated');
});

test('negotiating again forgets the outstanding request', () => {
  const session = new IcHostSession(HEARTBEAT_HOST);
  const guest = guestAnswer((r, versions) => respondHeartbeat(r, { versions, applicationState: 0 }));
  session.receive(guest(bytes(session.negotiate())));
  bytes(session.request({ sequenceNumber: 1n }));
  bytes(session.negotiate());
  assert.equal(session.outstanding, undefined);
  assert.equal(session.versions, undefined);
  assert.equal(session.state, 'negotiating');
});

test('a session offers the service spec versions by default', () => {
  assert.deepEqual(new IcHostSession(KVP_HOST).offer.message, IC_SERVICES.kvp.hostVersions);
});
