/**
 * Servicing end to end, in one seeded thread: the host side is saved, torn
 * down and restored while the guest runs, at random points of a packet
 * exchange or of the guest's control-plane work, and the guest never notices.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GuestBus, GuestOffer, GuestOpenChannel, HostOfferOptions } from '../../../src/bus/index.js';
import { SeededRandom } from '../../../src/hv/seeded-random.js';
import { HV_STATUS } from '../../../src/hv/index.js';
import { channelConnectionId } from '../../../src/wire/messages/index.js';
import { testSeed } from '../../support/seed.js';
import { echoExchange, type ExchangeResult } from './echo-exchange.js';
import { SeededMachine } from './seeded-machine.js';
import { ServicingEchoDevice } from './servicing-device.js';
import { ServicedHost, driveWithServicing } from './servicing-host.js';

const INTERFACE = 'a3f1c2e4-0001-4c5d-9e8f-00000000000a';
const MONITORED_INTERFACE = 'a3f1c2e4-0002-4c5d-9e8f-00000000000b';
const INSTANCE = (n: number): string => `5b0f7d21-9c3e-4a77-8d12-00000000000${n}`;
const PACKETS = 96;

const OFFERS: HostOfferOptions[] = [
  { interfaceId: INTERFACE, instanceId: INSTANCE(1) },
  { interfaceId: MONITORED_INTERFACE, instanceId: INSTANCE(1), monitoredNotification: true, monitorLatency: 500 },
  { interfaceId: INTERFACE, instanceId: INSTANCE(1), subchannelIndex: 1 },
];

/** Ring sizes in pages (control page included): the 1-data-page ring fills up, so both ends wait on pending send sizes. */
const RINGS = [
  { outgoingRingPages: 2, incomingRingPages: 2 },
  { outgoingRingPages: 5, incomingRingPages: 3 },
  { outgoingRingPages: 3, incomingRingPages: 9 },
];

/** Trace kinds that would mean something was lost or refused on either side. */
const FAILURES = /failed|dropped|rejected|refused|not-restored|not-sent/;

/** The guest's offers in the order of `offers`. */
function offersInOrder(bus: GuestBus, offers: readonly HostOfferOptions[] = OFFERS): GuestOffer[] {
  return offers.map((o) => {
    const offer = bus.offers().find((g) => g.interfaceId === o.interfaceId && g.instanceId === o.instanceId && g.subchannelIndex === (o.subchannelIndex ?? 0));
    assert.ok(offer, `offer ${o.interfaceId}/${o.subchannelIndex ?? 0}`);
    return offer;
  });
}

interface Run {
  readonly trace: string[];
  readonly exchanges: ExchangeResult[];
  readonly servicings: number;
}

async function echoUnderServicing(seed: number): Promise<Run> {
  const machine = new SeededMachine(seed);
  const host = new ServicedHost(machine, OFFERS, () => new ServicingEchoDevice());
  const bus = await machine.connectGuest();
  const offers = offersInOrder(bus);
  const rescinded: number[] = [];
  for (const offer of offers) bus.onRescind(offer.channelId, () => rescinded.push(offer.channelId));
  const channels: GuestOpenChannel[] = [];
  for (const [i, offer] of offers.entries()) channels.push(await machine.drive(bus.openChannel(offer.channelId, RINGS[i]!)));

  const random = new SeededRandom(seed);
  const work = Promise.all(channels.map((c) => echoExchange(c, PACKETS)));
  const exchanges = await driveWithServicing(machine, work, random, () => host.service(), { percent: 100, maxSlice: 8 });
  for (const [i, result] of exchanges.entries()) {
    assert.deepEqual([result.completions, result.mismatches], [PACKETS, 0], `channel ${i}: every completion, in order, byte for byte`);
  }
  assert.ok(host.servicings >= 3, `the host was serviced ${host.servicings} times`);
  // Exactly once: the echoes of all device instances add up to the requests sent.
  assert.equal(host.devices.reduce((sum, d) => sum + d.echoed, 0), OFFERS.length * PACKETS);
  assert.ok(exchanges[0]!.waits > 0, 'the small ring filled up');
  assert.deepEqual(rescinded, [], 'no channel was rescinded');
  assert.deepEqual(bus.offers().map((o) => o.channelId), offers.map((o) => o.channelId).sort((a, b) => a - b), 'the same offers, the same ids');
  for (const channel of channels) assert.equal(channel.stats.signalsFailed, 0);
  const failures = machine.traceText().filter((line) => FAILURES.test(JSON.parse(line).kind as string));
  assert.deepEqual(failures, [], 'nothing failed, was dropped or refused on either side');

  // Then the guest closes (tearing down ring GPADLs made before the restores) and unloads: nothing is left.
  for (const channel of channels) await driveWithServicing(machine, channel.close(), random, () => host.service());
  await driveWithServicing(machine, bus.unload(), random, () => host.service());
  await machine.quiesce();
  assert.deepEqual(host.bus.checkInvariants(), []);
  assert.deepEqual(bus.checkInvariants(), []);
  const snapshot = host.bus.snapshot();
  assert.equal(snapshot.connection, 'disconnected');
  assert.deepEqual([snapshot.channelIds, snapshot.monitorIds], [[], []]);
  assert.deepEqual(snapshot.table, { gpadls: 0, mappings: 0, mappedPages: 0 });
  assert.equal(machine.allocator.allocatedPageCount, 0, 'every guest page is free');
  host.bus.close();
  for (const offer of offers) assert.equal(machine.guest.signalEvent(channelConnectionId(offer.channelId)), HV_STATUS.INVALID_CONNECTION_ID);
  for (let id = 0; id < 128; id++) assert.equal(machine.guest.monitor.isAllocated(id), false, `monitor id ${id}`);
  machine.hv.close();
  return { trace: machine.traceText(), exchanges, servicings: host.servicings };
}

test('the host is serviced at random points while packets flow both ways: each echoed once, byte for byte, unnoticed; one seed, one run', async (t) => {
  const seed = testSeed(t.name);
  const first = await echoUnderServicing(seed);
  const second = await echoUnderServicing(seed);
  assert.deepEqual(second.trace, first.trace);
  assert.equal(second.servicings, first.servicings);
});

test('servicing in the middle of opens, GPADLs and closes: a device that had not answered is asked again, and every request completes', async (t) => {
  const seed = testSeed(t.name);
  const machine = new SeededMachine(seed);
  const random = new SeededRandom(seed ^ 0x5e41ce);
  // Each device instance answers opens late, so servicing often lands while one is pending.
  const delayOpen = (answer: () => void): void => {
    machine.scheduler.schedule(answer, 1 + random.nextBelow(3000));
  };
  const makeDevice = (): ServicingEchoDevice => new ServicingEchoDevice({ delayOpen });
  const host = new ServicedHost(machine, OFFERS, makeDevice);
  const bus = await machine.connectGuest();
  const offers = offersInOrder(bus);
  const rescinded: number[] = [];
  for (const offer of offers) bus.onRescind(offer.channelId, () => rescinded.push(offer.channelId));
  const service = (): void => host.service();
  for (let round = 0; round < 3; round++) {
    // Open all three at once (GPADL_HEADER/BODY, OPEN_CHANNEL in flight together), exchange, close all.
    const opens = Promise.all(offers.map((o, i) => bus.openChannel(o.channelId, RINGS[i]!)));
    const channels = await driveWithServicing(machine, opens, random, service, { percent: 40, maxSlice: 4 });
    const results = await driveWithServicing(machine, Promise.all(channels.map((c) => echoExchange(c, 8))), random, service, { percent: 30, maxSlice: 8 });
    assert.deepEqual(results.map((r) => [r.completions, r.mismatches]), offers.map(() => [8, 0]), `round ${round}`);
    await driveWithServicing(machine, Promise.all(channels.map((c) => c.close())), random, service, { percent: 40, maxSlice: 4 });
  }
  assert.ok(host.servicings >= 3, `the host was serviced ${host.servicings} times`);
  assert.deepEqual(rescinded, []);
  const failures = machine.traceText().filter((line) => FAILURES.test(JSON.parse(line).kind as string));
  assert.deepEqual(failures, []);
  await driveWithServicing(machine, bus.unload(), random, service);
  await machine.quiesce();
  assert.deepEqual(host.bus.checkInvariants(), []);
  assert.equal(host.bus.snapshot().connection, 'disconnected');
  assert.equal(machine.allocator.allocatedPageCount, 0);
  host.bus.close();
  machine.hv.close();
});

test('a servicing while the device has not answered an open: the new device is asked, and the guest gets its OPEN_RESULT', async (t) => {
  const machine = new SeededMachine(testSeed(t.name));
  const answers: (() => void)[] = [];
  const host = new ServicedHost(machine, OFFERS.slice(0, 1), () => new ServicingEchoDevice({ delayOpen: (answer) => answers.push(answer) }));
  const bus = await machine.connectGuest();
  const [offer] = offersInOrder(bus, OFFERS.slice(0, 1));
  const opening = bus.openChannel(offer!.channelId, RINGS[0]!);
  await machine.until(() => answers.length === 1, 'the device was asked to open');
  assert.equal(host.bus.snapshot().channelsByState.opening, 1);
  host.service();
  // The old instance's late answer reaches nobody; the new instance was asked again.
  answers[0]!();
  assert.equal(answers.length, 2);
  answers[1]!();
  const channel = await machine.drive(opening);
  assert.deepEqual([host.devices[0]!.opened, host.devices[1]!.opened], [[], [offer!.channelId]]);
  const result = await machine.drive(echoExchange(channel, 16));
  assert.deepEqual([result.completions, result.mismatches], [16, 0]);
  await machine.drive(channel.close());
  await machine.drive(bus.unload());
  host.bus.close();
  machine.hv.close();
});
