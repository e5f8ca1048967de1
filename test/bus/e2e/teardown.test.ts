/**
 * Taking things away end to end: rescind while the device is still opening,
 * rescind with GPADLs outstanding, a GPADL teardown that waits for the host's
 * unmap, and an unload with channels still open. Each ends with nothing
 * leaked anywhere (leaks.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BusError, type HostBus, type HostChannelHandlers } from '../../../src/bus/index.js';
import { MemoryError, PAGE_SIZE, type GpadlMapping } from '../../../src/memory/index.js';
import { NTSTATUS } from '../../../src/wire/ntstatus.js';
import { testSeed } from '../../support/seed.js';
import { EchoDevice } from './echo-device.js';
import { echoExchange } from './echo-exchange.js';
import { assertNothingLeaked } from './leaks.js';
import { SeededMachine } from './seeded-machine.js';

const INTERFACE = 'd7e8f9a0-1111-4222-8333-000000000001';
const instance = (n: number): string => `d7e8f9a0-1111-4222-8333-1000000000${n.toString().padStart(2, '0')}`;

/** A device that maps every GPADL the guest creates on its channel and lets go when told (or when asked to). */
class MappingDevice implements HostChannelHandlers {
  readonly mappings = new Map<number, GpadlMapping>();
  readonly teardownsAsked: number[] = [];
  readonly closed: number[] = [];
  hostBus: HostBus | null = null;

  constructor(private readonly unmapOnTeardown: boolean) {}

  open(): number {
    return NTSTATUS.STATUS_SUCCESS;
  }

  close(channelId: number): void {
    this.closed.push(channelId);
    // A closed device lets go of everything it mapped.
    for (const gpadlId of [...this.mappings.keys()]) this.unmap(gpadlId);
  }

  gpadlCreated(channelId: number, gpadlId: number): void {
    const mapping = this.hostBus!.mapGpadl(channelId, gpadlId, { writable: true });
    assert.ok(!(mapping instanceof MemoryError), 'the device maps the new GPADL');
    this.mappings.set(gpadlId, mapping);
  }

  gpadlTeardown(_channelId: number, gpadlId: number): void {
    this.teardownsAsked.push(gpadlId);
    if (this.unmapOnTeardown) this.unmap(gpadlId);
  }

  unmap(gpadlId: number): void {
    const mapping = this.mappings.get(gpadlId);
    if (mapping === undefined) return;
    this.mappings.delete(gpadlId);
    this.hostBus!.unmapGpadl(mapping);
  }
}

/** Matches a BusError with this NTSTATUS. */
function isStatus(status: number): (error: unknown) => boolean {
  return (error) => error instanceof BusError && error.status === status;
}

/** `count` fresh guest pages as one GPADL range. */
function pagesRange(machine: SeededMachine, count: number) {
  const pfns = machine.allocator.allocate(count, 'scattered');
  assert.ok(!(pfns instanceof MemoryError));
  return { pfns, ranges: [{ byteOffset: 0, byteCount: count * PAGE_SIZE, pfns }] };
}

test('rescind while the device is still opening: the open fails with STATUS_DEVICE_REMOVED and everything is given back', async (t) => {
  const machine = new SeededMachine(testSeed(t.name));
  let releaseGate!: () => void;
  const device = new EchoDevice({ openGate: new Promise((resolve) => (releaseGate = resolve)) });
  const offer = machine.hostBus.offerChannel({ interfaceId: INTERFACE, instanceId: instance(1) }, device);
  const bus = await machine.connectGuest();
  const channelId = offer.channelId!;
  let rescindSeen = false;
  bus.onRescind(channelId, () => (rescindSeen = true));

  const opening = bus.openChannel(channelId, { outgoingRingPages: 4, incomingRingPages: 4 });
  opening.catch(() => undefined);
  await machine.until(() => device.opened.length === 1, 'the device is asked to open');
  const rescinded = offer.rescind();
  await machine.until(() => rescindSeen, 'the guest sees the rescind');
  assert.equal(bus.offers().length, 0);

  // The device answers only now; the server has no open to answer any more, so the bus closes the device.
  releaseGate();
  await assert.rejects(machine.drive(opening), isStatus(NTSTATUS.STATUS_DEVICE_REMOVED));
  assert.deepEqual(device.closed, [channelId]);
  assert.equal(machine.allocator.allocatedPageCount, 2, 'the ring pages are back; only the monitor pages are left');

  bus.releaseId(channelId);
  await machine.drive(rescinded);
  assert.equal(offer.channelId, null);
  assert.equal(machine.hostBus.resources().offers, 0, 'the rescinded offer is gone');
  await machine.drive(bus.unload());
  await assertNothingLeaked(machine, bus, [channelId]);
});

test('rescind with GPADLs outstanding: the device closes and unmaps, the guest tears one down and releases the other with the id', async (t) => {
  const machine = new SeededMachine(testSeed(t.name));
  const device = new MappingDevice(true);
  device.hostBus = machine.hostBus;
  const offer = machine.hostBus.offerChannel({ interfaceId: INTERFACE, instanceId: instance(2) }, device);
  const bus = await machine.connectGuest();
  const channelId = offer.channelId!;
  const kept = pagesRange(machine, 3);
  const tornDown = pagesRange(machine, 30);
  const keptId = await machine.drive(bus.createGpadl(channelId, kept.ranges));
  // 30 pages: GPADL_HEADER plus one GPADL_BODY (26 + 4 page numbers, openvmm-vmbus.md §6.5).
  const tornDownId = await machine.drive(bus.createGpadl(channelId, tornDown.ranges));
  const channel = await machine.drive(bus.openChannel(channelId, { outgoingRingPages: 2, incomingRingPages: 6 }));
  assert.equal(machine.hostBus.snapshot().table.gpadls, 3, 'two data GPADLs and the ring');
  assert.equal(device.mappings.size, 3, 'the device mapped all three (the ring too: it is created on the channel)');

  const rescinded = offer.rescind();
  await machine.until(() => channel.rescinded, 'the guest sees the rescind');
  assert.deepEqual(device.closed, [channelId]);
  assert.equal(device.mappings.size, 0, 'the closed device let go of its mappings');

  await machine.drive(channel.close());
  await machine.drive(bus.teardownGpadl(channelId, tornDownId));
  machine.allocator.free(tornDown.pfns);
  assert.equal(machine.hostBus.snapshot().table.gpadls, 1, 'only the kept GPADL is left');
  // REL_ID_RELEASED also releases GPADLs still on the channel (channels.rs:3237-3280).
  bus.releaseId(channelId);
  await machine.drive(rescinded);
  assert.equal(machine.hostBus.snapshot().table.gpadls, 0);
  assert.equal(bus.clientCounts().gpadls, 0, `GPADL ${keptId} went with the channel id`);
  machine.allocator.free(kept.pfns);
  await machine.drive(bus.unload());
  await assertNothingLeaked(machine, bus, [channelId]);
});

test('a GPADL teardown waits while the host maps the GPADL and completes at the last unmap', async (t) => {
  const machine = new SeededMachine(testSeed(t.name));
  const device = new MappingDevice(false);
  device.hostBus = machine.hostBus;
  const offer = machine.hostBus.offerChannel({ interfaceId: INTERFACE, instanceId: instance(3) }, device);
  const bus = await machine.connectGuest();
  const channelId = offer.channelId!;
  const buffer = pagesRange(machine, 5);
  const gpadlId = await machine.drive(bus.createGpadl(channelId, buffer.ranges));
  assert.ok(device.mappings.has(gpadlId));

  let done = false;
  const teardown = bus.teardownGpadl(channelId, gpadlId).then(() => (done = true));
  await machine.until(() => device.teardownsAsked.includes(gpadlId), 'the device is asked to unmap');
  await machine.quiesce();
  assert.equal(done, false, 'no GPADL_TORNDOWN while the host maps the GPADL');
  assert.equal(machine.hostBus.snapshot().gpadlsByState['tearing-down'], 1);
  const torndownSent = (): number =>
    machine.trace.events.filter((e) => e.source === 'host-bus' && e.detail?.['message'] === 'GPADL_TORNDOWN').length;
  assert.equal(torndownSent(), 0);

  device.unmap(gpadlId);
  await machine.drive(teardown);
  assert.equal(torndownSent(), 1);
  assert.equal(machine.hostBus.snapshot().table.gpadls, 0);
  machine.allocator.free(buffer.pfns);
  await machine.drive(bus.unload());
  await assertNothingLeaked(machine, bus, [channelId]);
});

test('unload with channels still open: the host closes every device, and every ring page comes back', async (t) => {
  const machine = new SeededMachine(testSeed(t.name));
  const device = new EchoDevice();
  const offers = [1, 2, 3].map((n) =>
    machine.hostBus.offerChannel({ interfaceId: INTERFACE, instanceId: instance(10 + n), monitoredNotification: n === 2 }, device),
  );
  const bus = await machine.connectGuest();
  const channels = [];
  for (const [i, offer] of offers.entries()) {
    channels.push(await machine.drive(bus.openChannel(offer.channelId!, { outgoingRingPages: 2 + i, incomingRingPages: 3 + 2 * i })));
  }
  const results = await machine.drive(Promise.all(channels.map((channel) => echoExchange(channel, 20))));
  assert.ok(results.every((r) => r.mismatches === 0));

  const unloading = bus.unload();
  assert.equal(bus.unload(), unloading, 'a second unload waits for the same UNLOAD_COMPLETE');
  await machine.drive(unloading);
  assert.deepEqual([...device.closed].sort(), channels.map((c) => c.channelId).sort(), 'every device was closed');
  assert.ok(channels.every((c) => !c.isOpen), 'every guest endpoint is closed');
  // Closing after the unload is harmless: the rings are already gone.
  await machine.drive(Promise.all(channels.map((c) => c.close())));
  await assertNothingLeaked(machine, bus, channels.map((c) => c.channelId));
});

test('a device that refuses an open, or throws, fails the guest open with a status and keeps nothing', async (t) => {
  const machine = new SeededMachine(testSeed(t.name));
  const refusing = new EchoDevice({ openStatus: NTSTATUS.STATUS_INSUFFICIENT_RESOURCES });
  const throwing: HostChannelHandlers = {
    open: () => {
      throw new Error('device bug');
    },
    close: () => undefined,
  };
  const first = machine.hostBus.offerChannel({ interfaceId: INTERFACE, instanceId: instance(20) }, refusing);
  const second = machine.hostBus.offerChannel({ interfaceId: INTERFACE, instanceId: instance(21) }, throwing);
  const bus = await machine.connectGuest();
  // The device's status goes to the guest in OPEN_RESULT (openvmm-vmbus.md §6.7).
  const rings = { outgoingRingPages: 2, incomingRingPages: 2 };
  await assert.rejects(machine.drive(bus.openChannel(first.channelId!, rings)), isStatus(NTSTATUS.STATUS_INSUFFICIENT_RESOURCES));
  await assert.rejects(machine.drive(bus.openChannel(second.channelId!, rings)), isStatus(NTSTATUS.STATUS_UNSUCCESSFUL));
  assert.ok(machine.trace.events.some((e) => e.kind === 'device-handler-failed' && e.reason === 'Error: device bug'));
  assert.equal(machine.allocator.allocatedPageCount, 2, 'only the monitor pages are held');
  assert.equal(machine.hostBus.resources().channels, 0);
  // A refused channel can be opened again.
  const bigger = { outgoingRingPages: 3, incomingRingPages: 3 };
  await assert.rejects(machine.drive(bus.openChannel(first.channelId!, bigger)), isStatus(NTSTATUS.STATUS_INSUFFICIENT_RESOURCES));
  const channelIds = [first.channelId!, second.channelId!];
  await machine.drive(bus.unload());
  await assertNothingLeaked(machine, bus, channelIds);
});
