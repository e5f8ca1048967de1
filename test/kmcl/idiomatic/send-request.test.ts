/**
 * Channel.send and Channel.request: the packets they put on the wire, what
 * they resolve with, and every failure as a KmclError with the status of the
 * VmbPacketSend* / VmbChannelSendSynchronousRequest call underneath.
 *
 * Wire facts (openvmm-vmbus.md §6.3; linux-vmbus.md §A.2): descriptor = type
 * u16, dataOffset8 u16, length8 u16, flags u16, transaction id u64; type 6
 * in-band, 9 GPA-direct, 0xB completion; flag 1 = completion requested.
 * GPA-direct header after the descriptor: reserved u32, rangeCount u32, then
 * per range byteCount u32, byteOffset u32, one u64 PFN per page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mdl } from '../../../src/memory/index.js';
import { NTSTATUS, VmbChannelInitSetMaximumPacketCount } from '../../../src/index.js';
import { TEST_INTERFACE, hostComplete, hostRead } from '../support/harness.js';
import { advance, drive, settle } from '../support/settle.js';
import { makeSetting, openTestChannel, outcome, statusOf } from './loopback-setting.js';

const S = NTSTATUS;

function u32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}
function u64(value: number): number[] {
  return [...u32(value), 0, 0, 0, 0];
}

test('send() without waiting: one in-band packet, no completion requested, resolved with no bytes once in the ring', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s);
  const response = await drive(s.scheduler, channel.send(new Uint8Array([1, 2, 3, 4, 5])));
  assert.equal(response.length, 0);
  const [packet] = hostRead(host);
  // type 6, dataOffset8 2, length8 (16 + 8) / 8 = 3, flags 0; payload zero-padded to 8.
  assert.deepEqual([...packet!.bytes.subarray(0, 8)], [6, 0, 2, 0, 3, 0, 0, 0]);
  assert.deepEqual([...packet!.payload], [1, 2, 3, 4, 5, 0, 0, 0]);
});

test('send({ waitForCompletion }) sets flag 1 and resolves with the peer\'s completion payload (a copy)', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s);
  const sending = channel.send(new Uint8Array(8).fill(0x5a), { waitForCompletion: true });
  await settle(s.scheduler); // sends made in one burst of promise reactions are published together, after it
  const [request] = hostRead(host);
  assert.equal(request!.flags, 1);
  hostComplete(host, request!.transactionIdLo, request!.transactionIdHi, new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2]));
  assert.deepEqual([...(await drive(s.scheduler, sending))], [9, 8, 7, 6, 5, 4, 3, 2]);
});

test('sends made in one burst are published together: one signal to the host', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s);
  const guest = host.peer!;
  const before = guest.signalsSent;
  const sends = Array.from({ length: 8 }, (_, n) => channel.send(new Uint8Array([n])));
  await drive(s.scheduler, Promise.all(sends));
  assert.deepEqual(hostRead(host).map((p) => p.payload[0]), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(guest.signalsSent - before, 1);
});

test('a send before the channel runs waits in order; the payload is copied unless copy is false', async () => {
  const s = makeSetting();
  s.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: '0a0e63d1-08b3-4d47-8fd1-6b0a39e3e93c' });
  const channel = s.vmbus.createChannel({ interfaceId: TEST_INTERFACE });
  const copied = new Uint8Array(8).fill(1);
  const borrowed = new Uint8Array(8).fill(2);
  const sends = [channel.send(copied), channel.send(borrowed, { copy: false })];
  copied.fill(0xee);
  borrowed.fill(0xff);
  await drive(s.scheduler, channel.open());
  await drive(s.scheduler, Promise.all(sends));
  const host = s.bus.hosts.values().next().value!;
  assert.deepEqual(hostRead(host).map((p) => p.payload[0]), [1, 0xff]);
});

test('external data from a guest buffer goes GPA-direct: type 9 with one range over its pages', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s);
  const buffer = s.vmbus.allocateBuffer(5000);
  const [first, second] = buffer.pfns;
  const sending = channel.send(new Uint8Array([7]), { external: buffer });
  await settle(s.scheduler);
  const [packet] = hostRead(host);
  assert.equal(packet!.type, 9);
  assert.equal(packet!.flags, 1, 'external data waits for the completion by default');
  assert.deepEqual(
    [...packet!.bytes.subarray(16, 16 + 8 + 8 + 16)],
    [...u32(0), ...u32(1), ...u32(5000), ...u32(0), ...u64(first!), ...u64(second!)],
  );
  hostComplete(host, packet!.transactionIdLo, packet!.transactionIdHi);
  await drive(s.scheduler, sending);
});

test('external data as an MDL slice (VmbPacketSendWithExternalMdl) and as whole pages (…WithExternalPfns)', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s);
  const buffer = s.vmbus.allocateBuffer(8192);
  const [first, second] = buffer.pfns;
  const sends = [
    statusOf(channel.send(new Uint8Array(8), { external: { mdl: buffer.mdl, offset: 4000, length: 200 } })),
    statusOf(channel.send(new Uint8Array(8), { external: { pfns: buffer.pfns, count: 1 } })),
  ];
  await settle(s.scheduler);
  const [slice, pages] = hostRead(host);
  assert.deepEqual([...slice!.bytes.subarray(16, 48)], [...u32(0), ...u32(1), ...u32(200), ...u32(4000), ...u64(first!), ...u64(second!)]);
  assert.deepEqual([...pages!.bytes.subarray(16, 40)], [...u32(0), ...u32(1), ...u32(4096), ...u32(0), ...u64(first!)]);
  await drive(s.scheduler, channel.close());
  assert.deepEqual(await Promise.all(sends), [{ status: S.STATUS_CANCELLED }, { status: S.STATUS_CANCELLED }]);
});

test('send failures are KmclError with the VmbPacketSend* status', async () => {
  const s = makeSetting();
  const { channel } = await openTestChannel(s, { maximumPacketSize: 64 });
  const buffer = s.vmbus.allocateBuffer(4096);
  const cases: [string, Promise<unknown>, number][] = [
    ['a payload above the maximum packet size', channel.send(new Uint8Array(65)), S.STATUS_INVALID_PARAMETER_3],
    ['an MDL outside guest memory', channel.send(new Uint8Array(8), { external: Mdl.fromPfns([1 << 20]) }), S.STATUS_INVALID_PARAMETER_4],
    ['external data without waiting', channel.send(new Uint8Array(8), { external: buffer, waitForCompletion: false }), S.STATUS_INVALID_PARAMETER_5],
    ['an MDL offset past its end', channel.send(new Uint8Array(8), { external: { mdl: buffer.mdl, offset: 4096 } }), S.STATUS_INVALID_PARAMETER_5],
    ['a PFN count of 0', channel.send(new Uint8Array(8), { external: { pfns: buffer.pfns, count: 0 } }), S.STATUS_INVALID_PARAMETER_5],
  ];
  const outcomes = cases.map(([, sending]) => statusOf(sending));
  await settle(s.scheduler);
  for (const [index, [what, , status]] of cases.entries()) assert.deepEqual(await outcomes[index], { status }, what);
});

test('with no packet object left (VmbChannelInitSetMaximumPacketCount on the same handle) send fails with STATUS_INSUFFICIENT_RESOURCES', async () => {
  const s = makeSetting();
  s.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: '0a0e63d1-08b3-4d47-8fd1-6b0a39e3e93c' });
  const channel = s.vmbus.createChannel({ interfaceId: TEST_INTERFACE });
  assert.equal(VmbChannelInitSetMaximumPacketCount(channel.handle, 1), S.STATUS_SUCCESS);
  await drive(s.scheduler, channel.open());
  const waiting = statusOf(channel.send(new Uint8Array(8), { waitForCompletion: true }));
  assert.deepEqual(await outcome(s, channel.send(new Uint8Array(8))), { status: S.STATUS_INSUFFICIENT_RESOURCES });
  await drive(s.scheduler, channel.close());
  assert.deepEqual(await waiting, { status: S.STATUS_CANCELLED });
});

test('sends waiting for completions end with STATUS_CANCELLED on close and STATUS_DEVICE_REMOVED on rescind', async () => {
  const s = makeSetting();
  const { channel, offer } = await openTestChannel(s);
  const cancelled = statusOf(channel.send(new Uint8Array(8), { waitForCompletion: true }));
  await drive(s.scheduler, channel.close());
  assert.deepEqual(await cancelled, { status: S.STATUS_CANCELLED });
  await drive(s.scheduler, channel.open());
  const removed = statusOf(channel.send(new Uint8Array(8), { waitForCompletion: true }));
  s.bus.rescind(offer.channelId);
  await settle(s.scheduler);
  assert.deepEqual(await removed, { status: S.STATUS_DEVICE_REMOVED });
});

test('request() resolves with the completion payload (padded to 8, as the wire carries it)', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s);
  const requesting = channel.request(new Uint8Array([1, 2, 3]));
  await settle(s.scheduler);
  const [request] = hostRead(host);
  assert.deepEqual([request!.type, request!.flags], [6, 1]);
  hostComplete(host, request!.transactionIdLo, request!.transactionIdHi, new Uint8Array([4, 5, 6]));
  assert.deepEqual([...(await drive(s.scheduler, requesting))], [4, 5, 6, 0, 0, 0, 0, 0]);
});

test('request() failures: timeout (STATUS_CANCELLED), short capacity (STATUS_BUFFER_OVERFLOW), close (STATUS_DEVICE_REMOVED), bad timeout', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s);
  const timingOut = statusOf(channel.request(new Uint8Array(8), { timeout: 5 }));
  await advance(s.scheduler, 5 * 10_000);
  assert.deepEqual(await timingOut, { status: S.STATUS_CANCELLED });
  hostRead(host);
  const overflowing = statusOf(channel.request(new Uint8Array(8), { responseCapacity: 8 }));
  await settle(s.scheduler);
  const [request] = hostRead(host);
  hostComplete(host, request!.transactionIdLo, request!.transactionIdHi, new Uint8Array(16));
  await settle(s.scheduler);
  assert.deepEqual(await overflowing, { status: S.STATUS_BUFFER_OVERFLOW });
  assert.deepEqual(await outcome(s, channel.request(new Uint8Array(8), { timeout: -1 })), { status: S.STATUS_INVALID_PARAMETER });
  const closing = statusOf(channel.request(new Uint8Array(8)));
  await drive(s.scheduler, channel.close());
  assert.deepEqual(await closing, { status: S.STATUS_DEVICE_REMOVED });
});

test('request({ waitForCompletion: false }) resolves with no bytes once the packet is in the ring; external data goes GPA-direct', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s);
  assert.deepEqual([...(await drive(s.scheduler, channel.request(new Uint8Array(8), { waitForCompletion: false })))], []);
  const buffer = s.vmbus.allocateBuffer(100);
  const requesting = channel.request(new Uint8Array(8), { external: buffer });
  await settle(s.scheduler);
  const [plain, external] = hostRead(host);
  assert.deepEqual([plain!.type, plain!.flags, external!.type, external!.flags], [6, 0, 9, 1]);
  hostComplete(host, external!.transactionIdLo, external!.transactionIdHi);
  assert.equal((await drive(s.scheduler, requesting)).length, 0);
});
