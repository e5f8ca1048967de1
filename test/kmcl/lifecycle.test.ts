import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NTSTATUS,
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION,
  VmbChannelCleanup,
  VmbChannelDisable,
  VmbChannelEnable,
  VmbChannelInitSetMaximumPacketSize,
  VmbChannelPause,
  VmbChannelStart,
  VmbClientChannelInitSetRingBufferPageCount,
  VmbClientChannelInitSetTargetPnp,
  VmbPacketAllocate,
  VmbPacketSend,
  VmbPacketSetCompletionRoutine,
  type VMBCHANNEL,
} from '../../src/index.js';
import {
  OTHER_INSTANCE,
  RecordingDriver,
  TEST_INSTANCE,
  TEST_INTERFACE,
  allocate,
  core,
  hostRead,
  hostSend,
  makeHarness,
  openChannel,
} from './support/harness.js';
import { settle } from './support/settle.js';

const S = NTSTATUS;
const WAIT = VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION;

/** Sends `count` packets that wait for a completion; returns the statuses their routines got. */
function sendWaiting(channel: VMBCHANNEL, count: number): number[][] {
  const statuses: number[][] = [];
  for (let i = 0; i < count; i++) {
    const packet = VmbPacketAllocate(channel)!;
    const mine: number[] = [];
    statuses.push(mine);
    VmbPacketSetCompletionRoutine(packet, (_p, status) => mine.push(status));
    assert.equal(VmbPacketSend(packet, new Uint8Array(1000), 1000, null, WAIT), S.STATUS_SUCCESS);
  }
  return statuses;
}

test('callback order: Opened, Started, PostStarted on enable; Suspend, Closed on disable', async () => {
  const h = makeHarness();
  const { channel, driver, offer } = await openChannel(h);
  assert.deepEqual(driver.events, ['opened', 'started', 'post-started']);
  assert.equal(core(channel).lifecycle, 'opened');
  assert.equal(await VmbChannelDisable(channel), S.STATUS_SUCCESS);
  assert.deepEqual(driver.events, ['opened', 'started', 'post-started', 'suspend', 'closed']);
  assert.equal(core(channel).lifecycle, 'disabled');
  assert.deepEqual(h.bus.closes, [offer.channelId], 'CLOSE_CHANNEL went out');
  assert.deepEqual(h.bus.released, [], 'not rescinded: the id stays');
  assert.equal(await VmbChannelDisable(channel), S.STATUS_SUCCESS, 'again: nothing to do');
  assert.equal(VmbChannelCleanup(channel), S.STATUS_SUCCESS);
});

test('no packet is delivered before Opened returns; the host\'s early packets come after Started', async () => {
  const h = makeHarness();
  const offer = h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  const channel = allocate(h, h.device.childForChannel(offer.channelId)!);
  const driver = new RecordingDriver();
  driver.install(channel);
  const log: string[] = driver.events;
  const original = core(channel).config.stateCallbacks!;
  core(channel).config.stateCallbacks = {
    ...original,
    EvtChannelOpened: async (ch) => {
      // The host writes as soon as it accepted the open.
      hostSend(h.bus.hosts.get(offer.channelId)!, new Uint8Array([42]));
      await settle(h.scheduler);
      log.push(`delivered before Opened returned: ${driver.delivered.length}`);
      return original.EvtChannelOpened!(ch);
    },
  };
  VmbChannelEnable(channel);
  await settle(h.scheduler);
  assert.deepEqual(log, ['delivered before Opened returned: 0', 'opened', 'started', 'post-started']);
  assert.deepEqual(driver.delivered.map((d) => d.bytes[0]), [42]);
});

test('a failing EvtChannelOpened rolls the channel back: no traffic, no Started, no Closed, re-enable works', async () => {
  const h = makeHarness();
  const offer = h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  const channel = allocate(h, h.device.childForChannel(offer.channelId)!);
  const driver = new RecordingDriver();
  driver.install(channel);
  driver.openedStatus = S.STATUS_INSUFFICIENT_RESOURCES;
  const early = VmbPacketAllocate(channel)!;
  const earlyStatus: number[] = [];
  VmbPacketSetCompletionRoutine(early, (_p, status) => earlyStatus.push(status));
  VmbPacketSend(early, new Uint8Array(4), 4, null, 0);
  VmbChannelEnable(channel);
  await settle(h.scheduler);
  assert.deepEqual(driver.events, ['opened']);
  assert.equal(core(channel).lifecycle, 'disabled');
  assert.deepEqual(h.bus.closes, [offer.channelId], 'the open was undone');
  assert.deepEqual(earlyStatus, [S.STATUS_CANCELLED], 'the queued packet ended, never sent');
  driver.openedStatus = S.STATUS_SUCCESS;
  assert.equal(VmbChannelEnable(channel), S.STATUS_SUCCESS);
  await settle(h.scheduler);
  assert.deepEqual(driver.events, ['opened', 'opened', 'started', 'post-started']);
});

test('Pause with packets outstanding: Suspend, then it waits for the driver to complete them; no delivery until Start', async () => {
  const h = makeHarness();
  const { channel, host, driver } = await openChannel(h);
  driver.hold = true;
  hostSend(host, new Uint8Array([1]), { completion: true });
  hostSend(host, new Uint8Array([2]), { completion: true });
  await settle(h.scheduler);
  assert.equal(driver.delivered.length, 2);
  let paused = false;
  const pausing = VmbChannelPause(channel).then((status) => {
    paused = true;
    return status;
  });
  await settle(h.scheduler);
  assert.deepEqual(driver.events.slice(3), ['suspend']);
  assert.equal(paused, false, 'waits for the outstanding packets');
  hostSend(host, new Uint8Array([3]));
  await settle(h.scheduler);
  assert.equal(driver.delivered.length, 2, 'nothing delivered after Suspend');
  driver.completeAll();
  assert.equal(await pausing, S.STATUS_SUCCESS);
  await settle(h.scheduler);
  assert.equal(hostRead(host).length, 2, 'the completions went out while pausing');
  // Sends while paused wait.
  const statuses = sendWaiting(channel, 1);
  assert.deepEqual(hostRead(host), []);
  driver.hold = false;
  assert.equal(VmbChannelStart(channel), S.STATUS_SUCCESS);
  await settle(h.scheduler);
  assert.deepEqual(driver.events.slice(3), ['suspend', 'started', 'post-started']);
  assert.deepEqual(driver.delivered.map((d) => d.bytes[0]), [1, 2, 3]);
  assert.equal(hostRead(host).length, 1, 'the held send went out');
  assert.deepEqual(statuses, [[]]);
});

test('Pause on a disabled channel makes it open paused; Start starts it', async () => {
  const h = makeHarness();
  const offer = h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  const channel = allocate(h, h.device.childForChannel(offer.channelId)!);
  const driver = new RecordingDriver();
  driver.install(channel);
  assert.equal(await VmbChannelPause(channel), S.STATUS_SUCCESS);
  VmbChannelEnable(channel);
  await settle(h.scheduler);
  assert.deepEqual(driver.events, ['opened']);
  hostSend(h.bus.hosts.get(offer.channelId)!, new Uint8Array([1]));
  await settle(h.scheduler);
  assert.equal(driver.delivered.length, 0);
  VmbChannelStart(channel);
  await settle(h.scheduler);
  assert.deepEqual(driver.events, ['opened', 'started', 'post-started']);
  assert.equal(driver.delivered.length, 1);
  assert.equal(await VmbChannelPause(channel), S.STATUS_SUCCESS);
  assert.deepEqual(driver.events.at(-1), 'suspend');
});

test('the peer rescinding mid-transfer ends every pending send once with STATUS_DEVICE_REMOVED, then Suspend and Closed', async () => {
  const h = makeHarness();
  const { channel, host, driver, offer } = await openChannel(h, (ch) => {
    VmbChannelInitSetMaximumPacketSize(ch, 1000);
    VmbClientChannelInitSetRingBufferPageCount(ch, 2, 2);
  });
  driver.hold = true;
  hostSend(host, new Uint8Array([1]), { completion: true });
  await settle(h.scheduler);
  const statuses = sendWaiting(channel, 6); // 3 fit the ring, 3 wait in the queue
  assert.equal(core(channel).sends.queuedCount, 3);
  const [first] = hostRead(host);
  assert.ok(first !== undefined);
  h.bus.rescind(offer.channelId);
  assert.deepEqual(statuses, new Array(6).fill([S.STATUS_DEVICE_REMOVED]), 'at once, each once');
  await settle(h.scheduler);
  assert.deepEqual(driver.events.slice(3), ['suspend'], 'Closed waits for the outstanding packet');
  driver.completeAll();
  await settle(h.scheduler);
  assert.deepEqual(driver.events.slice(3), ['suspend', 'closed']);
  assert.deepEqual(statuses, new Array(6).fill([S.STATUS_DEVICE_REMOVED]), 'never again');
  assert.deepEqual(h.bus.released, [offer.channelId], 'the rescinded id was released');
  assert.equal(core(channel).lifecycle, 'disabled');
  assert.equal(VmbChannelCleanup(channel), S.STATUS_SUCCESS);
});

test('a peer that corrupts the ring fails its channel: pending sends end with STATUS_DEVICE_REMOVED and the channel closes', async () => {
  const h = makeHarness();
  const { channel, host, driver } = await openChannel(h);
  const statuses = sendWaiting(channel, 2);
  // Word 0 of the control page is the write index (openvmm-vmbus.md §6.2); 3 is not 8-aligned.
  Atomics.store(host.writer.memory.control, 0, 3);
  host.signalPeer();
  await settle(h.scheduler);
  assert.deepEqual(statuses, [[S.STATUS_DEVICE_REMOVED], [S.STATUS_DEVICE_REMOVED]]);
  assert.deepEqual(driver.events.slice(3), ['suspend', 'closed']);
  assert.equal(core(channel).lifecycle, 'disabled');
  assert.match(core(channel).faultDetail ?? '', /write index 3/);
  assert.deepEqual(h.bus.released, [], 'not rescinded: the channel id is still the guest\'s');
});

test('Pause while the channel is still opening returns at once; the channel opens paused', async () => {
  const h = makeHarness();
  const channel = allocate(h);
  VmbClientChannelInitSetTargetPnp(channel, TEST_INTERFACE, null, null);
  const driver = new RecordingDriver();
  driver.install(channel);
  VmbChannelEnable(channel);
  await settle(h.scheduler);
  assert.equal(await VmbChannelPause(channel), S.STATUS_SUCCESS, 'no offer yet: nothing to wait for');
  h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  await settle(h.scheduler);
  assert.deepEqual(driver.events, ['opened']);
  VmbChannelStart(channel);
  void VmbChannelPause(channel); // a Pause right after the Start, before it ran: the channel stays paused
  await settle(h.scheduler);
  assert.deepEqual(driver.events, ['opened']);
});

test('Disable ends pending sends with STATUS_CANCELLED', async () => {
  const h = makeHarness();
  const { channel } = await openChannel(h);
  const statuses = sendWaiting(channel, 2);
  await VmbChannelDisable(channel);
  assert.deepEqual(statuses, [[S.STATUS_CANCELLED], [S.STATUS_CANCELLED]]);
});

test('an open the host refuses calls the PnP-failure callback with the status; the channel is disabled', async () => {
  const h = makeHarness();
  h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  h.bus.openStatus = S.STATUS_INSUFFICIENT_RESOURCES;
  const channel = allocate(h);
  const failures: [VMBCHANNEL, number][] = [];
  VmbClientChannelInitSetTargetPnp(channel, TEST_INTERFACE, null, (ch, status) => failures.push([ch, status]));
  const driver = new RecordingDriver();
  driver.install(channel);
  VmbChannelEnable(channel);
  await settle(h.scheduler);
  assert.deepEqual(failures, [[channel, S.STATUS_INSUFFICIENT_RESOURCES]]);
  assert.deepEqual(driver.events, []);
  assert.equal(core(channel).lifecycle, 'disabled');
});

test('VmbChannelEnable: waits for a matching offer; a channel without a target or already enabled is refused', async () => {
  const h = makeHarness();
  assert.equal(VmbChannelEnable(allocate(h)), S.STATUS_INVALID_DEVICE_STATE, 'no target');
  assert.equal(VmbChannelEnable({} as VMBCHANNEL), S.STATUS_INVALID_PARAMETER_1);
  const channel = allocate(h);
  VmbClientChannelInitSetTargetPnp(channel, TEST_INTERFACE, OTHER_INSTANCE, null);
  const driver = new RecordingDriver();
  driver.install(channel);
  assert.equal(VmbChannelEnable(channel), S.STATUS_SUCCESS);
  assert.equal(VmbChannelEnable(channel), S.STATUS_INVALID_PARAMETER_1, 'already enabled');
  h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  await settle(h.scheduler);
  assert.deepEqual(driver.events, [], 'another instance does not match');
  h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: OTHER_INSTANCE });
  await settle(h.scheduler);
  assert.deepEqual(driver.events, ['opened', 'started', 'post-started']);
});

test('Disable while waiting for an offer stops waiting; the offer, when it comes, stays free', async () => {
  const h = makeHarness();
  const channel = allocate(h);
  VmbClientChannelInitSetTargetPnp(channel, TEST_INTERFACE, null, null);
  VmbChannelEnable(channel);
  await settle(h.scheduler);
  assert.equal(await VmbChannelDisable(channel), S.STATUS_SUCCESS);
  h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  await settle(h.scheduler);
  assert.deepEqual(h.bus.opens, []);
  const second = allocate(h);
  VmbClientChannelInitSetTargetPnp(second, TEST_INTERFACE, null, null);
  VmbChannelEnable(second);
  await settle(h.scheduler);
  assert.equal(h.bus.opens.length, 1, 'the second channel got the offer');
});

test('two channels never bind the same offer', async () => {
  const h = makeHarness();
  const first = allocate(h);
  const second = allocate(h);
  for (const channel of [first, second]) {
    VmbClientChannelInitSetTargetPnp(channel, TEST_INTERFACE, null, null);
    VmbChannelEnable(channel);
  }
  h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  await settle(h.scheduler);
  assert.equal(h.bus.opens.length, 1);
  h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: OTHER_INSTANCE });
  await settle(h.scheduler);
  assert.deepEqual(h.bus.opens.map((o) => o.channelId), [1, 2]);
});

test('ring page counts: as set, or more when the maximum packet size needs it', async () => {
  const h = makeHarness();
  await openChannel(h, (channel) => VmbClientChannelInitSetRingBufferPageCount(channel, 3, 5));
  await openChannel(h, (channel) => {
    VmbClientChannelInitSetRingBufferPageCount(channel, 2, 2);
    VmbChannelInitSetMaximumPacketSize(channel, 10_000);
  });
  // 16 + 10000 padded to 10016, + trailer and reserved 8 = 10032 data bytes: 3 data pages and the control page.
  assert.deepEqual(h.bus.opens.map((o) => [o.options.incomingRingPages, o.options.outgoingRingPages]), [[3, 5], [4, 4]]);
});

test('VmbChannelPause and VmbChannelStart answer a bad handle with STATUS_INVALID_PARAMETER_1', async () => {
  assert.equal(await VmbChannelPause(null as never), S.STATUS_INVALID_PARAMETER_1);
  assert.equal(VmbChannelStart('x' as never), S.STATUS_INVALID_PARAMETER_1);
  assert.equal(await VmbChannelDisable(undefined as never), S.STATUS_INVALID_PARAMETER_1);
  assert.equal(VmbChannelCleanup(5 as never), S.STATUS_INVALID_PARAMETER_1);
});
