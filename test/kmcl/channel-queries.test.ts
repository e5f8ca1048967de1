import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BounceBuffer,
  DEFAULT_MMIO_WINDOW,
  KmclDeviceObject,
  NTSTATUS,
  VmbChannelAllocateBounceBuffer,
  VmbChannelDisable,
  VmbChannelEnable,
  VmbChannelGetInterfaceInstance,
  VmbChannelGetMmioSpace,
  VmbChannelGetPointer,
  VmbChannelInitSetBounceBufferSizes,
  VmbChannelInitSetPrimaryChannel,
  VmbChannelSetInterruptLatency,
  VmbChannelSetPointer,
  VmbClientChannelInitSetTargetPnp,
  VmbClientChannelInitSetTargetProcessorIndex,
  VmbPacketAllocate,
  VmbPacketSendWithExternalMdl,
  VmbPacketSetCompletionRoutine,
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION,
  type MonitorLatencyPort,
  type Out,
} from '../../src/index.js';
import { SeededScheduler } from '../../src/hv/index.js';
import { GuestMemory, PageAllocator } from '../../src/memory/index.js';
import { LoopbackBus } from './support/loopback-bus.js';
import { OTHER_INSTANCE, RecordingDriver, TEST_INSTANCE, TEST_INTERFACE, allocate, core, hostRead, makeHarness, openChannel } from './support/harness.js';
import { drive, settle } from './support/settle.js';

const S = NTSTATUS;

test('VmbChannelSetPointer / GetPointer keep any value; bad handles', () => {
  const h = makeHarness();
  const channel = allocate(h);
  const context = { driver: 'state' };
  assert.equal(VmbChannelSetPointer(channel, context), S.STATUS_SUCCESS);
  assert.equal(VmbChannelGetPointer(channel), context);
  assert.equal(VmbChannelSetPointer({} as never, 1), S.STATUS_INVALID_PARAMETER_1);
  assert.equal(VmbChannelGetPointer(null as never), null);
});

test('VmbChannelGetInterfaceInstance: the bound offer\'s instance; refused before the channel is bound', async () => {
  const h = makeHarness();
  const unbound = allocate(h);
  const box: Out<string> = { value: 'untouched' };
  assert.equal(VmbChannelGetInterfaceInstance(unbound, box), S.STATUS_INVALID_PARAMETER_1);
  assert.equal(box.value, 'untouched');
  const { channel } = await openChannel(h);
  assert.equal(VmbChannelGetInterfaceInstance(channel, box), S.STATUS_SUCCESS);
  assert.equal(box.value, TEST_INSTANCE);
  assert.equal(VmbChannelGetInterfaceInstance(channel, null as never), S.STATUS_INVALID_PARAMETER_2);
});

test('VmbChannelGetMmioSpace: the space reserved for the offer, valid from Opened until closed', async () => {
  const h = makeHarness();
  const offer = h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: OTHER_INSTANCE, mmioMegabytes: 4 });
  const channel = allocate(h, h.device.childForChannel(offer.channelId)!);
  const address: Out<number> = { value: -1 };
  const size: Out<number> = { value: -1 };
  assert.equal(VmbChannelGetMmioSpace(channel, address, size), S.STATUS_INVALID_PARAMETER_1, 'before Opened');
  VmbChannelEnable(channel);
  await settle(h.scheduler);
  assert.equal(VmbChannelGetMmioSpace(channel, address, size), S.STATUS_SUCCESS);
  assert.deepEqual([address.value, size.value], [DEFAULT_MMIO_WINDOW.base, 4 << 20]);
  assert.equal(VmbChannelGetMmioSpace(channel, null as never, size), S.STATUS_INVALID_PARAMETER_2);
  assert.equal(VmbChannelGetMmioSpace(channel, address, 'x' as never), S.STATUS_INVALID_PARAMETER_3);
  const { channel: none } = await openChannel(h);
  assert.equal(VmbChannelGetMmioSpace(none, address, size), S.STATUS_SUCCESS);
  assert.deepEqual([address.value, size.value], [0, 0], 'an offer that asked for none');
  await drive(h.scheduler, VmbChannelDisable(channel));
  assert.equal(VmbChannelGetMmioSpace(channel, address, size), S.STATUS_INVALID_PARAMETER_1, 'after Closed');
});

/** A guest partition's monitored notifications, as far as latencies go (hv MonitoredNotifications' shape). */
class FakeMonitor implements MonitorLatencyPort {
  readonly latencies = new Map<number, number>([[5, 1000]]);
  readonly page = { latency: (id: number): number => this.latencies.get(id) ?? 0 };
  setLatency(id: number, latency: number): boolean {
    if (!this.latencies.has(id)) return false;
    this.latencies.set(id, latency);
    return true;
  }
}

test('VmbChannelSetInterruptLatency programs the monitored channel\'s latency and returns the previous one', async () => {
  const scheduler = new SeededScheduler(3);
  const bus = new LoopbackBus(scheduler);
  const memory = new GuestMemory(64);
  const monitor = new FakeMonitor();
  const device = KmclDeviceObject.createVmbus({ bus, memory, allocator: new PageAllocator(memory), scheduler, monitor });
  const monitored = bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE, monitorId: 5 });
  const plain = bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: OTHER_INSTANCE });
  const channel = allocate({ scheduler, memory, allocator: new PageAllocator(memory), bus, device }, device.childForChannel(monitored.channelId)!);
  const other = allocate({ scheduler, memory, allocator: new PageAllocator(memory), bus, device }, device.childForChannel(plain.channelId)!);
  const original: Out<number> = { value: -1 };
  assert.equal(VmbChannelSetInterruptLatency(channel, 100, original), S.STATUS_INVALID_PARAMETER_1, 'not open');
  VmbChannelEnable(channel);
  VmbChannelEnable(other);
  await settle(scheduler);
  assert.equal(VmbChannelSetInterruptLatency(channel, 100, original), S.STATUS_SUCCESS);
  assert.equal(original.value, 1000);
  assert.equal(monitor.latencies.get(5), 100);
  assert.equal(VmbChannelSetInterruptLatency(channel, 200, original), S.STATUS_SUCCESS);
  assert.equal(original.value, 100);
  assert.equal(VmbChannelSetInterruptLatency(channel, 0x10000, original), S.STATUS_INVALID_PARAMETER_2, 'a UINT16');
  assert.equal(VmbChannelSetInterruptLatency(channel, 1, null as never), S.STATUS_INVALID_PARAMETER_3);
  assert.equal(VmbChannelSetInterruptLatency(other, 1, original), S.STATUS_NOT_SUPPORTED, 'no monitor id');
});

test('V5 target processor index goes into the open as the target VP', async () => {
  const h = makeHarness();
  await openChannel(h, (channel) => VmbClientChannelInitSetTargetProcessorIndex(channel, 3));
  assert.equal(h.bus.opens[0]!.options.targetVp, 3);
});

test('a subchannel (V5 primary channel) opens the next unclaimed subchannel offer of its primary\'s device', async () => {
  const h = makeHarness();
  const primary = allocate(h);
  VmbClientChannelInitSetTargetPnp(primary, TEST_INTERFACE, TEST_INSTANCE, null);
  const subs = [allocate(h), allocate(h)];
  for (const sub of subs) {
    assert.equal(VmbChannelInitSetPrimaryChannel(sub, primary), S.STATUS_SUCCESS);
    new RecordingDriver().install(sub);
    VmbChannelEnable(sub);
  }
  new RecordingDriver().install(primary);
  h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: OTHER_INSTANCE, subchannelIndex: 1 }); // another device
  const main = h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  VmbChannelEnable(primary);
  await settle(h.scheduler);
  assert.equal(core(subs[0]!).offer, null, 'no subchannel offer yet');
  const sub1 = h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE, subchannelIndex: 1 });
  const sub2 = h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE, subchannelIndex: 2 });
  await settle(h.scheduler);
  assert.equal(core(primary).offer?.channelId, main.channelId);
  assert.deepEqual(subs.map((sub) => core(sub).offer?.channelId).sort(), [sub1.channelId, sub2.channelId]);
});

test('a subchannel waiting before its primary is bound takes a subchannel offer that was already there', async () => {
  const h = makeHarness();
  h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE, subchannelIndex: 1 });
  const primary = allocate(h);
  VmbClientChannelInitSetTargetPnp(primary, TEST_INTERFACE, TEST_INSTANCE, null);
  const sub = allocate(h);
  VmbChannelInitSetPrimaryChannel(sub, primary);
  VmbChannelEnable(sub);
  await settle(h.scheduler);
  assert.equal(core(sub).offer, null);
  h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  VmbChannelEnable(primary);
  await settle(h.scheduler);
  assert.equal(core(sub).offer?.subchannelIndex, 1);
});

test('bounce buffers: a pool reserved at open, buffers taken and released, all returned at close', async () => {
  const h = makeHarness();
  const freeBefore = h.allocator.freePageCount;
  const { channel, host } = await openChannel(h, (ch) => VmbChannelInitSetBounceBufferSizes(ch, 4, 2));
  assert.equal(h.allocator.freePageCount, freeBefore - 4);
  const box: Out<BounceBuffer | null> = { value: null };
  assert.equal(VmbChannelAllocateBounceBuffer(channel, 5000, box), S.STATUS_SUCCESS);
  const buffer = box.value!;
  assert.equal(buffer.copyFrom(0, new Uint8Array([1, 2, 3])), S.STATUS_SUCCESS);
  const back = new Uint8Array(3);
  buffer.copyTo(0, back);
  assert.deepEqual([...back], [1, 2, 3]);
  assert.equal(buffer.copyFrom(4999, new Uint8Array(2)), S.STATUS_INVALID_PARAMETER, 'bounded');
  const packet = VmbPacketAllocate(channel)!;
  VmbPacketSetCompletionRoutine(packet, () => undefined);
  assert.equal(VmbPacketSendWithExternalMdl(packet, null, 0, buffer.mdl, 0, 0, VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION), S.STATUS_SUCCESS);
  assert.equal(hostRead(host)[0]!.type, 9, 'GPA direct (VM_PKT_DATA_USING_GPA_DIRECT, linux-vmbus.md §A.2)');
  const second: Out<BounceBuffer | null> = { value: null };
  assert.equal(VmbChannelAllocateBounceBuffer(channel, 4096 * 2, second), S.STATUS_SUCCESS);
  assert.equal(VmbChannelAllocateBounceBuffer(channel, 1, { value: null }), S.STATUS_INSUFFICIENT_RESOURCES, 'pool used up');
  assert.equal(buffer.release(), S.STATUS_SUCCESS);
  assert.equal(buffer.release(), S.STATUS_INVALID_DEVICE_STATE);
  assert.equal(VmbChannelAllocateBounceBuffer(channel, 1, { value: null }), S.STATUS_SUCCESS, 'pages back in the pool');
  assert.equal(VmbChannelAllocateBounceBuffer(channel, 3 * 4096, box), S.STATUS_INVALID_PARAMETER_2, 'above the per-buffer maximum');
  assert.equal(VmbChannelAllocateBounceBuffer(channel, 0, box), S.STATUS_INVALID_PARAMETER_2);
  assert.equal(VmbChannelAllocateBounceBuffer(channel, 1, null as never), S.STATUS_INVALID_PARAMETER_3);
  await drive(h.scheduler, VmbChannelDisable(channel));
  assert.equal(h.allocator.freePageCount, freeBefore);
  assert.equal(second.value!.isValid, false);
  assert.equal(VmbChannelAllocateBounceBuffer(channel, 1, box), S.STATUS_INVALID_PARAMETER_1, 'no pool when closed');
});
