/**
 * Corrupt, truncated and inconsistent saved states are refused with the right
 * SavedStateError, never a throw and never a server (layout: the doc comments
 * of src/bus/server/saved-state.ts and saved-bytes.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SERVER_SAVED_STATE_FORMAT,
  SavedStateError,
  VmbusServer,
  decodeServerSavedState,
  encodeServerSavedState,
  sealSavedState,
  type SavedChannel,
  type SavedStateErrorCode,
  type ServerSavedState,
} from '../../../src/bus/server/index.js';
import { SeededRandom } from '../../../src/hv/seeded-random.js';
import { testSeed } from '../../support/seed.js';
import { PAGE, RecordingNotifier, V, connect, createGpadl, openMessage, setup, type Env } from './harness.js';
import { saved, tryRestore } from './restore-harness.js';

const IF_A = '0000000a-0000-0000-0000-000000000000';
const INST = (n: number): string => `0000000${n}-0000-0000-0000-000000000000`;
const HEADER = 16;
// Body offsets of the first channel record (saved-state.ts layout): config 8 + connected connection 64 + count 4.
const CHANNEL = 76;

/** A Copper server: channel 1 open on ring GPADL 0x100, channel 2 closed and monitored, GPADL 0x200 in progress on it. */
function richState(): { env: Env; bytes: Uint8Array; state: ServerSavedState } {
  const env = setup();
  env.server.offerChannel({ interfaceId: IF_A, instanceId: INST(1) });
  env.server.offerChannel({ interfaceId: IF_A, instanceId: INST(2), monitored: true });
  connect(env, V.Win10Rs5, 0, { parentToChild: 0x3_0000n, childToParent: 0x3_1000n });
  env.send({ kind: 'RequestOffers' });
  env.notifier.take();
  createGpadl(env, 1, 0x100, [10, 11, 12, 13]);
  env.send(openMessage(1, { gpadlId: 0x100 }));
  env.server.openComplete(1, 0);
  env.send({ kind: 'GpadlHeader', channelId: 2, gpadlId: 0x200, len: 24, count: 1, range: [BigInt(PAGE)] });
  env.notifier.take();
  const bytes = saved(env);
  const state = decodeServerSavedState(bytes);
  assert.ok(!(state instanceof SavedStateError));
  return { env, bytes, state };
}

function refusal(env: Env, bytes: Uint8Array, options: Parameters<typeof tryRestore>[2] = {}): SavedStateError {
  const decoded = decodeServerSavedState(bytes);
  const restored = tryRestore(env, bytes, options);
  assert.ok(restored instanceof SavedStateError, 'restore refused');
  if (decoded instanceof SavedStateError) assert.deepEqual(decoded, restored, 'decode and restore agree');
  return restored;
}

test('every truncation of a saved state is refused as truncated', () => {
  const { env, bytes } = richState();
  for (let length = 0; length < bytes.length; length++) {
    assert.equal(refusal(env, bytes.subarray(0, length)).code, 'truncated', `${length} of ${bytes.length} bytes`);
  }
  assert.equal(refusal(env, Uint8Array.from([...bytes, 0])).code, 'trailing-bytes');
});

test('random bit flips are refused: a flip in the body by the checksum, in the header by the field it hits', (t) => {
  const { env, bytes } = richState();
  const random = new SeededRandom(testSeed(t.name));
  // Header fields (saved-bytes.ts): magic @0, format @4, reserved @6, length @8, CRC-32 @12.
  const byHeaderByte = (at: number): SavedStateErrorCode[] =>
    at < 4 ? ['bad-magic'] : at < 6 ? ['unsupported-format'] : at < 8 ? ['bad-value'] : at < 12 ? ['truncated', 'trailing-bytes'] : ['bad-checksum'];
  for (let i = 0; i < 400; i++) {
    const flipped = bytes.slice();
    const bit = random.nextBelow(bytes.length * 8);
    flipped[bit >> 3]! ^= 1 << (bit & 7);
    const expected = bit >> 3 < HEADER ? byHeaderByte(bit >> 3) : ['bad-checksum'];
    const { code } = refusal(env, flipped);
    assert.ok(expected.includes(code), `bit ${bit}: ${code}, expected ${expected.join(' or ')}`);
  }
});

test('another kind of state or another format version is refused before anything is read', () => {
  const { env, bytes } = richState();
  const otherMagic = bytes.slice();
  otherMagic.set([0x56, 0x42, 0x48, 0x42]); // "VBHB", the host bus's magic
  assert.equal(refusal(env, otherMagic).code, 'bad-magic');
  const body = bytes.subarray(HEADER);
  assert.equal(refusal(env, sealSavedState({ ...SERVER_SAVED_STATE_FORMAT, version: 2 }, body)).code, 'unsupported-format');
});

/** Re-seals a patched body: the checksum is valid, the content is not. */
function patched(bytes: Uint8Array, patch: (body: Uint8Array, view: DataView) => void): Uint8Array {
  const body = bytes.slice(HEADER);
  patch(body, new DataView(body.buffer));
  return sealSavedState(SERVER_SAVED_STATE_FORMAT, body);
}

// Byte-level forgeries with a valid checksum, at offsets of the saved-state.ts layout.
const FORGED_BYTES: [string, (body: Uint8Array, view: DataView) => void, SavedStateErrorCode][] = [
  ['a non-zero reserved config byte', (b) => (b[1] = 1), 'bad-value'],
  ['an unknown connection kind', (b) => (b[8] = 3), 'bad-value'],
  ['unknown connection flag bits', (b) => (b[8 + 8 + 12] = 0x48), 'bad-value'],
  ['a channel count the body cannot hold', (_, v) => v.setUint32(72, 1000, true), 'truncated'],
  ['a flag byte of 2 (monitored)', (b) => (b[CHANNEL + 160] = 2), 'bad-value'],
  ['an offer order beyond 2^53', (b, v) => ((b[CHANNEL + 161] = 1), v.setBigUint64(CHANNEL + 164, 1n << 60n, true)), 'bad-value'],
  ['an unknown channel state', (b) => (b[CHANNEL + 182] = 9), 'bad-value'],
];

for (const [label, patch, code] of FORGED_BYTES) {
  test(`forged bytes with a valid checksum are refused: ${label} → ${code}`, () => {
    const { env, bytes } = richState();
    assert.equal(refusal(env, patched(bytes, patch)).code, code);
  });
}

type Mutation = (state: ServerSavedState) => ServerSavedState;

const channel = (state: ServerSavedState, index: number, change: Partial<SavedChannel>): ServerSavedState => ({
  ...state,
  channels: state.channels.map((c, i) => (i === index ? { ...c, ...change } : c)),
});
const ids = (state: ServerSavedState, index: number, change: object): ServerSavedState =>
  channel(state, index, { ids: { ...state.channels[index]!.ids, ...change } });
const connected = (state: ServerSavedState, change: object): ServerSavedState => {
  assert.equal(state.connection.kind, 'connected');
  return { ...state, connection: { ...state.connection, ...change } as ServerSavedState['connection'] };
};
const params = (state: ServerSavedState, change: object): ServerSavedState => {
  assert.ok(state.connection.kind === 'connected');
  return connected(state, { params: { ...state.connection.params, ...change } });
};
const openRequest = (state: ServerSavedState, change: object): ServerSavedState => {
  const first = state.channels[0]!;
  assert.ok(first.state.kind === 'open');
  return channel(state, 0, { state: { kind: 'open', request: { ...first.state.request, ...change } } });
};
const gpadl = (state: ServerSavedState, index: number, change: object): ServerSavedState => ({
  ...state,
  gpadls: state.gpadls.map((g, i) => (i === index ? { ...g, ...change } : g)),
});

// Well-formed records that cannot be: each re-encoded (valid checksum) and refused on restore.
const INCONSISTENT: [string, Mutation, SavedStateErrorCode][] = [
  ['channel id 0', (s) => ids(s, 0, { channelId: 0 }), 'id-out-of-range'],
  ['channel id 2048', (s) => ids(s, 0, { channelId: 2048, connectionId: 0x2000 | 2048 }), 'id-out-of-range'],
  ['monitor id 128', (s) => ids(s, 1, { monitorId: 128 }), 'id-out-of-range'],
  ['two channels with one id', (s) => ids(s, 1, { channelId: 1, connectionId: 0x2001 }), 'duplicate-id'],
  ['two channels with one monitor id', (s) => ids(s, 0, { monitorId: 0 }), 'duplicate-id'],
  ['two channels with one offer key', (s) => channel(s, 1, { offer: s.channels[0]!.offer }), 'duplicate-id'],
  ['two GPADLs with one id', (s) => gpadl(s, 1, { gpadlId: 0x100 }), 'duplicate-id'],
  ['a GPADL of a channel the state lacks', (s) => gpadl(s, 1, { channelId: 7 }), 'unknown-channel'],
  [
    'GPADL ranges outside guest memory',
    (s) => gpadl(s, 0, { state: { kind: 'created', ranges: [{ byteOffset: 0, byteCount: 4 * PAGE, pfns: [10, 11, 12, 10_000] }] } }),
    'bad-gpadl',
  ],
  ['a GPADL in progress holding all it announced', (s) => gpadl(s, 1, { state: { kind: 'in-progress', count: 1, capacity: 1, values: [1n] } }), 'bad-gpadl'],
  ['an open channel without its ring GPADL', (s) => ({ ...s, gpadls: s.gpadls.slice(1) }), 'missing-ring-gpadl'],
  ['an open channel on a GPADL of another channel', (s) => gpadl(s, 0, { channelId: 2 }), 'missing-ring-gpadl'],
  ['an open channel on a GPADL still in progress', (s) => openRequest(s, { ringGpadlId: 0x200 }), 'missing-ring-gpadl'],
  ['a ring split beyond its GPADL', (s) => openRequest(s, { downstreamRingPageOffset: 4 }), 'missing-ring-gpadl'],
  ['channels while disconnected', (s) => ({ ...s, connection: { kind: 'disconnected', messageVp: 0 } }), 'inconsistent'],
  ['channels before REQUEST_OFFERS', (s) => connected(s, { offersSent: false }), 'inconsistent'],
  ['held messages without a PAUSE', (s) => ({ ...s, heldMessages: [new Uint8Array(8)] }), 'inconsistent'],
  ['a connection id that is not the channel\'s', (s) => ids(s, 0, { connectionId: 0x2005 }), 'inconsistent'],
  ['guest signal parameters not negotiated', (s) => openRequest(s, { guestSignal: { connectionId: 9, eventFlag: 9 } }), 'inconsistent'],
  [
    'hvsocket requests without a connection',
    (s) => ({
      ...s,
      connection: { kind: 'disconnected', messageVp: 0 },
      channels: [],
      gpadls: [],
      hvsockRequests: [{ serviceId: IF_A, endpointId: IF_A, siloId: IF_A, hostedSiloUnaware: false }],
    }),
    'inconsistent',
  ],
  ['an unknown protocol version', (s) => params(s, { version: 0x0005_0004 }), 'bad-value'],
  ['feature flags before Copper', (s) => params(s, { features: 0x1 }), 'bad-value'],
  ['a zero monitor page', (s) => params(s, { monitorPages: { parentToChild: 0n, childToParent: 0x1000n } }), 'bad-value'],
  ['another VTL', (s) => ({ ...s, vtl: 1 }), 'incompatible'],
  ['another message connection id', (s) => ({ ...s, messageConnectionId: 4 }), 'incompatible'],
  ["the old server's monitor pages", (s) => params(s, { serverMonitorPages: true }), 'incompatible'],
];

for (const [label, mutate, code] of INCONSISTENT) {
  test(`an inconsistent state with a valid checksum is refused: ${label} → ${code}`, () => {
    const { env, state } = richState();
    const bytes = encodeServerSavedState(mutate(state));
    assert.ok(!(decodeServerSavedState(bytes) instanceof SavedStateError), 'the bytes themselves are well formed');
    const error = refusal(env, bytes);
    assert.equal(error.code, code, error.message);
    // The unchanged state restores, so the mutation alone was refused.
    assert.ok(!(tryRestore(env, encodeServerSavedState(state)) instanceof SavedStateError));
  });
}

test('a server set up differently refuses the state: another message connection id', () => {
  const { env, bytes } = richState();
  assert.equal(refusal(env, bytes, { messageConnectionId: 0x80_0074 }).code, 'incompatible');
});

test('a refused restore sends nothing: the notifier is never called', () => {
  const { env, state } = richState();
  const notifier = new RecordingNotifier();
  const result = VmbusServer.restore({ memory: env.memory, notifier }, encodeServerSavedState({ ...state, vtl: 2 }));
  assert.ok(result instanceof SavedStateError);
  assert.deepEqual(notifier.outputs, []);
});
