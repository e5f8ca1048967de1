/**
 * Incoming packets on the idiomatic API: `for await` over `channel.packets()`,
 * completion with a response, failing, backpressure through the transaction
 * quota, the end of iteration at close, and external data; every misuse a
 * KmclError with the status of the interface function underneath.
 *
 * Wire facts (openvmm-vmbus.md §6.3; linux-vmbus.md §A.2): type 6 in-band,
 * 9 GPA-direct, 0xB completion (echoing the request's transaction id); flag 1
 * = completion requested. GPA-direct header: reserved u32, rangeCount u32,
 * then per range byteCount u32, byteOffset u32, u64 PFNs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KmclError, NTSTATUS, VmbChannelPacketComplete, channelFrom, type IncomingPacket } from '../../../src/index.js';
import { hostRead, hostSend, hostSendRaw } from '../support/harness.js';
import { drive, settle } from '../support/settle.js';
import { makeSetting, openTestChannel } from './loopback-setting.js';

const S = NTSTATUS;
const PAGE = 4096;

function u32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

function statusOfThrow(call: () => unknown): number | undefined {
  try {
    call();
  } catch (error) {
    if (error instanceof KmclError) return error.status;
    throw error;
  }
  return undefined;
}

test('for await yields the host\'s packets in order; complete(response) sends a completion echoing the transaction id', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s);
  for (let n = 1; n <= 3; n++) hostSend(host, new Uint8Array([n, n, n]), { completion: true, tid: 100 + n });
  await settle(s.scheduler);
  const seen: number[][] = [];
  const consuming = (async () => {
    for await (const packet of channel.packets()) {
      seen.push([...packet.data]);
      packet.complete(new Uint8Array([0xc0 + packet.data[0]!]));
      assert.equal(packet.isFinished, true);
      assert.equal(packet.data.length, 0, 'the payload is gone once completed');
      if (seen.length === 3) break;
    }
  })();
  await drive(s.scheduler, consuming);
  // Payloads are padded to 8 bytes: the wire carries no unpadded length.
  assert.deepEqual(seen, [[1, 1, 1, 0, 0, 0, 0, 0], [2, 2, 2, 0, 0, 0, 0, 0], [3, 3, 3, 0, 0, 0, 0, 0]]);
  const completions = hostRead(host);
  assert.deepEqual(completions.map((c) => [c.type, c.transactionIdLo, c.payload[0]]), [[0xb, 101, 0xc1], [0xb, 102, 0xc2], [0xb, 103, 0xc3]]);
});

test('completions made in one burst are published together: one signal to the host', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s);
  for (let n = 0; n < 8; n++) hostSend(host, new Uint8Array(8), { completion: true, tid: n });
  await settle(s.scheduler);
  const iterator = channel.packets();
  const packets: IncomingPacket[] = [];
  for (let n = 0; n < 8; n++) packets.push((await iterator.next()).value!);
  const guest = host.peer!;
  const before = guest.signalsSent;
  for (const packet of packets) packet.complete();
  await settle(s.scheduler);
  assert.equal(hostRead(host).length, 8);
  assert.equal(guest.signalsSent - before, 1);
});

test('backpressure: at the transaction quota no more packets leave the ring until one is completed', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s, { transactionQuota: 2 });
  for (let n = 0; n < 5; n++) hostSend(host, new Uint8Array([n]), { completion: true, tid: n });
  await settle(s.scheduler);
  assert.equal(channel.counters.packetsReceived, 2, 'the quota stops the drain');
  const iterator = channel.packets();
  const first = (await iterator.next()).value!;
  await settle(s.scheduler);
  assert.equal(channel.counters.packetsReceived, 2, 'taking a packet does not free its place; completing it does');
  first.complete();
  await settle(s.scheduler);
  assert.equal(channel.counters.packetsReceived, 3);
});

test('close() ends the loops and completes the packets nobody took, with an empty completion', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s);
  let iterations = 0;
  const consuming = (async () => {
    for await (const packet of channel.packets()) {
      iterations++;
      packet.complete();
    }
  })();
  await settle(s.scheduler);
  hostSend(host, new Uint8Array([1]), { completion: true, tid: 7 });
  await settle(s.scheduler);
  assert.equal(iterations, 1);
  const other = channel.packets();
  await other.return!();
  hostSend(host, new Uint8Array([2]), { completion: true, tid: 8 });
  hostSend(host, new Uint8Array([3]), { completion: true, tid: 9 });
  await settle(s.scheduler);
  assert.equal(iterations, 3, 'the running loop takes the new packets');
  await drive(s.scheduler, channel.close());
  await drive(s.scheduler, consuming);
  assert.deepEqual(hostRead(host).map((c) => c.transactionIdLo), [7, 8, 9]);
  assert.equal((await other.next()).done, true, 'a returned iterator is done');
});

test('packets buffered with no consumer at close are completed empty, so the close does not wait for them', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s);
  hostSend(host, new Uint8Array([1, 2]), { completion: true, tid: 41 });
  hostSend(host, new Uint8Array([3]), { completion: true, tid: 42 });
  await settle(s.scheduler);
  await drive(s.scheduler, channel.close());
  const completions = hostRead(host);
  assert.deepEqual(completions.map((c) => [c.type, c.transactionIdLo, c.payload.length]), [[0xb, 41, 0], [0xb, 42, 0]]);
});

test('an iterator taken before open() iterates that open\'s packets; a second open has its own', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s);
  await drive(s.scheduler, channel.close());
  const early = channel.packets();
  const next = early.next();
  await drive(s.scheduler, channel.open());
  const reopenedHost = s.bus.hosts.get(host.channelId)!;
  hostSend(reopenedHost, new Uint8Array([9]), { completion: true, tid: 1 });
  const result = await drive(s.scheduler, next);
  assert.equal(result.value!.data[0], 9);
  result.value!.complete();
});

test('two consumers share the packets: each packet goes to one of them, in arrival order', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s);
  const a = channel.packets();
  const b = channel.packets();
  const taken = [a.next(), b.next(), a.next()];
  for (let n = 0; n < 3; n++) hostSend(host, new Uint8Array([n]), { tid: n });
  const results = await drive(s.scheduler, Promise.all(taken));
  assert.deepEqual(results.map((r) => r.value!.data[0]), [0, 1, 2]);
  for (const r of results) r.value!.complete();
});

test('finishing a packet twice, or completing with a response too big for the ring, is a KmclError', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s);
  hostSend(host, new Uint8Array([1]), { completion: true, tid: 1 });
  hostSend(host, new Uint8Array([2]), { completion: true, tid: 2 });
  await settle(s.scheduler);
  const iterator = channel.packets();
  const first = (await iterator.next()).value!;
  const second = (await iterator.next()).value!;
  first.complete();
  assert.equal(statusOfThrow(() => first.complete()), S.STATUS_INVALID_PARAMETER_1);
  assert.equal(statusOfThrow(() => first.fail()), S.STATUS_INVALID_PARAMETER_1);
  // A response as long as the ring's largest packet cannot fit once its 16-byte descriptor is added.
  const largest = channelFrom(channel.handle)!.sends.ringWriter!.maxPacketSize;
  assert.equal(statusOfThrow(() => second.complete(new Uint8Array(largest))), S.STATUS_INVALID_PARAMETER_3);
  assert.equal(second.isFinished, false, 'a refused completion leaves the packet with the driver');
  second.complete();
});

test('handle: the packet is the table\'s VMBPACKETCOMPLETION; completed through the table, it is finished for the idiomatic API too', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s);
  hostSend(host, new Uint8Array([1]), { completion: true, tid: 3 });
  const packet = (await drive(s.scheduler, channel.packets().next())).value!;
  assert.equal(VmbChannelPacketComplete(packet.handle, new Uint8Array([0x5c]), 1), S.STATUS_SUCCESS);
  assert.equal(statusOfThrow(() => packet.complete()), S.STATUS_INVALID_PARAMETER_1);
  await settle(s.scheduler);
  assert.deepEqual(hostRead(host).map((c) => [c.transactionIdLo, c.payload[0]]), [[3, 0x5c]]);
});

test('fail(): no completion goes back and the channel takes no more packets until it is reopened', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s);
  hostSend(host, new Uint8Array([1]), { completion: true, tid: 1 });
  await settle(s.scheduler);
  const iterator = channel.packets();
  (await iterator.next()).value!.fail();
  hostSend(host, new Uint8Array([2]), { completion: true, tid: 2 });
  await settle(s.scheduler);
  assert.equal(hostRead(host).length, 0);
  assert.equal(channel.counters.packetsReceived, 1);
});

test('external data: read, copyTo, write through the mapping; read-only refuses writes; none is STATUS_NOT_FOUND', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s);
  s.memory.write(30 * PAGE + 4000, new Uint8Array(96).fill(0xab));
  s.memory.write(31 * PAGE, new Uint8Array(104).fill(0xcd));
  const header = new Uint8Array([...u32(0), ...u32(1), ...u32(200), ...u32(4000), ...u32(30), ...u32(0), ...u32(31), ...u32(0)]);
  hostSendRaw(host, 9, header, new Uint8Array([0x11]), { completion: true, tid: 5 });
  hostSend(host, new Uint8Array([0x22]), { completion: true, tid: 6 });
  await settle(s.scheduler);
  const iterator = channel.packets();
  const gpaDirect = (await iterator.next()).value!;
  const inBand = (await iterator.next()).value!;
  assert.equal(gpaDirect.hasExternalData, true);
  assert.equal(inBand.hasExternalData, false);
  assert.equal(statusOfThrow(() => inBand.externalData()), S.STATUS_NOT_FOUND);
  const data = gpaDirect.externalData();
  assert.equal(data.byteLength, 200);
  assert.equal(data.readOnly, false);
  assert.deepEqual([...data.mdl.pieces()].map((p) => [p.byteOffset, p.byteCount, [...p.pfns]]), [[4000, 200, [30, 31]]]);
  const bytes = data.read();
  assert.deepEqual([bytes[0], bytes[95], bytes[96], bytes[199]], [0xab, 0xab, 0xcd, 0xcd]);
  assert.deepEqual([...data.read(94, 4)], [0xab, 0xab, 0xcd, 0xcd]);
  data.write(96, new Uint8Array([1, 2]));
  assert.deepEqual([...s.memory.view(31 * PAGE, 2)], [1, 2], 'written into the peer\'s page');
  const target = new Uint8Array(2);
  data.copyTo(96, target);
  assert.deepEqual([...target], [1, 2]);
  assert.equal(statusOfThrow(() => data.read(150, 100)), S.STATUS_INVALID_PARAMETER);
  const readOnly = gpaDirect.externalData({ readOnly: true });
  assert.equal(statusOfThrow(() => readOnly.write(0, new Uint8Array(1))), S.STATUS_ACCESS_DENIED);
  gpaDirect.complete();
  assert.equal(readOnly.isValid, false, 'the mapping ends with the completion');
  assert.equal(statusOfThrow(() => readOnly.read(0, 1)), S.STATUS_INVALID_DEVICE_STATE);
  inBand.complete();
});

test('external data outside guest memory is STATUS_DATA_ERROR; beyond the channel\'s limits STATUS_INVALID_BUFFER_SIZE', async () => {
  const s = makeSetting();
  const { channel, host } = await openTestChannel(s, { maximumExternalData: { bytes: 100, chainLength: 1 } });
  const outside = new Uint8Array([...u32(0), ...u32(1), ...u32(16), ...u32(0), ...u32(1 << 20), ...u32(0)]);
  const tooBig = new Uint8Array([...u32(0), ...u32(1), ...u32(200), ...u32(0), ...u32(40), ...u32(0)]);
  hostSendRaw(host, 9, outside, new Uint8Array(8), { completion: true, tid: 1 });
  hostSendRaw(host, 9, tooBig, new Uint8Array(8), { completion: true, tid: 2 });
  await settle(s.scheduler);
  const iterator = channel.packets();
  const first = (await iterator.next()).value!;
  const second = (await iterator.next()).value!;
  assert.equal(statusOfThrow(() => first.externalData()), S.STATUS_DATA_ERROR);
  assert.equal(statusOfThrow(() => second.externalData()), S.STATUS_INVALID_BUFFER_SIZE);
  first.complete();
  second.complete();
});
