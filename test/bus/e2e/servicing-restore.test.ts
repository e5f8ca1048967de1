/**
 * What a restored host does beyond handing channels back: it signals the guest
 * where the rings say a signal was lost (OpenVMM's unstick), and it rescinds
 * the open channels no device took back, then offers them again once the
 * guest has released them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HostBus,
  SavedStateError,
  type ChannelEndpoint,
  type GuestOpenChannel,
  type HostChannelHandlers,
  type HostOfferOptions,
  type HostOpenRequest,
  type HostRestoreRequest,
} from '../../../src/bus/index.js';
import { NTSTATUS, type NtStatus } from '../../../src/wire/ntstatus.js';
import { testSeed } from '../../support/seed.js';
import { echoExchange } from './echo-exchange.js';
import { SeededMachine } from './seeded-machine.js';
import { ServicingEchoDevice } from './servicing-device.js';
import { ServicedHost } from './servicing-host.js';

const INTERFACE = 'a3f1c2e4-0003-4c5d-9e8f-00000000000c';
const OFFERS: HostOfferOptions[] = [1, 2].map((n) => ({ interfaceId: INTERFACE, instanceId: `5b0f7d21-9c3e-4a77-8d12-00000000000${n}` }));
const SMALL_RING = { outgoingRingPages: 2, incomingRingPages: 2 };

/** A device that takes channels and leaves the rings to the test. */
class PassiveDevice implements HostChannelHandlers {
  readonly endpoints = new Map<number, ChannelEndpoint>();
  open(request: HostOpenRequest): NtStatus {
    this.endpoints.set(request.channelId, request.endpoint);
    return NTSTATUS.STATUS_SUCCESS;
  }
  restore(request: HostRestoreRequest): NtStatus {
    return this.open(request);
  }
  close(): void {}
}

/** Two passive channels opened by the guest; returns the host bus, the device and the guest's channels. */
async function passiveMachine(seed: number): Promise<{ machine: SeededMachine; device: PassiveDevice; channels: GuestOpenChannel[] }> {
  const machine = new SeededMachine(seed);
  const device = new PassiveDevice();
  for (const offer of OFFERS) machine.hostBus.offerChannel(offer, device);
  const bus = await machine.connectGuest();
  const channels: GuestOpenChannel[] = [];
  for (const offer of bus.offers()) channels.push(await machine.drive(bus.openChannel(offer.channelId, SMALL_RING)));
  return { machine, device, channels };
}

/** Saves the machine's host bus, closes it for servicing and restores it with `device`. */
function service(machine: SeededMachine, device: HostChannelHandlers): HostBus {
  const saved = machine.hostBus.save();
  machine.hostBus.close({ servicing: true });
  const { host, guest, memory: guestMemory, scheduler, trace } = machine;
  const restored = HostBus.restore({ host, guest, guestMemory, scheduler, trace }, saved);
  assert.ok(!(restored instanceof SavedStateError));
  for (const offer of OFFERS) restored.offerChannel(offer, device);
  restored.completeRestore();
  return restored;
}

function unstuck(machine: SeededMachine): unknown[] {
  return machine.trace.events.filter((e) => e.kind === 'channel-unstuck').map((e) => e.detail?.['channelId']);
}

test('a packet the old host published but never signalled: the restored host signals the guest (host→guest ring)', async (t) => {
  const { machine, device, channels } = await passiveMachine(testSeed(t.name));
  const [lost, quiet] = channels;
  let signals = 0;
  lost!.onSignal(() => signals++);
  const host = device.endpoints.get(lost!.channelId)!;
  assert.equal(host.writer.tryWriteInBand(new Uint8Array(16).fill(0xab), 7), true);
  // The guest's mask is clear and the ring was empty: a signal is due; the old host dies before sending it.
  assert.equal(host.writer.commit(), true);
  service(machine, new PassiveDevice());
  await machine.quiesce();
  assert.deepEqual(unstuck(machine), [lost!.channelId], 'only the channel whose ring says so');
  assert.equal(signals, 1);
  assert.equal(lost!.reader.tryRead(), true);
  assert.deepEqual([lost!.reader.packet.transactionIdLo, lost!.reader.packet.payload[0]], [7, 0xab]);
  assert.equal(quiet!.stats.signalsReceived, 0);
});

test('space the old host freed but never signalled: the restored host signals the guest waiting to write (guest→host ring)', async (t) => {
  const { machine, device, channels } = await passiveMachine(testSeed(t.name));
  const [waiting] = channels;
  let signals = 0;
  waiting!.onSignal(() => signals++);
  const payload = new Uint8Array(1000);
  let written = 0;
  while (waiting!.writer.tryWriteInBand(payload, ++written));
  waiting!.writer.commit();
  assert.equal(waiting!.writer.requestSpace(), false, 'the guest waits for space (pending send size set)');
  await machine.quiesce();
  const host = device.endpoints.get(waiting!.channelId)!;
  while (host.reader.tryRead());
  // The free space crossed the guest's pending send size: a signal is due; the old host dies before sending it.
  assert.equal(host.reader.commit(), true);
  service(machine, new PassiveDevice());
  await machine.quiesce();
  assert.deepEqual(unstuck(machine), [waiting!.channelId]);
  assert.equal(signals, 1);
  assert.equal(waiting!.writer.tryWriteInBand(payload, written), true, 'the guest may write again');
});

/** Device instances after the servicing that do not take the channel back, and how each says so. */
const UNCLAIMING: [string, () => HostChannelHandlers & { stop(): void }, RegExp][] = [
  [
    'has no restore handler',
    () => {
      const inner = new ServicingEchoDevice();
      return { open: (r) => inner.open(r), close: (id) => inner.close(id), stop: () => inner.stop() };
    },
    /no restore handler/,
  ],
  [
    'refuses the channel',
    () => Object.assign(new ServicingEchoDevice(), { restore: (): NtStatus => NTSTATUS.STATUS_DEVICE_REMOVED }),
    /restore answered 0xc00002b6/,
  ],
  [
    'throws',
    () =>
      Object.assign(new ServicingEchoDevice(), {
        restore: (): NtStatus => {
          throw new Error('cannot restore');
        },
      }),
    /cannot restore/,
  ],
];

for (const [label, makeDevice, reason] of UNCLAIMING) {
  test(`an open channel whose new device ${label} is rescinded, then offered again after the guest releases it`, async (t) => {
    const machine = new SeededMachine(testSeed(t.name));
    const host = new ServicedHost<HostChannelHandlers & { stop(): void }>(machine, OFFERS.slice(0, 1), () => new ServicingEchoDevice());
    const bus = await machine.connectGuest();
    const [offer] = bus.offers();
    const channel = await machine.drive(bus.openChannel(offer!.channelId, SMALL_RING));
    assert.equal((await machine.drive(echoExchange(channel, 4))).mismatches, 0);
    const rescinded = new Promise<void>((resolve) => bus.onRescind(offer!.channelId, resolve));
    host.service(makeDevice);
    await machine.drive(rescinded);
    const notRestored = machine.trace.events.filter((e) => e.kind === 'channel-not-restored');
    assert.equal(notRestored.length, 1);
    assert.match(notRestored[0]!.reason!, reason);
    // The guest closes (its ring GPADL is torn down) and releases the id: the same offer comes back, under the same id.
    await machine.drive(channel.close());
    const offered = bus.waitForOffer({ interfaceId: INTERFACE });
    bus.releaseId(offer!.channelId);
    const again = await machine.drive(offered);
    assert.equal(again.channelId, offer!.channelId);
    const reopened = await machine.drive(bus.openChannel(again.channelId, SMALL_RING));
    assert.equal((await machine.drive(echoExchange(reopened, 4))).mismatches, 0);
    assert.deepEqual(host.bus.checkInvariants(), []);
    host.bus.close();
    machine.hv.close();
  });
}

test('a device offering its rescinded channel again before the guest released it: the rescind settles on the release, the new offer serves', async (t) => {
  const machine = new SeededMachine(testSeed(t.name));
  const first = machine.hostBus.offerChannel(OFFERS[0]!, new ServicingEchoDevice());
  const bus = await machine.connectGuest();
  const [offer] = bus.offers();
  const rescinded = new Promise<void>((resolve) => bus.onRescind(offer!.channelId, resolve));
  let settled = false;
  void first.rescind().then(() => (settled = true));
  await machine.drive(rescinded);
  // Same key, same offer id in the server: it waits for the guest to release the old channel (channels.rs:1809-1855).
  const second = machine.hostBus.offerChannel(OFFERS[0]!, new ServicingEchoDevice());
  assert.equal(second.offerId, first.offerId);
  await machine.quiesce();
  assert.equal(settled, false, 'the guest has not released the channel yet');
  const offered = bus.waitForOffer({ interfaceId: INTERFACE });
  bus.releaseId(offer!.channelId);
  const again = await machine.drive(offered);
  await machine.quiesce();
  assert.equal(settled, true, 'the first rescind is done');
  assert.equal(second.channelId, again.channelId);
  const channel = await machine.drive(bus.openChannel(again.channelId, SMALL_RING));
  assert.equal((await machine.drive(echoExchange(channel, 4))).mismatches, 0);
  assert.equal(machine.hostBus.resources().offers, 1);
  machine.hostBus.close();
  machine.hv.close();
});
