/**
 * Channel lifecycle on the idiomatic API: open/close/reopen/dispose, the
 * events in the order of the state callbacks, pause and resume, and every
 * way an open fails, each as a KmclError carrying the core's NTSTATUS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KmclError, NTSTATUS, VmbChannelGetPointer, Vmbus, channelFrom } from '../../../src/index.js';
import { OTHER_INSTANCE, TEST_INSTANCE, TEST_INTERFACE, hostSend } from '../support/harness.js';
import { drive, settle } from '../support/settle.js';
import { makeSetting, openTestChannel, outcome, recordEvents, statusOf } from './loopback-setting.js';

const S = NTSTATUS;

test('open() resolves once the channel runs: opened then started; close() emits suspend then closed', async () => {
  const s = makeSetting();
  const { channel, events, offer } = await openTestChannel(s);
  assert.equal(channel.state, 'open');
  assert.deepEqual(events, ['opened', 'started']);
  assert.equal(channel.instanceId, TEST_INSTANCE);
  assert.deepEqual(s.bus.opens.map((o) => o.channelId), [offer.channelId]);
  await drive(s.scheduler, channel.close());
  assert.equal(channel.state, 'closed');
  assert.deepEqual(events, ['opened', 'started', 'suspend', 'closed']);
  assert.deepEqual(s.bus.closes, [offer.channelId]);
  assert.equal(channel.instanceId, null, 'bound to no offer once closed');
});

test('a closed channel opens again on the same offer; dispose() cleans it up and is idempotent', async () => {
  const s = makeSetting();
  const { channel, offer } = await openTestChannel(s);
  await drive(s.scheduler, channel.close());
  await drive(s.scheduler, channel.open());
  assert.equal(channel.state, 'open');
  assert.deepEqual(s.bus.opens.map((o) => o.channelId), [offer.channelId, offer.channelId]);
  await drive(s.scheduler, channel.dispose());
  assert.equal(channel.state, 'disposed');
  assert.equal(channelFrom(channel.handle), null, 'VmbChannelCleanup ran: the handle is invalid');
  assert.equal(VmbChannelGetPointer(channel.handle), null);
  await drive(s.scheduler, channel.dispose());
  await drive(s.scheduler, channel.close());
});

test('await using closes and cleans up the channel at the end of the block', async () => {
  const s = makeSetting();
  const { channel } = await openTestChannel(s);
  const events = recordEvents(channel);
  const block = async (): Promise<void> => {
    await using owned = channel;
    assert.equal(owned.state, 'open');
  };
  await drive(s.scheduler, block());
  assert.equal(channel.state, 'disposed');
  assert.deepEqual(events, ['suspend', 'closed']);
});

test('onOpened runs before started and may create resources; onClosed runs before the closed event', async () => {
  const s = makeSetting();
  const order: string[] = [];
  const { channel } = await openTestChannel(s, {
    onOpened: async (opened) => {
      order.push(`onOpened:${opened.state}`);
      await Promise.resolve();
    },
    onClosed: () => void order.push('onClosed'),
  });
  channel.on('started', () => order.push('started'));
  channel.on('closed', () => order.push('closed'));
  await drive(s.scheduler, channel.close());
  assert.deepEqual(order, ['onOpened:opening', 'onClosed', 'closed']);
});

test('onOpened throwing a KmclError refuses the open with its status: no started, no closed, the host sees the close', async () => {
  const s = makeSetting();
  const offer = s.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  const channel = s.vmbus.createChannel({
    interfaceId: TEST_INTERFACE,
    onOpened: () => {
      throw new KmclError(S.STATUS_INSUFFICIENT_RESOURCES, 'no GPADL');
    },
  });
  const events = recordEvents(channel);
  assert.deepEqual(await outcome(s, channel.open()), { status: S.STATUS_INSUFFICIENT_RESOURCES });
  assert.deepEqual(events, []);
  assert.deepEqual(s.bus.closes, [offer.channelId]);
  assert.equal(channel.state, 'closed');
});

test('onOpened throwing anything else refuses the open with STATUS_UNSUCCESSFUL', async () => {
  const s = makeSetting();
  s.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  const channel = s.vmbus.createChannel({
    interfaceId: TEST_INTERFACE,
    onOpened: () => {
      throw new Error('driver bug');
    },
  });
  assert.deepEqual(await outcome(s, channel.open()), { status: S.STATUS_UNSUCCESSFUL });
});

test('the host refusing the open rejects open() with the refusal (the PnP-failure status)', async () => {
  const s = makeSetting();
  s.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  s.bus.openStatus = S.STATUS_DEVICE_NOT_READY;
  const channel = s.vmbus.createChannel({ interfaceId: TEST_INTERFACE });
  assert.deepEqual(await outcome(s, channel.open()), { status: S.STATUS_DEVICE_NOT_READY });
  assert.equal(channel.state, 'closed');
});

test('open() waits for the offer; close() before it comes rejects the open with STATUS_CANCELLED', async () => {
  const s = makeSetting();
  const channel = s.vmbus.createChannel({ interfaceId: TEST_INTERFACE, instanceId: OTHER_INSTANCE });
  const opening = statusOf(channel.open());
  await settle(s.scheduler);
  assert.equal(channel.state, 'opening');
  s.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE }); // another instance: not this channel's
  await settle(s.scheduler);
  assert.equal(s.bus.opens.length, 0);
  await drive(s.scheduler, channel.close());
  assert.deepEqual(await opening, { status: S.STATUS_CANCELLED });
});

test('open() on an offer that comes later resolves once it is offered', async () => {
  const s = makeSetting();
  const channel = s.vmbus.createChannel({ interfaceId: TEST_INTERFACE });
  const opening = channel.open();
  await settle(s.scheduler);
  s.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  await drive(s.scheduler, opening);
  assert.equal(channel.state, 'open');
});

test('the host rescinding the offer closes the channel: suspend, closed, state closed', async () => {
  const s = makeSetting();
  const { channel, events, offer } = await openTestChannel(s);
  s.bus.rescind(offer.channelId);
  await settle(s.scheduler);
  assert.equal(channel.state, 'closed');
  assert.deepEqual(events, ['opened', 'started', 'suspend', 'closed']);
  assert.deepEqual(s.bus.released, [offer.channelId], 'the channel id is released');
});

test('pause() resolves once delivered packets are completed; resume() restarts delivery', async () => {
  const s = makeSetting();
  const { channel, events, host } = await openTestChannel(s);
  hostSend(host, new Uint8Array([1]), { completion: true, tid: 1 });
  await settle(s.scheduler);
  const iterator = channel.packets();
  const first = await iterator.next();
  let paused = false;
  const pausing = channel.pause().then(() => (paused = true));
  await settle(s.scheduler);
  assert.equal(events.at(-1), 'suspend');
  assert.equal(paused, false, 'a delivered packet is still outstanding');
  assert.equal(channel.state, 'paused');
  hostSend(host, new Uint8Array([2]));
  first.value!.complete();
  await drive(s.scheduler, pausing);
  assert.equal(channel.counters.packetsReceived, 1, 'nothing delivered while paused');
  await drive(s.scheduler, channel.resume());
  assert.equal(channel.state, 'open');
  assert.deepEqual(events.slice(-2), ['suspend', 'started']);
  const second = await drive(s.scheduler, iterator.next());
  assert.equal(second.value!.data[0], 2);
});

test('calls in the wrong state are KmclError STATUS_INVALID_DEVICE_STATE', async () => {
  const s = makeSetting();
  const { channel } = await openTestChannel(s);
  const state = async (call: () => Promise<unknown>): Promise<number | undefined> => (await outcome(s, call())).status;
  assert.equal(await state(() => channel.open()), S.STATUS_INVALID_DEVICE_STATE);
  assert.equal(await state(() => channel.resume()), S.STATUS_INVALID_DEVICE_STATE);
  await drive(s.scheduler, channel.close());
  assert.equal(await state(() => channel.pause()), S.STATUS_INVALID_DEVICE_STATE);
  await drive(s.scheduler, channel.dispose());
  for (const call of [() => channel.open(), () => channel.send(new Uint8Array(8)), () => channel.request(new Uint8Array(8))]) {
    assert.equal(await state(call), S.STATUS_INVALID_DEVICE_STATE);
  }
  const disposed = await drive(s.scheduler, channel.packets().next());
  assert.equal(disposed.done, true, 'a disposed channel has no packets');
});

test('bad options are KmclError with the init setter\'s status', () => {
  const s = makeSetting();
  const cases: [string, Parameters<typeof s.vmbus.createChannel>[0], number][] = [
    ['an interface id that is no GUID', { interfaceId: 'not-a-guid' }, S.STATUS_INVALID_PARAMETER_2],
    ['an instance id that is no GUID', { interfaceId: TEST_INTERFACE, instanceId: 'x' }, S.STATUS_INVALID_PARAMETER_3],
    ['a ring of one page', { interfaceId: TEST_INTERFACE, ringPages: { incoming: 1, outgoing: 4 } }, S.STATUS_INVALID_PARAMETER_2],
    ['a maximum packet size of 0', { interfaceId: TEST_INTERFACE, maximumPacketSize: 0 }, S.STATUS_INVALID_PARAMETER_2],
    ['an external data chain of 0', { interfaceId: TEST_INTERFACE, maximumExternalData: { bytes: 4096, chainLength: 0 } }, S.STATUS_INVALID_PARAMETER_3],
    ['a processor past the VP limit', { interfaceId: TEST_INTERFACE, targetProcessor: 1 << 20 }, S.STATUS_INVALID_PARAMETER_2],
    ['a quota of 0', { interfaceId: TEST_INTERFACE, transactionQuota: 0 }, S.STATUS_INVALID_PARAMETER_2],
  ];
  for (const [what, options, status] of cases) {
    assert.throws(() => s.vmbus.createChannel(options), (error: unknown) => error instanceof KmclError && error.status === status, what);
  }
});

test('the options reach the core: ring pages, packet size, pipe flag, name, processor, quota', async () => {
  const s = makeSetting();
  const { channel } = await openTestChannel(s, {
    ringPages: { incoming: 3, outgoing: 5 },
    maximumPacketSize: 512,
    pipe: true,
    friendlyName: 'test channel',
    targetProcessor: 1,
    transactionQuota: 7,
  });
  const core = channelFrom(channel.handle)!;
  assert.deepEqual(s.bus.opens[0]!.options, { incomingRingPages: 3, outgoingRingPages: 5, targetVp: 1 });
  assert.equal(core.config.maximumPacketSize, 512);
  assert.equal(core.config.flags, 1, 'VMBUS_CHANNEL_INIT_FLAG_IS_PIPE');
  assert.equal(core.config.friendlyName, 'test channel');
  assert.equal(core.incoming.quota, 7);
  channel.setTransactionQuota(9);
  assert.equal(core.incoming.quota, 9);
  assert.throws(() => channel.setTransactionQuota(0), (error: unknown) => (error as KmclError).status === S.STATUS_INVALID_PARAMETER_2);
});

test('Vmbus.create makes the VMBus device object over a bus, following its offers', () => {
  const h = makeSetting();
  const vmbus = Vmbus.create({ bus: h.bus, memory: h.memory, allocator: h.allocator, scheduler: h.scheduler, name: 'second' });
  assert.equal(vmbus.device.kind, 'vmbus');
  assert.equal(vmbus.device.name, 'second');
  const offer = h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  assert.deepEqual(vmbus.offers(), [offer]);
  assert.equal(new Vmbus(vmbus.device.childForChannel(offer.channelId)!).device, vmbus.device, 'a child leads to its VMBus device');
});

test('Vmbus: offers(), openChannel() and its failure (the channel is disposed, the error rethrown)', async () => {
  const s = makeSetting();
  const offer = s.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  assert.deepEqual(s.vmbus.offers(), [offer]);
  const channel = await drive(s.scheduler, s.vmbus.openChannel({ interfaceId: TEST_INTERFACE }));
  assert.equal(channel.state, 'open');
  s.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: OTHER_INSTANCE });
  s.bus.openStatus = S.STATUS_ACCESS_DENIED;
  assert.deepEqual(await outcome(s, s.vmbus.openChannel({ interfaceId: TEST_INTERFACE, instanceId: OTHER_INSTANCE })), {
    status: S.STATUS_ACCESS_DENIED,
  });
  s.vmbus[Symbol.dispose]();
  s.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: '11111111-2222-4333-8444-555555555555' });
  assert.equal(s.vmbus.offers().length, 2, 'a detached VMBus device follows no new offers');
});
