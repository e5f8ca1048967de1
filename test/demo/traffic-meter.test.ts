/**
 * The traffic meter between a host bus and its devices: what it counts on the
 * host end of each ring, the channel rows it keeps, and that the device's own
 * handlers still run as they would without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChannelEndpoint, HostChannelHandlers, HostOffer, HostOfferOptions, HostOpenRequest } from '../../src/bus/index.js';
import { TrafficMeter } from '../../src/demo/index.js';
import { MemoryError } from '../../src/memory/index.js';
import { FlatRingMemory, RingReader, RingWriter, initializeRing } from '../../src/ring/index.js';
import { NTSTATUS, type NtStatus } from '../../src/wire/ntstatus.js';
import { PACKET_TYPE } from '../../src/wire/packet-types.js';

const OFFER: HostOfferOptions = { interfaceId: '11111111-2222-3333-4444-555555555555', instanceId: '66666666-7777-8888-9999-aaaaaaaaaaaa' };
const EMPTY = new Uint8Array(0);

/** A bus that keeps the handlers it was offered, so the test can open the channel as the guest would. */
function fakeBus(): { bus: { offerChannel: (offer: HostOfferOptions, handlers: HostChannelHandlers) => HostOffer }; offered: HostChannelHandlers[] } {
  const offered: HostChannelHandlers[] = [];
  const bus = {
    offerChannel: (_offer: HostOfferOptions, handlers: HostChannelHandlers): HostOffer => {
      offered.push(handlers);
      return { offerId: 1, channelId: null, endpoint: null, rescind: () => Promise.resolve() };
    },
  };
  return { bus, offered };
}

/** Both rings of one channel: the host's end (as the bus hands it out) and the guest's. */
function channel(dataPages: { guestToHost: number; hostToGuest: number }) {
  const guestToHost = FlatRingMemory.allocate(dataPages.guestToHost);
  const hostToGuest = FlatRingMemory.allocate(dataPages.hostToGuest);
  initializeRing(guestToHost);
  initializeRing(hostToGuest);
  const endpoint: ChannelEndpoint = {
    channelId: 7,
    reader: new RingReader(guestToHost),
    writer: new RingWriter(hostToGuest),
    signalPeer: () => undefined,
    onSignal: () => () => undefined,
    stats: { signalsSent: 0, signalsReceived: 0, signalsFailed: 0 },
  };
  const request: HostOpenRequest = {
    offerId: 1,
    channelId: 7,
    endpoint,
    targetVp: 0,
    userData: new Uint8Array(120),
    ringGpadlId: 1,
    monitorId: null,
    version: 0x0006_0000,
    features: 0,
  };
  return { request, guestWriter: new RingWriter(guestToHost), guestReader: new RingReader(hostToGuest) };
}

/** A device written as a class: its handlers are prototype methods that use `this`. */
class RecordingDevice implements HostChannelHandlers {
  endpoint: ChannelEndpoint | null = null;
  readonly gpadls: number[] = [];
  closed = 0;

  open(request: HostOpenRequest): NtStatus {
    this.endpoint = request.endpoint;
    return NTSTATUS.STATUS_SUCCESS;
  }

  close(): void {
    this.closed++;
  }

  gpadlCreated(_channelId: number, gpadlId: number): void {
    this.gpadls.push(gpadlId);
  }
}

test('the meter counts the ring bytes, packets and completions that pass the host end, both ways', () => {
  const meter = new TrafficMeter();
  const { bus, offered } = fakeBus();
  const device = new RecordingDevice();
  meter.offer(bus, OFFER, device);
  const { request, guestWriter, guestReader } = channel({ guestToHost: 3, hostToGuest: 3 });
  assert.equal(offered[0]!.open(request), NTSTATUS.STATUS_SUCCESS);
  const { reader, writer } = device.endpoint!;

  // Host → guest: an in-band packet with 5 payload bytes takes the 16-byte descriptor, the payload padded
  // to 8 and the 8-byte trailer: 32 ring bytes (linux-vmbus.md §A.1.2).
  assert.ok(writer.tryWriteInBand(Uint8Array.of(1, 2, 3, 4, 5), 9));
  writer.commit();
  assert.deepEqual(meter.traffic, { packets: 1, bytes: 32, completions: 0 });
  assert.ok(guestReader.tryRead(), 'the guest reads what the metered writer wrote');
  assert.deepEqual([...guestReader.packet.payload.subarray(0, 5)], [1, 2, 3, 4, 5]);

  // Guest → host: a completion (type 0xB, linux-vmbus.md §A.2) with 16 payload bytes: 16 + 16 + 8 = 40.
  assert.ok(guestWriter.tryWrite(PACKET_TYPE.VM_PKT_COMP, 0, 9, 0, EMPTY, new Uint8Array(16)));
  guestWriter.commit();
  assert.ok(reader.tryRead());
  assert.equal(reader.packet.packetType, PACKET_TYPE.VM_PKT_COMP);
  assert.equal(reader.tryRead(), false, 'an empty ring counts nothing');
  assert.deepEqual(meter.traffic, { packets: 2, bytes: 72, completions: 1 });
});

test('a packet the ring has no room for is not counted', () => {
  const meter = new TrafficMeter();
  const { bus, offered } = fakeBus();
  const device = new RecordingDevice();
  meter.offer(bus, OFFER, device);
  const { request } = channel({ guestToHost: 1, hostToGuest: 1 });
  offered[0]!.open(request);
  const writer = device.endpoint!.writer;
  // One 4 KiB data page; a writer never fills the ring completely (linux-vmbus.md §A.1.1).
  const payload = new Uint8Array(1000);
  let written = 0;
  while (writer.tryWriteInBand(payload)) written++;
  assert.equal(written, 3);
  assert.deepEqual(meter.traffic, { packets: 3, bytes: 3 * (16 + 1000 + 8), completions: 0 });
});

test('the meter keeps a row per opened channel: its offer, id and ring sizes with their control pages', () => {
  const meter = new TrafficMeter();
  const { bus, offered } = fakeBus();
  meter.offer(bus, OFFER, new RecordingDevice());
  offered[0]!.open(channel({ guestToHost: 3, hostToGuest: 15 }).request);
  assert.deepEqual(meter.channels, [
    { interfaceId: OFFER.interfaceId, instanceId: OFFER.instanceId, channelId: 7, guestToHostRingBytes: 16384, hostToGuestRingBytes: 65536 },
  ]);
});

test('the device still gets its own calls, on itself, and only the handlers it has', () => {
  const meter = new TrafficMeter();
  const { bus, offered } = fakeBus();
  const device = new RecordingDevice();
  meter.offer(bus, OFFER, device);
  const handlers = offered[0]!;
  handlers.gpadlCreated?.(7, 42);
  void handlers.close(7);
  assert.deepEqual(device.gpadls, [42]);
  assert.equal(device.closed, 1);
  assert.equal(handlers.gpadlTeardown, undefined);
  assert.equal(handlers.save, undefined);
  assert.equal(handlers.restore, undefined);
});

test('the port hands the KMCL host device object a bus whose offers are metered and whose GPADL calls go through', () => {
  const meter = new TrafficMeter();
  const { bus, offered } = fakeBus();
  const refused = new MemoryError('out-of-range', 'no such GPADL');
  const asked: [number, number, boolean][] = [];
  const port = meter.port({
    ...bus,
    mapGpadl: (channelId, gpadlId, options) => {
      asked.push([channelId, gpadlId, options.writable]);
      return refused;
    },
    unmapGpadl: () => undefined,
  });
  const device = new RecordingDevice();
  port.offerChannel(OFFER, device);
  offered[0]!.open(channel({ guestToHost: 3, hostToGuest: 3 }).request);
  assert.equal(meter.channels.length, 1);
  assert.notEqual(device.endpoint, null);
  assert.equal(port.mapGpadl(7, 5, { writable: true }), refused);
  assert.deepEqual(asked, [[7, 5, true]]);
});
