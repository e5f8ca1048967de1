/**
 * The host bus's saved state (layout in src/bus/host-saved-state.ts, envelope
 * in src/bus/server/saved-bytes.ts): corrupt, truncated, inconsistent or
 * foreign bytes are refused with the right SavedStateError, and a refused
 * restore makes nothing in the hypervisor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HostBus,
  SavedStateError,
  decodeHostBusSavedState,
  type HostBusOptions,
  type HostBusSavedState,
  type SavedStateErrorCode,
} from '../../../src/bus/index.js';
import { encodeHostBusSavedState } from '../../../src/bus/host-saved-state.js';
import { encodeServerSavedState } from '../../../src/bus/server/index.js';
import { HV_STATUS } from '../../../src/hv/index.js';
import { SeededRandom } from '../../../src/hv/seeded-random.js';
import { testSeed } from '../../support/seed.js';
import { SeededMachine } from './seeded-machine.js';
import { ServicingEchoDevice } from './servicing-device.js';

const INTERFACE = 'a3f1c2e4-0004-4c5d-9e8f-00000000000d';
const HEADER = 16;

interface Saved {
  readonly machine: SeededMachine;
  readonly options: HostBusOptions;
  readonly bytes: Uint8Array;
  readonly state: HostBusSavedState;
}

/** A machine whose guest has two channels open (one monitored) and a third offered; its host bus saved, then closed outright. */
async function savedHost(seed: number): Promise<Saved> {
  const machine = new SeededMachine(seed);
  const device = new ServicingEchoDevice();
  for (const n of [1, 2, 3]) {
    machine.hostBus.offerChannel({ interfaceId: INTERFACE, instanceId: `5b0f7d21-9c3e-4a77-8d12-00000000000${n}`, monitoredNotification: n === 2 }, device);
  }
  const bus = await machine.connectGuest();
  for (const offer of bus.offers().slice(0, 2)) await machine.drive(bus.openChannel(offer.channelId, { outgoingRingPages: 2, incomingRingPages: 2 }));
  const bytes = machine.hostBus.save();
  // Closed outright, not for servicing: whatever a restore makes would show in the hypervisor.
  machine.hostBus.close();
  const state = decodeHostBusSavedState(bytes);
  assert.ok(!(state instanceof SavedStateError));
  const options: HostBusOptions = { host: machine.host, guest: machine.guest, guestMemory: machine.memory, scheduler: machine.scheduler };
  return { machine, options, bytes, state };
}

/** Restores `bytes` and expects a refusal that made nothing: the guest's message connection 1 is still gone. */
function refused({ machine, options }: Saved, bytes: Uint8Array, more: Partial<HostBusOptions> = {}): SavedStateError {
  const result = HostBus.restore({ ...options, ...more }, bytes);
  assert.ok(result instanceof SavedStateError, 'restore refused');
  assert.equal(machine.guest.postMessage(1, 1, new Uint8Array(8)), HV_STATUS.INVALID_CONNECTION_ID, 'no message port was made');
  return result;
}

test('a bus restored from the bytes, its channels offered again, saves the same state', async (t) => {
  const saved = await savedHost(testSeed(t.name));
  assert.equal(saved.state.channels.length, 2);
  assert.equal(saved.state.channels.filter((c) => c.monitorId !== null).length, 1);
  assert.deepEqual(saved.state.messageConnectionIds, [1, 4]);
  const restored = HostBus.restore(saved.options, saved.bytes);
  assert.ok(restored instanceof HostBus);
  const device = new ServicingEchoDevice();
  for (const n of [1, 2, 3]) {
    restored.offerChannel({ interfaceId: INTERFACE, instanceId: `5b0f7d21-9c3e-4a77-8d12-00000000000${n}`, monitoredNotification: n === 2 }, device);
  }
  assert.deepEqual(device.restored.length, 2);
  restored.completeRestore();
  assert.deepEqual(decodeHostBusSavedState(restored.save()), saved.state);
  restored.close();
});

test('every truncation of the host bus saved state is refused as truncated', async (t) => {
  const saved = await savedHost(testSeed(t.name));
  for (let length = 0; length < saved.bytes.length; length++) {
    assert.equal(refused(saved, saved.bytes.subarray(0, length)).code, 'truncated', `${length} of ${saved.bytes.length} bytes`);
  }
});

test('random bit flips in the body are caught by the checksum, in the header by the field they hit', async (t) => {
  const seed = testSeed(t.name);
  const saved = await savedHost(seed);
  const random = new SeededRandom(seed);
  for (let i = 0; i < 200; i++) {
    const bit = random.nextBelow(saved.bytes.length * 8);
    const flipped = saved.bytes.slice();
    flipped[bit >> 3]! ^= 1 << (bit & 7);
    const at = bit >> 3;
    // Header (saved-bytes.ts): magic @0, format @4, reserved @6, length @8, CRC-32 @12.
    const expected: SavedStateErrorCode[] =
      at >= HEADER ? ['bad-checksum']
      : at < 4 ? ['bad-magic']
      : at < 6 ? ['unsupported-format']
      : at < 8 ? ['bad-value']
      : at < 12 ? ['truncated', 'trailing-bytes']
      : ['bad-checksum'];
    const { code } = refused(saved, flipped);
    assert.ok(expected.includes(code), `bit ${bit}: ${code}`);
  }
});

type Mutation = (state: HostBusSavedState) => HostBusSavedState;
const channel = (state: HostBusSavedState, index: number, change: object): HostBusSavedState => ({
  ...state,
  channels: state.channels.map((c, i) => (i === index ? { ...c, ...change } : c)),
});

// Each re-encoded with a valid checksum, and refused for what it says.
const INVALID: [string, Mutation, SavedStateErrorCode][] = [
  ['the server state of another kind', (s) => ({ ...s, serverBytes: s.serverBytes.slice(0, 8) }), 'truncated'],
  [
    'a server state that fails its own checksum',
    (s) => ({ ...s, serverBytes: Uint8Array.from(s.serverBytes, (b, i) => (i === 40 ? b ^ 1 : b)) }),
    'bad-checksum',
  ],
  ['a server state from another VTL', (s) => ({ ...s, serverBytes: encodeServerSavedState({ ...s.server, vtl: 1 }) }), 'incompatible'],
  ['a mapped ring of a channel the server has closed', (s) => channel(s, 0, { channelId: 3 }), 'inconsistent'],
  ['a mapped ring on another GPADL', (s) => channel(s, 0, { ringGpadlId: 0x7777 }), 'inconsistent'],
  ['an open channel whose ring was not mapped', (s) => ({ ...s, channels: s.channels.slice(1) }), 'inconsistent'],
  ['one ring mapped twice', (s) => ({ ...s, channels: [s.channels[0]!, s.channels[0]!, ...s.channels.slice(1)] }), 'duplicate-id'],
  ['an open channel whose device had not accepted it', (s) => channel(s, 0, { opened: false, deviceState: null }), 'inconsistent'],
  ['a connection id the guest does not signal', (s) => channel(s, 0, { connectionId: 0x2999 }), 'inconsistent'],
  ['another monitor id', (s) => channel(s, 1, { monitorId: 99 }), 'inconsistent'],
  ['another host SINT', (s) => ({ ...s, hostSint: 3 }), 'incompatible'],
  ['other message connection ids', (s) => ({ ...s, messageConnectionIds: [1, 4, 9] }), 'incompatible'],
  ['a guest port on a VP the guest lacks', (s) => ({ ...s, guestEventPorts: [...s.guestEventPorts, 7] }), 'bad-value'],
  ['a guest message port on SINT 0, the hypervisor\'s', (s) => ({ ...s, guestMessagePorts: [{ vp: 0, sint: 0 }] }), 'bad-value'],
];

for (const [label, mutate, code] of INVALID) {
  test(`a host bus saved state is refused: ${label} → ${code}`, async (t) => {
    const saved = await savedHost(testSeed(t.name));
    const error = refused(saved, encodeHostBusSavedState(mutate(saved.state)));
    assert.equal(error.code, code, error.message);
  });
}

test('a bus set up on another SINT refuses the state', async (t) => {
  const saved = await savedHost(testSeed(t.name));
  assert.equal(refused(saved, saved.bytes, { hostSint: 5 }).code, 'incompatible');
});
