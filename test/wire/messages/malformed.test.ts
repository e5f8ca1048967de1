import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MESSAGE_TABLE, VMBUS_VERSIONS, decodeMessage } from '../../../src/wire/messages/index.js';
import type { DecodeContext, MessageSpec } from '../../../src/wire/messages/index.js';
import { WireError } from '../../../src/wire/wire-error.js';
import type { WireErrorCode } from '../../../src/wire/wire-error.js';

const SPECS: readonly MessageSpec[] = MESSAGE_TABLE;

// Versions (openvmm-vmbus.md §2.1) and Copper feature bits (§2.1, protocol.rs:153-199).
const V1 = 0x0000_000d;
const WIN10 = 0x0004_0000;
const WIN10_RS3_1 = 0x0005_0000;
const WIN10_RS5 = 0x0005_0002;
const IRON = 0x0005_0003;
const COPPER = 0x0006_0000;
const ALL_FEATURES = 0xff;

/** A message of `type` and `length` bytes, header then a recognisable filler. */
function message(type: number, length: number): Uint8Array {
  const bytes = Uint8Array.from({ length }, (_, i) => (i * 7 + 1) & 0xff);
  if (length >= 4) new DataView(bytes.buffer).setUint32(0, type >>> 0, true);
  return bytes;
}

function assertError(result: unknown, code: WireErrorCode): void {
  assert.ok(result instanceof WireError, `expected a WireError '${code}', got ${JSON.stringify(result, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`);
  assert.equal(result.code, code, result.message);
}

const host = (version: number | null, features = 0): DecodeContext => ({ receiver: 'host', version, features });
const guest = (version: number | null, features = 0): DecodeContext => ({ receiver: 'guest', version, features });
const receiverOf = (spec: MessageSpec): 'host' | 'guest' => (spec.direction === 'guest-to-host' ? 'host' : 'guest');

// Sizes: openvmm-vmbus.md §2.2 / §6; the 240-byte limit and 8-byte header: §6.1.
const CASES: readonly { readonly name: string; readonly bytes: Uint8Array; readonly ctx?: DecodeContext; readonly code: WireErrorCode }[] = [
  { name: 'an empty message', bytes: new Uint8Array(0), code: 'truncated' },
  { name: 'a 1-byte message', bytes: message(1, 1), code: 'truncated' },
  { name: 'a 7-byte message (less than the header)', bytes: message(3, 7), code: 'truncated' },
  { name: 'a 241-byte message', bytes: message(9, 241), code: 'oversized' },
  { name: 'a 300-byte message', bytes: message(1, 300), code: 'oversized' },
  { name: 'type 0 (INVALID in Linux)', bytes: message(0, 16), code: 'unknown-type' },
  { name: 'type 30', bytes: message(30, 16), code: 'unknown-type' },
  { name: 'type 0xFFFFFFFF', bytes: message(0xffff_ffff, 16), code: 'unknown-type' },
  { name: 'type 0x101 (only the low byte is a known type)', bytes: message(0x101, 16), code: 'unknown-type' },
  { name: 'OFFER_CHANNEL of 195 bytes', bytes: message(1, 195), code: 'truncated' },
  { name: 'CLOSE_CHANNEL of 11 bytes', bytes: message(7, 11), code: 'truncated' },
  { name: 'GPADL_HEADER of 19 bytes', bytes: message(8, 19), code: 'truncated' },
  { name: 'VERSION_RESPONSE of 15 bytes', bytes: message(15, 15), code: 'truncated' },
  { name: 'MODIFY_CONNECTION_RESPONSE of 8 bytes', bytes: message(26, 8), code: 'truncated' },
  { name: 'TL_CONNECT_REQUEST_RESULT of 43 bytes', bytes: message(23, 43), code: 'truncated' },
  {
    name: 'a 148-byte OPEN_CHANNEL once OpenChannel2 is negotiated (not check_size: no fallback)',
    bytes: message(5, 148), ctx: host(COPPER, 0x2), code: 'truncated',
  },
  { name: 'INITIATE_CONTACT of 39 bytes before contact', bytes: message(14, 39), ctx: host(null), code: 'truncated' },
  { name: 'TL_CONNECT_REQUEST of 39 bytes at Win10Rs5', bytes: message(21, 39), ctx: host(WIN10_RS5), code: 'truncated' },
];

for (const c of CASES) {
  test(`decodeMessage refuses ${c.name} with '${c.code}'`, () => {
    assertError(decodeMessage(c.bytes, c.ctx), c.code);
  });
}

test('each message type is refused by the side that sends it (wrong-direction), at any version', () => {
  for (const spec of SPECS) {
    const wrongSide = receiverOf(spec) === 'host' ? guest : host;
    for (const version of [null, V1, COPPER]) {
      const size = spec.variants[0]!.size;
      assertError(decodeMessage(message(spec.type, size), wrongSide(version, ALL_FEATURES)), 'wrong-direction');
    }
  }
});

test('each message type is refused at the version just below its oldest variant (not-negotiated)', () => {
  for (const spec of SPECS) {
    const oldest = spec.variants[spec.variants.length - 1]!;
    if (oldest.minVersion === 0) continue;
    const below = VMBUS_VERSIONS.filter((v) => v < oldest.minVersion);
    // Below V1 there is no version: the message is refused before contact.
    const version = below.length === 0 ? null : below[below.length - 1]!;
    const ctx = { receiver: receiverOf(spec), version, features: ALL_FEATURES } as const;
    assertError(decodeMessage(message(spec.type, spec.variants[0]!.size), ctx), 'not-negotiated');
    // ...and accepted at the minimum.
    const at = decodeMessage(message(spec.type, oldest.size), { ...ctx, version: oldest.minVersion });
    assert.ok(!(at instanceof WireError), `${spec.name} at its minimum: ${String(at)}`);
  }
});

test('each feature-gated message is refused at Copper without its feature bit (not-negotiated)', () => {
  const gated = SPECS.filter((s) => s.variants.every((v) => v.features !== undefined));
  assert.deepEqual(gated.map((s) => s.type), [25, 26, 27, 28, 29]); // openvmm-vmbus.md §2.2
  for (const spec of gated) {
    const bit = spec.variants[0]!.features!;
    const size = spec.variants[0]!.size;
    for (const features of [0, ALL_FEATURES & ~bit]) {
      assertError(decodeMessage(message(spec.type, size), { receiver: receiverOf(spec), version: COPPER, features }), 'not-negotiated');
    }
    assert.equal((decodeMessage(message(spec.type, size), { receiver: receiverOf(spec), version: COPPER, features: bit }) as { kind: string }).kind, spec.variants[0]!.kind);
    assertError(decodeMessage(message(spec.type, size), { receiver: receiverOf(spec), version: IRON, features: bit }), 'not-negotiated');
  }
});

test('before contact only INITIATE_CONTACT, VERSION_RESPONSE and CLOSE_RESERVED_CHANNEL are accepted', () => {
  // openvmm-vmbus.md §2.2: "0 means the message is accepted while disconnected".
  const accepted = SPECS.filter((spec) => {
    const r = decodeMessage(message(spec.type, spec.variants[0]!.size), { receiver: receiverOf(spec), version: null, features: ALL_FEATURES });
    if (r instanceof WireError) assert.equal(r.code, 'not-negotiated', spec.name);
    return !(r instanceof WireError);
  });
  assert.deepEqual(accepted.map((s) => s.name), ['INITIATE_CONTACT', 'VERSION_RESPONSE', 'CLOSE_RESERVED_CHANNEL']);
});

test('a gated newer variant is not chosen below its gate: the older one reads the prefix', () => {
  const kindOf = (bytes: Uint8Array, ctx: DecodeContext): string => (decodeMessage(bytes, ctx) as { kind: string }).kind;
  // 156-byte OPEN_CHANNEL: OpenChannel2 only at Copper with feature 0x1 or 0x2 (protocol.rs:64-67).
  assert.equal(kindOf(message(5, 156), host(IRON, ALL_FEATURES)), 'OpenChannel');
  assert.equal(kindOf(message(5, 156), host(COPPER, 0x4)), 'OpenChannel');
  assert.equal(kindOf(message(5, 156), host(COPPER, 0x1)), 'OpenChannel2');
  assert.equal(kindOf(message(5, 156), host(COPPER, 0x2)), 'OpenChannel2');
  // 56-byte TL_CONNECT_REQUEST: TlConnectRequest2 only from Win10Rs5 (protocol.rs:93-98).
  assert.equal(kindOf(message(21, 56), host(WIN10_RS3_1)), 'TlConnectRequest');
  assert.equal(kindOf(message(21, 56), host(WIN10)), 'TlConnectRequest');
  assert.equal(kindOf(message(21, 56), host(WIN10_RS5)), 'TlConnectRequest2');
  // Older clients send the 40-byte form at newer versions: check_size lets it through.
  assert.equal(kindOf(message(21, 40), host(COPPER)), 'TlConnectRequest');
});

test('size-chosen variants follow check_size: the newest the message is long enough for', () => {
  const kindOf = (bytes: Uint8Array, ctx?: DecodeContext): string => (decodeMessage(bytes, ctx) as { kind: string }).kind;
  // INITIATE_CONTACT 40 / 56 (protocol.rs:76-82); bytes past a variant are ignored, as OpenVMM reads a prefix.
  assert.equal(kindOf(message(14, 40), host(null)), 'InitiateContact');
  assert.equal(kindOf(message(14, 48), host(null)), 'InitiateContact');
  assert.equal(kindOf(message(14, 56), host(null)), 'InitiateContact2');
  assert.equal(kindOf(message(14, 64), host(COPPER)), 'InitiateContact2');
  // VERSION_RESPONSE 16 / 20 / 40 (protocol.rs:83-87).
  for (const [length, kind] of [[16, 'VersionResponse'], [19, 'VersionResponse'], [20, 'VersionResponse2'], [39, 'VersionResponse2'], [40, 'VersionResponse3'], [240, 'VersionResponse3']] as const) {
    assert.equal(kindOf(message(15, length), guest(null)), kind, `${length} bytes`);
    assert.equal(kindOf(message(15, length)), kind, `${length} bytes, no receiver state`);
  }
});

test('extra bytes after a fixed-size message are ignored, not decoded', () => {
  const bytes = message(7, 20); // CLOSE_CHANNEL is 12 bytes (§6.9)
  const r = decodeMessage(bytes, host(V1));
  assert.deepEqual(r, { kind: 'CloseChannel', channelId: new DataView(bytes.buffer).getUint32(8, true) });
});

test('padding bytes are ignored when decoding, whatever they hold', () => {
  // VersionResponse padding u16 @10 (protocol.rs:350) and the header padding u32 @4 (protocol.rs:136).
  const bytes = Uint8Array.from([15, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd, 1, 0, 0xee, 0xff, 3, 0, 5, 0]);
  assert.deepEqual(decodeMessage(bytes, guest(null)), {
    kind: 'VersionResponse', versionSupported: 1, connectionState: 0, selectedVersionOrConnectionId: 0x0005_0003,
  });
});

test('decodeMessage reads a view into a larger buffer without touching bytes outside it', () => {
  const backing = new Uint8Array(64).fill(0xff);
  backing.set([7, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0], 16);
  assert.deepEqual(decodeMessage(backing.subarray(16, 28), host(V1)), { kind: 'CloseChannel', channelId: 9 });
  assertError(decodeMessage(backing.subarray(16, 27), host(V1)), 'truncated');
});

test('decodeMessage reads a SynIC slot in shared memory and copies byte arrays out of it', () => {
  const slot = new Uint8Array(new SharedArrayBuffer(240));
  slot.set([5, 0, 0, 0], 0); // OPEN_CHANNEL, 148 bytes (§6.7); user_data @28
  slot[28] = 0x42;
  const r = decodeMessage(slot.subarray(0, 148), host(IRON));
  assert.ok(!(r instanceof WireError) && r.kind === 'OpenChannel');
  slot[28] = 0x43;
  assert.equal(r.userData[0], 0x42);
  assert.ok(!(r.userData.buffer instanceof SharedArrayBuffer));
});

// UEFI sends GPADL messages padded to the full 240 bytes; Hyper-V and OpenVMM take the whole u64s of
// the trailing data and ignore a partial last one (OpenVMM channels.rs:1232-1237).
test('GPADL messages with a partial trailing u64 decode with the whole u64s only', () => {
  const cases: [string, Uint8Array, number][] = [
    ['GPADL_HEADER with 4 bytes of data', message(8, 24), 0],
    ['GPADL_HEADER with 1 byte of data', message(8, 21), 0],
    ['GPADL_HEADER of the full 240 bytes (27.5 u64 of data)', message(8, 240), 27],
    ['GPADL_BODY with 7 bytes of data', message(9, 23), 0],
    ['GPADL_BODY with 12 bytes of data', message(9, 28), 1],
  ];
  for (const [name, bytes, values] of cases) {
    const r = decodeMessage(bytes, host(V1));
    assert.ok(!(r instanceof WireError), name);
    assert.equal((r as { range: bigint[] }).range.length, values, name);
  }
});
