/**
 * A server channel's lifetime over the real bus drivers, one thread, seeded:
 * Enable offers it, the guest's open raises Opened/Started/PostStarted, the
 * guest's close raises Suspend/Closed and the offer stays for a reopen,
 * Disable rescinds and waits for the guest's release (bounded), subchannels.
 * The guest is a KMCL client driver (or a bare GuestBus, which releases nothing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NTSTATUS,
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION,
  VmbChannelAllocate,
  VmbChannelDisable,
  VmbChannelEnable,
  VmbChannelInitSetPrimaryChannel,
  VmbChannelSetTransactionQuota,
  VmbClientChannelInitSetTargetPnp,
  VmbPacketAllocate,
  VmbPacketSend,
  VmbPacketSetCompletionRoutine,
  type Guid,
  type Out,
  type VMBCHANNEL,
} from '../../../src/index.js';
import { testSeed } from '../../support/seed.js';
import { RecordingDriver } from '../support/harness.js';
import { advance, drive, settle } from '../support/settle.js';
import { ServerMachine, VSP_INSTANCE, VSP_INTERFACE, VspDriver, core } from './support/server-machine.js';

const S = NTSTATUS;
const WAIT = VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION;

/** The guest's KMCL client channel to VSP_INTERFACE, enabled. */
function guestChannel(m: ServerMachine, driver: RecordingDriver, instance: Guid = VSP_INSTANCE): VMBCHANNEL {
  const box: Out<VMBCHANNEL | null> = { value: null };
  assert.equal(VmbChannelAllocate(m.device, false, box), S.STATUS_SUCCESS);
  const channel = box.value!;
  VmbClientChannelInitSetTargetPnp(channel, VSP_INTERFACE, instance, null);
  driver.install(channel);
  assert.equal(VmbChannelEnable(channel), S.STATUS_SUCCESS);
  return channel;
}

/** Sends `count` packets with completion requested on `channel`; each send's statuses land in its array. */
function sendWaiting(channel: VMBCHANNEL, count: number, size = 64, kmcl: { VmbPacketAllocate: typeof VmbPacketAllocate } = { VmbPacketAllocate }): number[][] {
  const statuses: number[][] = [];
  for (let i = 0; i < count; i++) {
    const packet = kmcl.VmbPacketAllocate(channel)!;
    const mine: number[] = [];
    statuses.push(mine);
    VmbPacketSetCompletionRoutine(packet, (_p, status) => mine.push(status));
    assert.equal(VmbPacketSend(packet, new Uint8Array(size).fill(i & 0xff), size, null, WAIT), S.STATUS_SUCCESS);
  }
  return statuses;
}

interface Connected {
  readonly m: ServerMachine;
  readonly vsp: VspDriver;
  readonly server: VMBCHANNEL;
  readonly guest: RecordingDriver;
  readonly client: VMBCHANNEL;
}

async function connected(seed: number): Promise<Connected> {
  const m = new ServerMachine(seed);
  const vsp = new VspDriver();
  const server = m.serverChannel(vsp);
  await m.connect();
  const guest = new RecordingDriver();
  const client = guestChannel(m, guest);
  await settle(m.scheduler);
  return { m, vsp, server, guest, client };
}

test('Enable offers the channel; the guest\'s open raises Opened, Started, PostStarted; packets and completions flow both ways', async (t) => {
  const { m, vsp, server, guest, client } = await connected(testSeed(t.name));
  assert.deepEqual(vsp.events, ['opened', 'started', 'post-started']);
  assert.deepEqual(guest.events, ['opened', 'started', 'post-started']);
  assert.equal(core(server).lifecycle, 'opened');
  const fromGuest = sendWaiting(client, 3);
  const fromHost = sendWaiting(server, 2, 16, m.kmcl);
  await settle(m.scheduler);
  assert.deepEqual(vsp.delivered.map((d) => d.bytes[0]), [0, 1, 2]);
  assert.deepEqual(guest.delivered.map((d) => d.bytes[0]), [0, 1]);
  assert.deepEqual(fromGuest, [[S.STATUS_SUCCESS], [S.STATUS_SUCCESS], [S.STATUS_SUCCESS]]);
  assert.deepEqual(fromHost, [[S.STATUS_SUCCESS], [S.STATUS_SUCCESS]]);
  const instance: Out<Guid> = { value: '' };
  assert.equal(m.kmcl.VmbChannelGetInterfaceInstance(server, instance), S.STATUS_SUCCESS);
  assert.equal(instance.value, VSP_INSTANCE);
});

test('a host channel stays paused until VmbChannelStart (the header: the host starts manually): Opened only, then Started', async (t) => {
  const m = new ServerMachine(testSeed(t.name));
  const vsp = new VspDriver();
  const server = m.serverChannel(vsp, undefined, false);
  assert.equal(m.kmcl.VmbChannelEnable(server), S.STATUS_SUCCESS);
  await m.connect();
  const guest = new RecordingDriver();
  const client = guestChannel(m, guest);
  await settle(m.scheduler);
  assert.deepEqual(vsp.events, ['opened']);
  sendWaiting(client, 1);
  await settle(m.scheduler);
  assert.equal(vsp.delivered.length, 0, 'nothing is delivered to a paused channel');
  assert.equal(m.kmcl.VmbChannelStart(server), S.STATUS_SUCCESS);
  await settle(m.scheduler);
  assert.deepEqual(vsp.events, ['opened', 'started', 'post-started']);
  assert.equal(vsp.delivered.length, 1, 'the packet that waited in the ring');
});

test('the guest\'s close raises Suspend then Closed; the channel is offered again and the guest reopens it', async (t) => {
  const { m, vsp, server, guest, client } = await connected(testSeed(t.name));
  assert.equal(await drive(m.scheduler, VmbChannelDisable(client)), S.STATUS_SUCCESS);
  assert.deepEqual(vsp.events, ['opened', 'started', 'post-started', 'suspend', 'closed']);
  assert.equal(core(server).lifecycle, 'enabled', 'offered again');
  assert.equal(core(server).inOpenWindow, false);
  const again = new RecordingDriver();
  const reopened = guestChannel(m, again);
  await settle(m.scheduler);
  assert.deepEqual(vsp.events.slice(5), ['opened', 'started', 'post-started']);
  sendWaiting(reopened, 1);
  await settle(m.scheduler);
  assert.equal(vsp.delivered.length, 1);
  assert.deepEqual(guest.events.slice(-2), ['suspend', 'closed']);
});

test('a paused host channel stays paused across the guest\'s close and reopen', async (t) => {
  const { m, vsp, server, client } = await connected(testSeed(t.name));
  assert.equal(await drive(m.scheduler, m.kmcl.VmbChannelPause(server)), S.STATUS_SUCCESS);
  await drive(m.scheduler, VmbChannelDisable(client));
  guestChannel(m, new RecordingDriver());
  await settle(m.scheduler);
  assert.deepEqual(vsp.events, ['opened', 'started', 'post-started', 'suspend', 'closed', 'opened']);
});

test('EvtChannelOpened failing refuses the guest\'s open; the channel stays offered', async (t) => {
  const m = new ServerMachine(testSeed(t.name));
  const vsp = new VspDriver();
  vsp.openedStatus = S.STATUS_INSUFFICIENT_RESOURCES;
  const server = m.serverChannel(vsp);
  await m.connect();
  const failures: number[] = [];
  const box: Out<VMBCHANNEL | null> = { value: null };
  VmbChannelAllocate(m.device, false, box);
  VmbClientChannelInitSetTargetPnp(box.value!, VSP_INTERFACE, VSP_INSTANCE, (_c, status) => failures.push(status));
  VmbChannelEnable(box.value!);
  await settle(m.scheduler);
  assert.deepEqual(vsp.events, ['opened']);
  assert.deepEqual(failures, [S.STATUS_INSUFFICIENT_RESOURCES], 'the guest hears the status in OPEN_RESULT');
  assert.equal(core(server).lifecycle, 'enabled');
  assert.equal(core(server).sends.attached, false);
});

test('VmbChannelDisable: Suspend, Closed, rescind; it resolves once the guest released the channel', async (t) => {
  const { m, vsp, server, guest } = await connected(testSeed(t.name));
  let done = false;
  const disabled = m.kmcl.VmbChannelDisable(server).then((status) => {
    done = true;
    return status;
  });
  assert.equal(await drive(m.scheduler, disabled), S.STATUS_SUCCESS);
  assert.equal(done, true);
  assert.deepEqual(vsp.events, ['opened', 'started', 'post-started', 'suspend', 'closed']);
  assert.deepEqual(guest.events, ['opened', 'started', 'post-started', 'suspend', 'closed'], 'the guest saw the rescind');
  assert.equal(core(server).lifecycle, 'disabled');
  assert.equal(core(server).faultDetail, null);
  assert.deepEqual(m.hostBus.resources().offers, 0, 'the offer is gone: the guest released it');
  assert.equal(m.kmcl.VmbChannelCleanup(server), S.STATUS_SUCCESS);
});

test('VmbChannelDisable released in time cancels its release wait: no tick of it is left for the clock to run to', async (t) => {
  const { m, server } = await connected(testSeed(t.name));
  assert.equal(await drive(m.scheduler, m.kmcl.VmbChannelDisable(server)), S.STATUS_SUCCESS);
  const released = m.scheduler.now();
  m.scheduler.runUntilIdle();
  assert.equal(m.scheduler.now(), released);
  assert.equal(m.scheduler.pending, 0);
  assert.equal(m.kmcl.VmbChannelCleanup(server), S.STATUS_SUCCESS);
});

test('rescind with the guest mid-transfer: every send ends once (host: CANCELLED, guest: DEVICE_REMOVED); Disable waits for the VSP\'s held packets', async (t) => {
  const { m, vsp, server, guest, client } = await connected(testSeed(t.name));
  guest.hold = true;
  vsp.hold = true;
  // The guest takes one packet and holds it: the host's ring fills behind it.
  assert.equal(VmbChannelSetTransactionQuota(client, 1), S.STATUS_SUCCESS);
  const fromHost = sendWaiting(server, 300, 600, m.kmcl); // more than the ring holds: some stay queued
  const fromGuest = sendWaiting(client, 5);
  await settle(m.scheduler);
  assert.ok(core(server).sends.queuedCount > 0, 'some host sends wait for ring space');
  assert.equal(vsp.held.length, 5);
  let done = false;
  const disabled = m.kmcl.VmbChannelDisable(server).then((status) => ((done = true), status));
  await settle(m.scheduler);
  assert.deepEqual(fromHost, new Array(300).fill([S.STATUS_CANCELLED]), 'the host\'s transactions end at once');
  assert.equal(vsp.events.at(-1), 'suspend');
  assert.equal(done, false, 'Disable waits for the packets the VSP holds');
  vsp.completeAll();
  await settle(m.scheduler);
  assert.equal(guest.events.at(-1), 'suspend', 'the guest, rescinded, suspends and waits for its driver in turn');
  guest.completeAll();
  assert.equal(await drive(m.scheduler, disabled), S.STATUS_SUCCESS);
  assert.deepEqual(vsp.events.slice(-2), ['suspend', 'closed']);
  assert.deepEqual(fromGuest, new Array(5).fill([S.STATUS_DEVICE_REMOVED]), 'the guest\'s sends end with the rescind');
  assert.equal(core(client).lifecycle, 'disabled');
  assert.deepEqual(m.hostBus.resources().channels, 0);
});

test('a guest that never releases: Disable gives up after the release timeout with STATUS_IO_TIMEOUT and says why', async (t) => {
  const timeout = 20_000_000; // 2 s of virtual time
  const m = new ServerMachine(testSeed(t.name), { releaseTimeout: timeout });
  const vsp = new VspDriver();
  const server = m.serverChannel(vsp);
  const bare = await m.connectBareGuest(); // a guest bus alone: it hears the rescind and never answers REL_ID_RELEASED
  const channelId = bare.offers()[0]!.channelId;
  let rescinded = false;
  bare.onRescind(channelId, () => (rescinded = true));
  let status: number | null = null;
  const start = m.scheduler.now();
  const disabled = m.kmcl.VmbChannelDisable(server).then((s) => (status = s));
  await settle(m.scheduler);
  assert.equal(status, null, 'still waiting for the guest');
  assert.equal(rescinded, true, 'the guest got the rescind');
  await advance(m.scheduler, timeout / 2);
  assert.equal(status, null, 'half the timeout: still waiting');
  assert.equal(await m.drive(disabled), S.STATUS_IO_TIMEOUT, 'no hang: the host gives up');
  assert.ok(m.scheduler.now() - start >= timeout, 'not before the timeout');
  assert.equal(core(server).lifecycle, 'disabled', 'the host side is torn down');
  assert.match(core(server).faultDetail ?? '', new RegExp(`did not release channel ${channelId} within ${timeout}`));
  assert.equal(core(server).server?.releaseTimedOut, true);
  assert.equal(m.kmcl.VmbChannelCleanup(server), S.STATUS_SUCCESS);
});

test('subchannels: offered under the primary\'s interface and instance, index 1, 2, ...; the primary\'s Disable disables them first', async (t) => {
  const m = new ServerMachine(testSeed(t.name));
  const vsp = new VspDriver();
  const primary = m.serverChannel(vsp);
  const subs = [new VspDriver(), new VspDriver()].map((driver) =>
    m.serverChannel(driver, (channel) => assert.equal(VmbChannelInitSetPrimaryChannel(channel, primary), S.STATUS_SUCCESS)),
  );
  assert.deepEqual(subs.map((sub) => core(sub).server?.subchannelIndex), [1, 2]);
  await m.connect();
  const offers = m.guestBus.offers();
  assert.deepEqual(
    offers.map((o) => [o.interfaceId, o.instanceId, o.subchannelIndex]),
    [0, 1, 2].map((index) => [VSP_INTERFACE, VSP_INSTANCE, index]),
  );
  const clientPrimary = guestChannel(m, new RecordingDriver());
  await settle(m.scheduler);
  const clientSubs = [0, 1].map(() => {
    const box: Out<VMBCHANNEL | null> = { value: null };
    VmbChannelAllocate(m.device, false, box);
    VmbChannelInitSetPrimaryChannel(box.value!, clientPrimary);
    VmbChannelEnable(box.value!);
    return box.value!;
  });
  await settle(m.scheduler);
  assert.deepEqual([primary, ...subs].map((c) => core(c).lifecycle), ['opened', 'opened', 'opened']);
  assert.equal(await drive(m.scheduler, m.kmcl.VmbChannelDisable(primary)), S.STATUS_SUCCESS);
  assert.deepEqual([primary, ...subs].map((c) => core(c).lifecycle), ['disabled', 'disabled', 'disabled']);
  assert.deepEqual(clientSubs.map((c) => core(c).lifecycle), ['disabled', 'disabled']);
  assert.equal(m.hostBus.resources().offers, 0);
});

test('Enable refuses what cannot be offered, with the channel left disabled', async (t) => {
  const m = new ServerMachine(testSeed(t.name));
  const noTarget: Out<VMBCHANNEL | null> = { value: null };
  m.kmcl.VmbChannelAllocate(m.hostDeviceObject, true, noTarget);
  const cases: [string, (channel: VMBCHANNEL) => void, number][] = [
    ['no target interface', () => undefined, S.STATUS_INVALID_DEVICE_STATE],
    ['a loopback offer', (c) => m.kmcl.VmbServerChannelInitSetFlags(c, 0x1), S.STATUS_NOT_SUPPORTED],
    ['a target VTL the bus does not serve', (c) => m.kmcl.VmbServerChannelInitSetTargetVtl(c, 2), S.STATUS_INVALID_DEVICE_STATE],
    ['bounce buffers', (c) => m.kmcl.VmbChannelInitSetBounceBufferSizes(c, 4, 1), S.STATUS_NOT_SUPPORTED],
    ['a subchannel of a primary not offered', (c) => VmbChannelInitSetPrimaryChannel(c, noTarget.value!), S.STATUS_INVALID_DEVICE_STATE],
    ['more MMIO than the window', (c) => m.kmcl.VmbServerChannelInitSetMmioMegabytes(c, 0xffff, 0), S.STATUS_INSUFFICIENT_RESOURCES],
  ];
  for (const [name, configure, status] of cases) {
    const box: Out<VMBCHANNEL | null> = { value: null };
    m.kmcl.VmbChannelAllocate(m.hostDeviceObject, true, box);
    if (name !== 'no target interface') m.kmcl.VmbServerChannelInitSetTargetInterfaceId(box.value!, VSP_INTERFACE, VSP_INSTANCE);
    configure(box.value!);
    assert.equal(m.kmcl.VmbChannelEnable(box.value!), status, name);
    assert.equal(core(box.value!).lifecycle, 'disabled', name);
  }
  const first = m.serverChannel(new VspDriver());
  const duplicate = m.serverChannel(new VspDriver(), undefined, false);
  assert.equal(m.kmcl.VmbChannelEnable(duplicate), S.STATUS_INVALID_PARAMETER, 'the bus refuses a second offer with the same key');
  assert.equal(core(first).lifecycle, 'enabled');
});
