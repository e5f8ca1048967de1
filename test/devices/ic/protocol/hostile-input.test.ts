import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WireError } from '../../../../src/wire/wire-error.js';
import { IC_BODY_OFFSET, decodeIcPacket } from '../../../../src/devices/ic/protocol/ic-frame.js';
import { IC_SERVICES, icHostOffer } from '../../../../src/devices/ic/protocol/ic-services.js';
import { decodeNegotiateResponse, encodeNegotiateRequest, type IcVersions } from '../../../../src/devices/ic/protocol/negotiation.js';
import type { IcGuestReply } from '../../../../src/devices/ic/protocol/guest-responder.js';
import { IcHostSession } from '../../../../src/devices/ic/protocol/host-session.js';
import { HEARTBEAT_HOST, encodeHeartbeatRequest, parseHeartbeatResponse, respondHeartbeat } from '../../../../src/devices/ic/protocol/heartbeat.js';
import { encodeShutdownRequest, parseShutdownResponse, respondShutdown } from '../../../../src/devices/ic/protocol/shutdown.js';
import { encodeTimeSyncRequest, parseTimeSyncResponse, respondTimeSync } from '../../../../src/devices/ic/protocol/timesync.js';
import { KvpMemoryStore, respondKvp } from '../../../../src/devices/ic/protocol/kvp-guest.js';
import { KVP_HOST, encodeKvpRequest, parseKvpResponse } from '../../../../src/devices/ic/protocol/kvp-host.js';
import type { KvpRequest } from '../../../../src/devices/ic/protocol/kvp-record.js';
import { testSeed } from '../../../support/seed.js';

// Every byte from the peer is hostile (DESIGN.md "Trust and errors"): guest responders and host
// parsers must return a value — a response or a WireError — for any input, never throw, never
// touch the input, and a guest answer is always the request's length with flags TRANSACTION|RESPONSE
// (5) and its status in header bytes 20..23 (linux-vmbus.md §A.5.2).

const V4 = { framework: { major: 3, minor: 0 }, message: { major: 4, minor: 0 } };
const V3 = { framework: { major: 3, minor: 0 }, message: { major: 3, minor: 0 } };

function must(packet: Uint8Array | WireError): Uint8Array {
  assert.ok(packet instanceof Uint8Array);
  return packet;
}

const KVP_REQUESTS: KvpRequest[] = [
  { op: 'get', pool: 1, key: 'key' },
  { op: 'set', pool: 0, key: 'key', value: { type: 'string', text: 'value' } },
  { op: 'delete', pool: 0, key: 'key' },
  { op: 'enumerate', pool: 2, index: 3 },
];

/** Valid packets of every kind, to mutate. */
const SEEDS: Uint8Array[] = [
  must(encodeNegotiateRequest(icHostOffer(IC_SERVICES.kvp))),
  must(encodeHeartbeatRequest(V3, { sequenceNumber: 9n })),
  must(encodeShutdownRequest(V3, { kind: 'restart', force: true, message: 'bye' })),
  must(encodeTimeSyncRequest(V4, { kind: 'sync', parentTime: 1n, vmReferenceTime: 2n })),
  must(encodeTimeSyncRequest(V3, { kind: 'sample', parentTime: 1n, vmReferenceTime: 2n })),
  ...KVP_REQUESTS.map((r) => must(encodeKvpRequest(V4, r))),
];

const store = new KvpMemoryStore();
store.set(0, 'key', { type: 'u64', value: 5n });
store.set(1, 'key', { type: 'string', text: 'value' });

type Responder = (request: Uint8Array, versions: IcVersions | undefined) => IcGuestReply<unknown> | WireError;
const RESPONDERS: [string, Responder][] = [
  ['heartbeat', (r, versions) => respondHeartbeat(r, { versions, applicationState: 1 })],
  ['shutdown', (r, versions) => respondShutdown(r, { versions, decide: () => 0 })],
  ['time sync', (r, versions) => respondTimeSync(r, { versions, referenceTime: 5n })],
  ['kvp', (r, versions) => respondKvp(r, { versions, store, autoPool: (key) => key })],
];

function checkGuestInvariants(input: Uint8Array): void {
  const before = input.slice();
  for (const [name, respond] of RESPONDERS) {
    for (const versions of [undefined, V3, V4]) {
      const reply = respond(input, versions);
      if (input.length < IC_BODY_OFFSET) {
        assert.ok(reply instanceof WireError, name);
        continue;
      }
      assert.ok(!(reply instanceof WireError), name);
      assert.equal(reply.response.length, input.length, name);
      assert.equal(reply.response[25], 5, name);
      const status = new DataView(reply.response.buffer, reply.response.byteOffset).getUint32(20, true);
      assert.equal(status, reply.status, name);
      assert.deepEqual(reply.response.subarray(0, 8), input.subarray(0, 8), `${name}: pipe header untouched`);
    }
  }
  assert.deepEqual(input, before, 'the request itself is never modified');
}

function checkHostParsers(input: Uint8Array): void {
  const results: unknown[] = [
    decodeIcPacket(input, 'request'),
    decodeIcPacket(input, 'response'),
    decodeNegotiateResponse(input, icHostOffer(IC_SERVICES.shutdown)),
    parseHeartbeatResponse({ sequenceNumber: 0n }, input),
    parseShutdownResponse(input),
    parseTimeSyncResponse(input),
    ...KVP_REQUESTS.map((r) => parseKvpResponse(r, input)),
  ];
  for (const r of results) assert.ok(r !== undefined);
  // A session in each state takes the bytes too.
  const negotiating = new IcHostSession(HEARTBEAT_HOST);
  negotiating.negotiate();
  assert.ok(negotiating.receive(input).kind);
  const kvp = new IcHostSession(KVP_HOST);
  kvp.negotiate();
  assert.ok(kvp.receive(input).kind);
}

/** Answers of each guest to each seed, as hostile inputs for the host side. */
const ANSWERS: Uint8Array[] = SEEDS.flatMap((seed) =>
  RESPONDERS.map(([, respond]) => respond(seed, V4)).flatMap((r) => (r instanceof WireError ? [] : [r.response])),
);

test('random bytes never make a guest responder or a host parser throw', () => {
  const seed = testSeed('ic random bytes');
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
      checkGuestInvariants(bytes);
      checkHostParsers(bytes);
    }),
    { seed, numRuns: 300 },
  );
});

test('valid headers with random bodies and sizes never make either side throw', () => {
  const seed = testSeed('ic random bodies');
  const packet = fc
    .record({
      type: fc.integer({ min: 0, max: 9 }),
      flags: fc.constantFrom(3, 5, 1, 7),
      transactionId: fc.constantFrom(0, 1, 255),
      body: fc.uint8Array({ maxLength: 2700 }),
      sizeDelta: fc.integer({ min: -8, max: 8 }),
      padding: fc.integer({ min: 0, max: 7 }),
    })
    .map(({ type, flags, transactionId, body, sizeDelta, padding }) => {
      const out = new Uint8Array(IC_BODY_OFFSET + body.length + padding);
      const dv = new DataView(out.buffer);
      dv.setUint32(0, 1, true);
      dv.setUint32(4, 20 + body.length, true);
      dv.setUint16(8, 3, true);
      dv.setUint16(12, type, true);
      dv.setUint16(14, 4, true);
      dv.setUint16(18, Math.max(0, Math.min(0xffff, body.length + sizeDelta)), true);
      out[24] = transactionId;
      out[25] = flags;
      out.set(body, IC_BODY_OFFSET);
      return out;
    });
  fc.assert(
    fc.property(packet, (bytes) => {
      checkGuestInvariants(bytes);
      checkHostParsers(bytes);
    }),
    { seed, numRuns: 300 },
  );
});

test('valid packets and answers with random edits never make either side throw', () => {
  const seed = testSeed('ic mutated packets');
  const mutated = fc
    .record({
      base: fc.constantFrom(...SEEDS, ...ANSWERS),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
    })
    .map(({ base, edits, cut }) => {
      const out = base.slice(0, cut === undefined ? base.length : cut % (base.length + 1));
      for (const [at, value] of edits) if (out.length > 0) out[at % out.length] = value;
      return out;
    });
  fc.assert(
    fc.property(mutated, (bytes) => {
      checkGuestInvariants(bytes);
      checkHostParsers(bytes);
    }),
    { seed, numRuns: 400 },
  );
});
