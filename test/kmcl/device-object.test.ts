import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MMIO_WINDOW, KmclDeviceObject, NTSTATUS, VmbChannelEnable, VmbChannelGetParentDeviceObject, VmbChannelGetTargetDeviceObject, VmbClientChannelInitSetTargetPnp } from '../../src/index.js';
import { GuestMemory, PageAllocator } from '../../src/memory/index.js';
import { SeededScheduler } from '../../src/hv/index.js';
import { LoopbackBus } from './support/loopback-bus.js';
import { OTHER_INSTANCE, TEST_INSTANCE, TEST_INTERFACE, allocate, makeHarness } from './support/harness.js';
import { settle } from './support/settle.js';

test('the VMBus device object has a child per present offer, and follows offers and rescinds', () => {
  const scheduler = new SeededScheduler(1);
  const bus = new LoopbackBus(scheduler);
  const early = bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  const memory = new GuestMemory(16);
  const device = KmclDeviceObject.createVmbus({ bus, memory, allocator: new PageAllocator(memory), scheduler, name: 'VMBus0' });
  assert.equal(device.kind, 'vmbus');
  assert.equal(device.parent, null);
  assert.equal(device.vmbusDevice, device);
  assert.deepEqual(device.children().map((child) => child.offer?.channelId), [early.channelId]);

  const late = bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: OTHER_INSTANCE, subchannelIndex: 0 });
  const child = device.childForChannel(late.channelId)!;
  assert.equal(child.kind, 'child');
  assert.equal(child.parent, device);
  assert.equal(child.vmbusDevice, device);
  assert.equal(child.name, `VMBus0\\${TEST_INTERFACE}{${OTHER_INSTANCE}}#0`);
  assert.equal(device.findChild(TEST_INTERFACE, OTHER_INSTANCE), child);
  assert.equal(device.findChild(TEST_INTERFACE)?.offer?.channelId, early.channelId, 'first match without an instance');

  bus.rescind(late.channelId);
  assert.equal(child.removed, true);
  assert.deepEqual(bus.released, [late.channelId], 'no channel held it: the device released the id');
  assert.equal(device.childForChannel(late.channelId), undefined);
  device.detach();
  bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: OTHER_INSTANCE });
  assert.equal(device.children().length, 1, 'a detached device no longer follows offers');
});

test('children of offers asking for MMIO get megabyte ranges of the window, in offer order', () => {
  const h = makeHarness();
  const a = h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE, mmioMegabytes: 8 });
  const none = h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: OTHER_INSTANCE });
  const b = h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: OTHER_INSTANCE, subchannelIndex: 1, mmioMegabytes: 2 });
  const huge = h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: OTHER_INSTANCE, subchannelIndex: 2, mmioMegabytes: 4096 });
  assert.deepEqual(h.device.childForChannel(a.channelId)!.mmio, { address: DEFAULT_MMIO_WINDOW.base, size: 8 << 20 });
  assert.equal(h.device.childForChannel(none.channelId)!.mmio, null);
  assert.deepEqual(h.device.childForChannel(b.channelId)!.mmio, { address: DEFAULT_MMIO_WINDOW.base + (8 << 20), size: 2 << 20 });
  assert.equal(h.device.childForChannel(huge.channelId)!.mmio, null, 'beyond the window: none');
});

test('a channel\'s parent is the device it was allocated on; its target is the child of the offer it bound', async () => {
  const h = makeHarness();
  const offer = h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  const channel = allocate(h);
  assert.equal(VmbChannelGetParentDeviceObject(channel), h.device);
  assert.equal(VmbChannelGetTargetDeviceObject(channel), null, 'not bound yet');
  VmbClientChannelInitSetTargetPnp(channel, TEST_INTERFACE, null, null);
  assert.equal(VmbChannelEnable(channel), NTSTATUS.STATUS_SUCCESS);
  await settle(h.scheduler);
  assert.equal(VmbChannelGetTargetDeviceObject(channel), h.device.childForChannel(offer.channelId));
  assert.equal(VmbChannelGetTargetDeviceObject({} as never), null);
  assert.equal(VmbChannelGetParentDeviceObject('x' as never), null);
});
