import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NTSTATUS,
  VMBUS_CHANNEL_FORMAT_FLAG_PAGED_BUFFER,
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION,
  VmbChannelInitSetMaximumPacketSize,
  VmbClientChannelInitSetRingBufferPageCount,
  VmbPacketAllocate,
  VmbPacketGetPointer,
  VmbPacketSend,
  VmbPacketSetCompletionRoutine,
  VmbPacketSetCompletionRoutineEx,
  VmbPacketSetPointer,
  type VMBPACKET,
} from '../../src/index.js';
import { core, hostComplete, hostRead, makeHarness, openChannel } from './support/harness.js';
import { settle } from './support/settle.js';

const S = NTSTATUS;
const WAIT = VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION;

interface Completion {
  readonly status: number;
  readonly bytes: number[];
}

function recordCompletions(packet: VMBPACKET): Completion[] {
  const completions: Completion[] = [];
  VmbPacketSetCompletionRoutine(packet, (_packet, status, buffer, length) => {
    completions.push({ status, bytes: [...buffer.subarray(0, length)] });
  });
  return completions;
}

test('an in-band send is one type-6 packet whose routine runs once it is in the ring', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h);
  const packet = VmbPacketAllocate(channel)!;
  let sawInRing = false;
  VmbPacketSetCompletionRoutine(packet, (completed, status, _buffer, length) => {
    assert.equal(completed, packet);
    assert.equal(status, S.STATUS_SUCCESS);
    assert.equal(length, 0);
    // Already published: the host can read it.
    sawInRing = host.reader.tryRead();
  });
  assert.equal(VmbPacketSend(packet, new Uint8Array([1, 2, 3, 4, 5]), 5, null, 0), S.STATUS_SUCCESS);
  assert.equal(sawInRing, true);
  const view = host.reader.packet;
  // Descriptor (openvmm-vmbus.md §6.3): type u16 = 6, dataOffset8 = 2, length8 = (16 + 8) / 8 = 3, flags = 0.
  assert.deepEqual([...view.packetBytes.subarray(0, 8)], [6, 0, 2, 0, 3, 0, 0, 0]);
  assert.deepEqual([...view.packetBytes.subarray(16)], [1, 2, 3, 4, 5, 0, 0, 0], 'payload, zero padding');
});

test('WAIT_FOR_COMPLETION: flag 1 on the wire; the routine runs once with the peer\'s completion payload', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h);
  const packet = VmbPacketAllocate(channel)!;
  const completions = recordCompletions(packet);
  VmbPacketSend(packet, new Uint8Array(8), 8, null, WAIT);
  const [sent] = hostRead(host);
  // PACKET_FLAG_COMPLETION_REQUESTED = 1 (openvmm-vmbus.md §6.3, linux VMBUS_DATA_PACKET_FLAG_COMPLETION_REQUESTED).
  assert.equal(sent!.flags, 1);
  await settle(h.scheduler);
  assert.equal(completions.length, 0, 'not before the completion');
  hostComplete(host, sent!.transactionIdLo, sent!.transactionIdHi, new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2]));
  await settle(h.scheduler);
  assert.deepEqual(completions, [{ status: S.STATUS_SUCCESS, bytes: [9, 8, 7, 6, 5, 4, 3, 2] }]);
});

test('completions read in one batch each reach their routine with their own payload, small or large', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h);
  // 8 and 16 bytes are copied into the queue's reused buffer; 304 bytes (over 256) get a view of their own.
  const payloads = [[1, 2, 3, 4, 5, 6, 7, 8], Array.from({ length: 16 }, (_, i) => 100 + i), [9, 9, 9, 9, 9, 9, 9, 9], Array.from({ length: 304 }, (_, i) => i & 0xff)];
  const records = payloads.map(() => {
    const packet = VmbPacketAllocate(channel)!;
    const completions = recordCompletions(packet);
    VmbPacketSend(packet, new Uint8Array(8), 8, null, WAIT);
    return completions;
  });
  const sent = hostRead(host);
  // All four completions are in the ring before the guest drains it: one read-ahead takes them.
  sent.forEach((request, i) => hostComplete(host, request.transactionIdLo, request.transactionIdHi, Uint8Array.from(payloads[i]!)));
  await settle(h.scheduler);
  assert.deepEqual(
    records,
    payloads.map((bytes) => [{ status: S.STATUS_SUCCESS, bytes }]),
  );
});

test('forged, repeated and stale completion ids are dropped and counted, never delivered', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h);
  const packet = VmbPacketAllocate(channel)!;
  const completions = recordCompletions(packet);
  VmbPacketSend(packet, new Uint8Array(8), 8, null, WAIT);
  const [first] = hostRead(host);
  hostComplete(host, first!.transactionIdLo, first!.transactionIdHi ^ 1); // wrong generation
  hostComplete(host, 0xffff_ffff, 0xffff_ffff); // no such slot
  hostComplete(host, first!.transactionIdLo + 1, first!.transactionIdHi); // a slot with no packet
  await settle(h.scheduler);
  assert.equal(completions.length, 0);
  assert.equal(core(channel).counters.unknownCompletions, 3);
  hostComplete(host, first!.transactionIdLo, first!.transactionIdHi);
  hostComplete(host, first!.transactionIdLo, first!.transactionIdHi); // repeated
  await settle(h.scheduler);
  assert.equal(completions.length, 1);
  assert.equal(core(channel).counters.unknownCompletions, 4);
  // Sent again: the old id is stale.
  VmbPacketSend(packet, new Uint8Array(8), 8, null, WAIT);
  const [second] = hostRead(host);
  assert.equal(second!.transactionIdLo, first!.transactionIdLo, 'same slot');
  assert.notEqual(second!.transactionIdHi, first!.transactionIdHi, 'new generation');
  hostComplete(host, first!.transactionIdLo, first!.transactionIdHi);
  await settle(h.scheduler);
  assert.equal(completions.length, 1);
  assert.equal(core(channel).counters.unknownCompletions, 5);
  assert.equal(core(channel).lifecycle, 'opened', 'the channel carries on');
});

test('the default completion routine frees the packet; the Ex routine gets its context', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h);
  const packet = VmbPacketAllocate(channel)!;
  VmbPacketSetPointer(packet, 'x');
  VmbPacketSend(packet, new Uint8Array(4), 4, null, 0);
  assert.equal(VmbPacketGetPointer(packet), null, 'freed by the default routine');
  const again = VmbPacketAllocate(channel)!;
  assert.equal(again, packet);
  const seen: unknown[] = [];
  VmbPacketSetCompletionRoutineEx(again, (_p, status, _b, _l, context) => seen.push([status, context]), 'ctx');
  VmbPacketSend(again, null, 0, null, 0);
  assert.deepEqual(seen, [[S.STATUS_SUCCESS, 'ctx']]);
  hostRead(host);
});

test('a full ring queues sends in order, sets the pending send size, and resumes when the host reads', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h, (ch) => {
    VmbChannelInitSetMaximumPacketSize(ch, 1024);
    VmbClientChannelInitSetRingBufferPageCount(ch, 2, 2);
  });
  const order: number[] = [];
  const payload = new Uint8Array(1000);
  for (let i = 0; i < 8; i++) {
    const packet = VmbPacketAllocate(channel)!;
    VmbPacketSetCompletionRoutine(packet, () => order.push(i));
    payload[0] = i;
    assert.equal(VmbPacketSend(packet, payload, 1000, null, VMBUS_CHANNEL_FORMAT_FLAG_PAGED_BUFFER), S.STATUS_SUCCESS);
  }
  // A 4 KiB data page holds three 1032-byte packets (16 + 1000 padded + 8 trailer) and leaves the reserved 8 bytes.
  assert.deepEqual(order, [0, 1, 2]);
  assert.equal(core(channel).sends.queuedCount, 5);
  // RING_CONTROL_WORD.pendingSendSize (word 3): a quarter of the ring at least (src/ring/ring-writer.ts requestSpace).
  assert.ok(Atomics.load(host.reader.memory.control, 3) > 0);
  const received: number[] = [];
  for (let round = 0; round < 4 && received.length < 8; round++) {
    for (const packet of hostRead(host)) received.push(packet.payload[0]!);
    await settle(h.scheduler);
  }
  assert.deepEqual(received, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7]);
});

test('without PAGED_BUFFER a queued send reads the caller\'s buffer when it enters the ring; with it, a copy made at once', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h, (ch) => {
    VmbChannelInitSetMaximumPacketSize(ch, 4040);
    VmbClientChannelInitSetRingBufferPageCount(ch, 2, 2);
  });
  const filler = VmbPacketAllocate(channel)!;
  // 16 + 4040 + 8 = 4064 of the 4096 data bytes: 24 left, less than a 32-byte packet needs with the 8 reserved.
  VmbPacketSend(filler, new Uint8Array(4040), 4040, null, 0);
  const shared = new Uint8Array([1, 1, 1, 1]);
  const copied = new Uint8Array([2, 2, 2, 2]);
  VmbPacketSend(VmbPacketAllocate(channel)!, shared, 4, null, 0);
  VmbPacketSend(VmbPacketAllocate(channel)!, copied, 4, null, VMBUS_CHANNEL_FORMAT_FLAG_PAGED_BUFFER);
  assert.equal(core(channel).sends.queuedCount, 2);
  shared.fill(5);
  copied.fill(6);
  const payloads: number[][] = [];
  for (let round = 0; round < 3; round++) {
    for (const packet of hostRead(host)) payloads.push([...packet.payload.subarray(0, 4)]);
    await settle(h.scheduler);
  }
  assert.deepEqual(payloads.slice(1), [[5, 5, 5, 5], [2, 2, 2, 2]]);
});

test('sends before the channel opens are queued and go out, in order, once it starts', async () => {
  const h = makeHarness();
  const results: number[] = [];
  const { host } = await openChannel(h, (channel) => {
    for (let i = 0; i < 3; i++) {
      const packet = VmbPacketAllocate(channel)!;
      VmbPacketSetCompletionRoutine(packet, (_p, status) => results.push(status));
      assert.equal(VmbPacketSend(packet, new Uint8Array([i]), 1, null, 0), S.STATUS_SUCCESS);
    }
  });
  assert.deepEqual(results, [0, 0, 0]);
  assert.deepEqual(hostRead(host).map((p) => p.payload[0]), [0, 1, 2]);
});

test('VmbPacketSend rejects bad arguments with the parameter\'s status and sends nothing', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h, (ch) => VmbChannelInitSetMaximumPacketSize(ch, 64));
  const busy = VmbPacketAllocate(channel)!;
  VmbPacketSetCompletionRoutine(busy, () => undefined);
  VmbPacketSend(busy, null, 0, null, WAIT);
  hostRead(host);
  const idle = VmbPacketAllocate(channel)!;
  const memory = h.memory;
  const cases: [string, unknown[], number][] = [
    ['not a packet', [{}, new Uint8Array(4), 4, null, 0], S.STATUS_INVALID_PARAMETER_1],
    ['a packet still waiting for its completion', [busy, new Uint8Array(4), 4, null, 0], S.STATUS_INVALID_PARAMETER_1],
    ['buffer shorter than the length', [idle, new Uint8Array(4), 5, null, 0], S.STATUS_INVALID_PARAMETER_2],
    ['buffer not bytes', [idle, [1, 2, 3, 4], 4, null, 0], S.STATUS_INVALID_PARAMETER_2],
    ['no buffer with a length', [idle, null, 4, null, 0], S.STATUS_INVALID_PARAMETER_2],
    ['length above the maximum packet size', [idle, new Uint8Array(65), 65, null, 0], S.STATUS_INVALID_PARAMETER_3],
    ['length not a UINT32', [idle, new Uint8Array(4), -4, null, 0], S.STATUS_INVALID_PARAMETER_3],
    ['MDL not an MDL', [idle, null, 0, { pfns: [1] }, WAIT], S.STATUS_INVALID_PARAMETER_4],
    ['unknown flag', [idle, null, 0, null, 0x8], S.STATUS_INVALID_PARAMETER_5],
    ['FORCE_MDL_LENGTH is not a VmbPacketSend flag', [idle, null, 0, null, 0x2], S.STATUS_INVALID_PARAMETER_5],
  ];
  void memory;
  for (const [name, args, status] of cases) {
    assert.equal((VmbPacketSend as (...a: unknown[]) => number)(...args), status, name);
  }
  assert.deepEqual(hostRead(host), [], 'nothing was sent');
  assert.equal(VmbPacketGetPointer(idle), null, 'the idle packet is still allocated (pointer unset)');
  assert.equal(VmbPacketSend(idle, null, 0, null, 0), S.STATUS_SUCCESS, 'and still sendable');
});
