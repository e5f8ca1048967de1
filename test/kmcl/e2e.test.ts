/**
 * The KMCL client over the real bus drivers: a HostBus offering channels to a
 * GuestBus in one thread, seeded. The host device is scripted by the test
 * (its endpoint is the peer); the guest is a KMCL driver.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ExternalDataMapping,
  NTSTATUS,
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION,
  VMBUS_CHANNEL_PACKET_EXTERNAL_DATA_FLAG_READ_ONLY,
  VmbChannelAllocate,
  VmbChannelCreateGpadlFromPfnList,
  VmbChannelDeleteGpadl,
  VmbChannelDisable,
  VmbChannelEnable,
  VmbChannelPacketDeferToPassive,
  VmbChannelPacketComplete,
  VmbChannelPacketGetExternalData,
  VmbChannelPause,
  VmbChannelSendSynchronousRequest,
  VmbChannelSetInterruptLatency,
  VmbChannelSetTransactionQuota,
  VmbChannelStart,
  VmbChannelInitSetProcessPacketCallbacks,
  VmbChannelInitSetProcessPacketCallbacksEx,
  VmbChannelSetAllowableDpcCpuUsage,
  VmbClientChannelInitSetTargetPnp,
  VmbPacketAllocate,
  VmbPacketSend,
  VmbPacketSendWithExternalPfns,
  VmbPacketSetCompletionRoutine,
  type Out,
  type VMBCHANNEL,
} from '../../src/index.js';
import type { ChannelEndpoint, HostOffer } from '../../src/bus/index.js';
import { testSeed } from '../support/seed.js';
import { RecordingDriver, TEST_INSTANCE, TEST_INTERFACE, core, hostComplete, hostSend, hostSendRaw } from './support/harness.js';
import { KmclMachine, hostDrain } from './support/kmcl-machine.js';

const S = NTSTATUS;
const WAIT = VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION;

interface Opened {
  readonly m: KmclMachine;
  readonly offer: HostOffer;
  readonly channel: VMBCHANNEL;
  readonly driver: RecordingDriver;
  readonly host: ChannelEndpoint;
}

interface OpenOptions {
  readonly monitored?: boolean;
  /** The clock the KMCL device object sees (default the machine's). */
  readonly now?: () => number;
}

async function open(
  seed: number,
  configure?: (channel: VMBCHANNEL, driver: RecordingDriver) => void,
  options: OpenOptions = {},
): Promise<Opened> {
  const m = new KmclMachine(seed);
  const offer = m.hostBus.offerChannel(
    { interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE, monitoredNotification: options.monitored === true },
    m.hostDevice,
  );
  const now = options.now;
  const device = await m.connect(
    now === undefined ? m.scheduler : { now, schedule: (task, delay) => m.scheduler.schedule(task, delay) },
  );
  const box: Out<VMBCHANNEL | null> = { value: null };
  assert.equal(VmbChannelAllocate(device, false, box), S.STATUS_SUCCESS);
  const channel = box.value!;
  VmbClientChannelInitSetTargetPnp(channel, TEST_INTERFACE, TEST_INSTANCE, null);
  const driver = new RecordingDriver();
  driver.install(channel);
  configure?.(channel, driver);
  assert.equal(VmbChannelEnable(channel), S.STATUS_SUCCESS);
  await m.settle();
  const host = m.hostDevice.endpoints.get(offer.channelId!);
  assert.ok(host !== undefined, 'the host device accepted the open');
  hostDrain(host); // the host's incoming ring starts masked (src/bus/host-types.ts): drain once to unmask it
  return { m, offer, channel, driver, host };
}

function sendWaiting(channel: VMBCHANNEL, count: number, size = 64): number[][] {
  const statuses: number[][] = [];
  for (let i = 0; i < count; i++) {
    const packet = VmbPacketAllocate(channel)!;
    const mine: number[] = [];
    statuses.push(mine);
    VmbPacketSetCompletionRoutine(packet, (_p, status) => mine.push(status));
    assert.equal(VmbPacketSend(packet, new Uint8Array(size).fill(i), size, null, WAIT), S.STATUS_SUCCESS);
  }
  return statuses;
}

test('e2e: a KMCL driver opens a channel over the bus, exchanges packets both ways and disables it', async (t) => {
  const { m, channel, driver, host, offer } = await open(testSeed(t.name));
  assert.deepEqual(driver.events, ['opened', 'started', 'post-started']);
  const statuses = sendWaiting(channel, 4);
  await m.settle();
  const requests = hostDrain(host);
  // In-band (type 6) with COMPLETION_REQUESTED (flag 1): openvmm-vmbus.md §6.3, linux-vmbus.md §A.2.
  assert.deepEqual(requests.map((p) => [p.type, p.flags, p.payload[0]]), [[6, 1, 0], [6, 1, 1], [6, 1, 2], [6, 1, 3]]);
  for (const request of requests) hostComplete(host, request.transactionIdLo, request.transactionIdHi, new Uint8Array([7]));
  hostSend(host, new Uint8Array([0x42]), { completion: true, tid: 77 });
  await m.settle();
  assert.deepEqual(statuses, [[0], [0], [0], [0]]);
  assert.deepEqual(driver.delivered.map((d) => d.bytes[0]), [0x42]);
  const [completion] = hostDrain(host);
  assert.deepEqual([completion!.type, completion!.transactionIdLo], [0xb, 77], 'a completion (VM_PKT_COMP, 0xB) echoing the id');
  assert.equal(await m.drive(VmbChannelDisable(channel)), S.STATUS_SUCCESS);
  assert.deepEqual(driver.events, ['opened', 'started', 'post-started', 'suspend', 'closed']);
  assert.deepEqual(m.hostDevice.closed, [offer.channelId]);
  assert.deepEqual(m.guestBus.resources().openChannels, 0);
});

test('e2e: EvtChannelOpened failing rolls back: the host sees the channel close, no Started', async (t) => {
  const m = new KmclMachine(testSeed(t.name));
  const offer = m.hostBus.offerChannel({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE }, m.hostDevice);
  const device = await m.connect();
  const box: Out<VMBCHANNEL | null> = { value: null };
  VmbChannelAllocate(device.childForChannel(offer.channelId!)!, false, box);
  const driver = new RecordingDriver();
  driver.install(box.value!);
  driver.openedStatus = S.STATUS_UNSUCCESSFUL;
  VmbChannelEnable(box.value!);
  await m.settle();
  assert.deepEqual(driver.events, ['opened']);
  assert.deepEqual(m.hostDevice.closed, [offer.channelId]);
  assert.equal(core(box.value!).lifecycle, 'disabled');
  assert.equal(m.guestBus.resources().openChannels, 0);
});

test('e2e: the host refusing the open reaches the PnP-failure callback with its status', async (t) => {
  const m = new KmclMachine(testSeed(t.name));
  m.hostDevice.openStatus = S.STATUS_INSUFFICIENT_RESOURCES;
  m.hostBus.offerChannel({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE }, m.hostDevice);
  const device = await m.connect();
  const box: Out<VMBCHANNEL | null> = { value: null };
  VmbChannelAllocate(device, false, box);
  const failures: number[] = [];
  VmbClientChannelInitSetTargetPnp(box.value!, TEST_INTERFACE, null, (_c, status) => failures.push(status));
  VmbChannelEnable(box.value!);
  await m.settle();
  assert.equal(failures.length, 1);
  assert.notEqual(failures[0], S.STATUS_SUCCESS);
  assert.equal(core(box.value!).lifecycle, 'disabled');
});

test('e2e: Pause waits for outstanding packets after Suspend; Start resumes delivery', async (t) => {
  const { m, channel, driver, host } = await open(testSeed(t.name));
  driver.hold = true;
  hostSend(host, new Uint8Array([1]), { completion: true, tid: 1 });
  await m.settle();
  let paused = false;
  void VmbChannelPause(channel).then(() => (paused = true));
  await m.settle();
  assert.equal(driver.events.at(-1), 'suspend');
  assert.equal(paused, false);
  hostSend(host, new Uint8Array([2]));
  await m.settle();
  assert.equal(driver.delivered.length, 1, 'no delivery after Suspend');
  driver.completeAll();
  await m.settle();
  assert.equal(paused, true);
  assert.equal(hostDrain(host).length, 1, 'the completion went out');
  driver.hold = false;
  VmbChannelStart(channel);
  await m.settle();
  assert.deepEqual(driver.delivered.map((d) => d.bytes[0]), [1, 2]);
  assert.deepEqual(driver.events.slice(-3), ['suspend', 'started', 'post-started']);
});

test('e2e: the host rescinding mid-transfer ends every pending send once with STATUS_DEVICE_REMOVED', async (t) => {
  const { m, channel, driver, offer } = await open(testSeed(t.name));
  const statuses = sendWaiting(channel, 400, 1000); // more than the rings hold: some wait in the queue
  assert.ok(core(channel).sends.queuedCount > 0);
  const rescinded = offer.rescind();
  await m.settle();
  assert.deepEqual(statuses, new Array(400).fill([S.STATUS_DEVICE_REMOVED]));
  assert.deepEqual(driver.events.slice(-2), ['suspend', 'closed']);
  await m.drive(rescinded);
  assert.equal(core(channel).lifecycle, 'disabled');
  assert.equal(m.guestBus.resources().openChannels, 0);
});

test('e2e: completions with forged transaction ids from the host are dropped and counted', async (t) => {
  const { m, channel, host } = await open(testSeed(t.name));
  const statuses = sendWaiting(channel, 1);
  await m.settle();
  const [request] = hostDrain(host);
  hostComplete(host, request!.transactionIdLo + 5, request!.transactionIdHi);
  hostComplete(host, request!.transactionIdLo, request!.transactionIdHi + 1);
  hostComplete(host, request!.transactionIdLo, request!.transactionIdHi);
  hostComplete(host, request!.transactionIdLo, request!.transactionIdHi);
  await m.settle();
  assert.deepEqual(statuses, [[S.STATUS_SUCCESS]]);
  assert.equal(core(channel).counters.unknownCompletions, 3);
});

test('e2e: synchronous requests: success, timeout, and device removed', async (t) => {
  const { m, channel, host, offer } = await open(testSeed(t.name));
  const completion = new Uint8Array(8);
  const size: Out<number> = { value: 8 };
  const ok = VmbChannelSendSynchronousRequest(channel, new Uint8Array([1]), 1, null, WAIT, completion, size, null);
  await m.settle();
  const [request] = hostDrain(host);
  hostComplete(host, request!.transactionIdLo, request!.transactionIdHi, new Uint8Array([5, 6]));
  assert.equal(await m.drive(ok), S.STATUS_SUCCESS);
  assert.deepEqual([...completion.subarray(0, 2)], [5, 6]);
  // Unanswered for 1 ms (relative timeout, 100 ns units): cancelled. The machine's clock jumps to the timer.
  assert.equal(await m.drive(VmbChannelSendSynchronousRequest(channel, null, 0, null, WAIT, null, null, { QuadPart: -10_000 })), S.STATUS_CANCELLED);
  const removed = VmbChannelSendSynchronousRequest(channel, null, 0, null, WAIT, null, null, null);
  void offer.rescind();
  assert.equal(await m.drive(removed), S.STATUS_DEVICE_REMOVED);
});

test('e2e: external data from the host maps read-only or writable, bounded by its ranges', async (t) => {
  const { m, driver, host } = await open(testSeed(t.name));
  driver.hold = true;
  m.memory.write(300 * 4096, new Uint8Array([1, 2, 3, 4]));
  // GPA-direct header (openvmm-vmbus.md §6.3): reserved 0, 1 range {byteCount 4, byteOffset 0, pfn 300}.
  const header = new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 44, 1, 0, 0, 0, 0, 0, 0]);
  hostSendRaw(host, 9 /* VM_PKT_DATA_USING_GPA_DIRECT */, header, new Uint8Array(8), { completion: true, tid: 9 });
  await m.settle();
  const packet = driver.delivered[0]!.packet;
  const box: Out<ExternalDataMapping | null> = { value: null };
  assert.equal(VmbChannelPacketGetExternalData(packet, VMBUS_CHANNEL_PACKET_EXTERNAL_DATA_FLAG_READ_ONLY, box), S.STATUS_SUCCESS);
  const read = new Uint8Array(4);
  assert.equal(box.value!.copyTo(0, read), S.STATUS_SUCCESS);
  assert.deepEqual([...read], [1, 2, 3, 4]);
  assert.equal(box.value!.copyFrom(0, read), S.STATUS_ACCESS_DENIED);
  assert.equal(box.value!.copyTo(1, read), S.STATUS_INVALID_PARAMETER, 'past the 4 bytes granted');
  VmbChannelPacketComplete(packet, null, 0);
  await m.settle();
  assert.equal(hostDrain(host)[0]!.transactionIdLo, 9);
});

test('e2e: GPA-direct sends carry guest pages the host can read', async (t) => {
  const { m, channel, host } = await open(testSeed(t.name));
  const pages = m.allocator.allocate(2) as number[];
  m.memory.write(pages[1]! * 4096, new Uint8Array([0xee]));
  const packet = VmbPacketAllocate(channel)!;
  VmbPacketSetCompletionRoutine(packet, () => undefined);
  assert.equal(VmbPacketSendWithExternalPfns(packet, null, 0, pages, 2, WAIT), S.STATUS_SUCCESS);
  await m.settle();
  const [sent] = hostDrain(host);
  assert.equal(sent!.type, 9, 'VM_PKT_DATA_USING_GPA_DIRECT');
  // The second page number: after the descriptor (16), the GPA-direct header (8) and the range header and first PFN (8 + 8).
  const secondPfn = new DataView(sent!.bytes.buffer).getUint32(16 + 8 + 8 + 8, true);
  assert.equal(secondPfn, pages[1]);
  assert.equal((m.memory.read(secondPfn * 4096, 1) as Uint8Array)[0], 0xee);
});

test('e2e: the transaction quota, defer-to-passive and the passive level hold over the real bus', async (t) => {
  const order: string[] = [];
  const { m, channel, host } = await open(testSeed(t.name), (ch) =>
    VmbChannelInitSetProcessPacketCallbacks(ch, (_c, packet, buffer) => {
      order.push(String(buffer[0]));
      if (buffer[0] === 1 && !order.includes('deferred')) {
        order.push('deferred');
        VmbChannelPacketDeferToPassive(packet);
        return;
      }
      if (buffer[0] === 3) return; // held: counts against the quota
      VmbChannelPacketComplete(packet, null, 0);
    }, null),
  );
  VmbChannelSetTransactionQuota(channel, 1);
  for (let i = 1; i <= 4; i++) hostSend(host, new Uint8Array([i]));
  await m.settle();
  // 1 deferred then redelivered; 2 completed; 3 held: the quota of 1 stops 4.
  assert.deepEqual(order, ['1', 'deferred', '1', '2', '3']);
  assert.equal(core(channel).incoming.outstanding, 1);
});

test('e2e: the DPC budget splits a long drain into batches on later turns', async (t) => {
  let clock = 0;
  const batches: [number, boolean][] = [];
  const { m, channel, host } = await open(
    testSeed(t.name),
    (ch) =>
      VmbChannelInitSetProcessPacketCallbacksEx(
        ch,
        (_c, packet) => {
          clock += 40; // each packet costs 4 µs of "CPU"
          VmbChannelPacketComplete(packet, null, 0);
        },
        (_c, count, more) => batches.push([count, more]),
      ),
    { now: () => clock },
  );
  assert.equal(VmbChannelSetAllowableDpcCpuUsage(channel, 100), S.STATUS_SUCCESS);
  for (let i = 0; i < 7; i++) host.writer.tryWriteInBand(new Uint8Array([i]));
  if (host.writer.commit()) host.signalPeer();
  await m.settle();
  // 3 × 40 ≥ 100: three packets a batch, the rest on later turns.
  assert.deepEqual(batches, [[3, true], [3, true], [1, false]]);
});

test('e2e: GPADLs: created with the host told, deleted only after the host unmaps', async (t) => {
  const { m, channel, offer } = await open(testSeed(t.name));
  const pages = m.allocator.allocate(2) as number[];
  const id: Out<number> = { value: 0 };
  assert.equal(await m.drive(VmbChannelCreateGpadlFromPfnList(channel, 0, pages, 2, id)), S.STATUS_SUCCESS);
  // The first GPADL the host heard of is the channel's ring GPADL.
  assert.deepEqual(m.hostDevice.gpadls.at(-1), [offer.channelId, id.value]);
  const mapping = m.hostBus.mapGpadl(offer.channelId!, id.value, { writable: true });
  assert.ok(!(mapping instanceof Error));
  let deleted = false;
  void VmbChannelDeleteGpadl(channel, id.value).then(() => (deleted = true));
  await m.settle();
  assert.equal(deleted, false, 'waits while mapped');
  m.hostBus.unmapGpadl(mapping);
  await m.settle();
  assert.equal(deleted, true);
});

test('e2e: VmbChannelSetInterruptLatency programs the guest\'s monitor page for a monitored channel', async (t) => {
  const { m, channel, offer } = await open(testSeed(t.name), undefined, { monitored: true });
  const monitorId = m.guestBus.offers().find((o) => o.channelId === offer.channelId)!.monitorId!;
  const original: Out<number> = { value: -1 };
  assert.equal(VmbChannelSetInterruptLatency(channel, 250, original), S.STATUS_SUCCESS);
  assert.equal(original.value, 1000, 'the host bus\'s default monitor latency (DEFAULT_MONITOR_LATENCY)');
  assert.equal(m.guest.monitor.page.latency(monitorId), 250);
});

test('e2e: same seed, same run', async (t) => {
  const seed = testSeed(t.name);
  const runs: string[][] = [];
  for (let run = 0; run < 2; run++) {
    const { m, channel, driver, host } = await open(seed);
    const log = driver.events;
    sendWaiting(channel, 20);
    for (let i = 0; i < 20; i++) hostSend(host, new Uint8Array([i]), { completion: i % 2 === 0, tid: i });
    await m.settle();
    for (const request of hostDrain(host)) {
      if (request.type === 6) hostComplete(host, request.transactionIdLo, request.transactionIdHi);
    }
    await m.settle();
    log.push(`time ${m.scheduler.now()}`, ...driver.delivered.map((d) => String(d.bytes[0])), ...driver.batches.map((b) => `batch ${b}`));
    runs.push([...log]);
  }
  assert.deepEqual(runs[1], runs[0]);
});
