/**
 * End to end in one thread: a host and a guest partition negotiate, the host
 * offers channels, the guest opens them with ring GPADLs of several sizes and
 * placements, packets flow both ways with signalling (hypercalls and the
 * monitor page), then the guest closes, tears down and unloads, and nothing
 * is left anywhere. Run twice with one seed, the two traces are identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GuestOpenChannel } from '../../../src/bus/index.js';
import { HV_STATUS } from '../../../src/hv/index.js';
import { hostEventConnectionId } from '../../../src/bus/hv-ids.js';
import { VMBUS_SINT, VMBUS_VERSION, channelConnectionId } from '../../../src/wire/messages/index.js';
import { testSeed } from '../../support/seed.js';
import { EchoDevice } from './echo-device.js';
import { echoExchange, type ExchangeResult } from './echo-exchange.js';
import { assertNothingLeaked } from './leaks.js';
import { SeededMachine } from './seeded-machine.js';

const INTERFACE = 'a3f1c2e4-0001-4c5d-9e8f-00000000000a';
const MONITORED_INTERFACE = 'a3f1c2e4-0002-4c5d-9e8f-00000000000b';
const INSTANCE = '5b0f7d21-9c3e-4a77-8d12-000000000001';
const PACKETS = 64;

/** Ring sizes in pages (control page included) and page placements, one channel each. */
const RINGS = [
  { outgoingRingPages: 2, incomingRingPages: 2, placement: 'any' },
  { outgoingRingPages: 5, incomingRingPages: 3, placement: 'scattered' },
  { outgoingRingPages: 17, incomingRingPages: 9, placement: 'contiguous' },
] as const;

interface RunResult {
  readonly trace: string[];
  readonly exchanges: ExchangeResult[];
}

async function lifecycle(seed: number): Promise<RunResult> {
  const machine = new SeededMachine(seed);
  const { hostBus, guest, host } = machine;
  const device = new EchoDevice({ trace: machine.trace, now: () => machine.scheduler.now() });
  const plain = hostBus.offerChannel({ interfaceId: INTERFACE, instanceId: INSTANCE }, device);
  const monitored = hostBus.offerChannel(
    { interfaceId: MONITORED_INTERFACE, instanceId: INSTANCE, monitoredNotification: true, monitorLatency: 500 },
    device,
  );
  const subchannel = hostBus.offerChannel({ interfaceId: INTERFACE, instanceId: INSTANCE, subchannelIndex: 1 }, device);
  assert.equal(plain.channelId, null, 'no channel id before the guest asks for offers');

  const bus = await machine.connectGuest();
  assert.equal(bus.version, VMBUS_VERSION.Copper);
  const offers = bus.offers();
  assert.equal(offers.length, 3);
  for (const offer of offers) {
    // Guest→host connection id 0x2000 + channel id at VTL0 (openvmm-vmbus.md §6.1, protocol.rs:271-276).
    assert.equal(offer.connectionId, 0x2000 + offer.channelId);
    assert.equal(offer.connectionId, channelConnectionId(offer.channelId));
  }
  const byOffer = [plain, monitored, subchannel].map((handle) => {
    const offer = offers.find((o) => o.channelId === handle.channelId);
    assert.ok(offer, `offer ${handle.offerId} reached the guest`);
    return offer;
  });
  assert.equal(byOffer[0]!.monitorId, null);
  assert.notEqual(byOffer[1]!.monitorId, null, 'the monitored offer has a monitor id');
  assert.equal(byOffer[2]!.subchannelIndex, 1);

  const channels: GuestOpenChannel[] = [];
  for (const [i, offer] of byOffer.entries()) {
    const { outgoingRingPages, incomingRingPages, placement } = RINGS[i]!;
    channels.push(await machine.drive(bus.openChannel(offer.channelId, { outgoingRingPages, incomingRingPages, placement })));
  }
  assert.equal(device.opened.length, 3);
  assert.ok(guest.monitor.isAllocated(byOffer[1]!.monitorId!), 'the host programmed the monitored channel');

  const exchanges = await machine.drive(Promise.all(channels.map((channel) => echoExchange(channel, PACKETS))));
  for (const [i, result] of exchanges.entries()) {
    assert.deepEqual({ ...result, waits: 0 }, { completions: PACKETS, mismatches: 0, waits: 0 }, `channel ${i}`);
  }
  assert.ok(exchanges[0]!.waits > 0, 'the 1-data-page ring filled up, so the pending send size was used');
  assert.equal(device.echoed, 3 * PACKETS);
  for (const channel of channels) {
    const hostEnd = device.endpoints.get(channel.channelId)!;
    assert.ok(channel.stats.signalsSent > 0 && channel.stats.signalsReceived > 0, 'the guest signalled and was signalled');
    assert.ok(hostEnd.stats.signalsSent > 0 && hostEnd.stats.signalsReceived > 0, 'the host signalled and was signalled');
    assert.equal(channel.stats.signalsFailed + hostEnd.stats.signalsFailed, 0);
  }

  for (const channel of channels) await machine.drive(channel.close());
  assert.deepEqual([...device.closed].sort(), channels.map((c) => c.channelId).sort());
  assert.equal(guest.monitor.isAllocated(byOffer[1]!.monitorId!), false, 'the monitor id went back at close');
  assert.equal(machine.allocator.allocatedPageCount, 2, 'only the two monitor pages are left');

  await machine.drive(bus.unload());
  await machine.quiesce();
  assert.deepEqual(bus.resources(), { openChannels: 0, pages: 0, routedFlags: 0, pendingRequests: 0, backlog: 0 });
  assert.equal(machine.allocator.allocatedPageCount, 0, 'every guest page is free');
  assert.deepEqual(bus.checkInvariants(), []);
  assert.deepEqual(hostBus.checkInvariants(), []);
  const snapshot = hostBus.snapshot();
  assert.deepEqual(snapshot.table, { gpadls: 0, mappings: 0, mappedPages: 0 });
  assert.deepEqual(snapshot.channelIds, []);
  assert.equal(snapshot.connection, 'disconnected');
  const { messagePorts, ...held } = hostBus.resources();
  assert.deepEqual(held, { offers: 3, channels: 0, routedFlags: 0, guestPorts: held.guestPorts, backlog: 0 });
  assert.equal(messagePorts, 2, 'connection ids 1 and 4 share nothing else');

  hostBus.close();
  assert.deepEqual(hostBus.resources(), { offers: 3, channels: 0, routedFlags: 0, guestPorts: 0, messagePorts: 0, backlog: 0 });
  // Every connection the host bus made is gone from the hypervisor.
  assert.equal(guest.postMessage(1, 1, new Uint8Array(8)), HV_STATUS.INVALID_CONNECTION_ID);
  assert.equal(guest.postMessage(4, 1, new Uint8Array(8)), HV_STATUS.INVALID_CONNECTION_ID);
  assert.equal(guest.signalEvent(channelConnectionId(byOffer[0]!.channelId)), HV_STATUS.INVALID_CONNECTION_ID);
  assert.equal(host.signalEvent(hostEventConnectionId(VMBUS_SINT, 0), 1), HV_STATUS.INVALID_CONNECTION_ID);
  machine.hv.close();
  return { trace: machine.traceText(), exchanges };
}

test('channels with rings of several sizes carry packets both ways, then close and unload leaving nothing; one seed, one trace', async (t) => {
  const seed = testSeed(t.name);
  const first = await lifecycle(seed);
  const second = await lifecycle(seed);
  assert.equal(first.trace.filter((line) => line.includes('"device-echo"')).length, 3 * PACKETS);
  assert.deepEqual(second.trace, first.trace);
  assert.deepEqual(second.exchanges, first.exchanges);
});

test('after an unload a guest connects again and is offered the same channels under the same ids', async (t) => {
  const machine = new SeededMachine(testSeed(t.name));
  const device = new EchoDevice();
  for (const n of [1, 2]) machine.hostBus.offerChannel({ interfaceId: INTERFACE, instanceId: `${INSTANCE.slice(0, -1)}${n}` }, device);
  const first = await machine.connectGuest();
  const ids = first.offers().map((offer) => [offer.instanceId, offer.channelId]);
  const channel = await machine.drive(first.openChannel(first.offers()[0]!.channelId, { outgoingRingPages: 2, incomingRingPages: 2 }));
  assert.equal((await machine.drive(echoExchange(channel, 8))).mismatches, 0);
  await machine.drive(first.unload());

  const second = await machine.connectGuest();
  // REQUEST_OFFERS orders offers by (interface, order, instance), so ids are stable across connections (issue #2018).
  assert.deepEqual(second.offers().map((offer) => [offer.instanceId, offer.channelId]), ids);
  const again = await machine.drive(second.openChannel(second.offers()[1]!.channelId, { outgoingRingPages: 3, incomingRingPages: 2 }));
  assert.equal((await machine.drive(echoExchange(again, 8))).mismatches, 0);
  await machine.drive(again.close());
  await machine.drive(second.unload());
  await assertNothingLeaked(machine, second, ids.map(([, id]) => id as number));
});
