import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ExternalDataMapping,
  NTSTATUS,
  VMBUS_CHANNEL_PACKET_EXTERNAL_DATA_FLAG_READ_ONLY,
  VMBUS_CHANNEL_PROCESS_PACKET_FLAG_EXTERNAL_DATA,
  VmbChannelInitSetMaximumExternalData,
  VmbChannelPacketComplete,
  VmbChannelPacketGetExternalData,
  VmbChannelSetAllowableDpcCpuUsage,
  VmbChannelInitSetProcessPacketCallbacksEx,
  KmclDeviceObject,
  type Out,
} from '../../src/index.js';
import { core, hostSend, hostSendRaw, makeHarness, openChannel, type Harness } from './support/harness.js';
import { settle } from './support/settle.js';
import { SeededScheduler } from '../../src/hv/index.js';
import { GuestMemory, PageAllocator } from '../../src/memory/index.js';
import { LoopbackBus } from './support/loopback-bus.js';

const S = NTSTATUS;
const PAGE = 4096;

function u32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

/** GPA-direct header (openvmm-vmbus.md §6.3): reserved u32, rangeCount u32, ranges {byteCount, byteOffset, u64 pfns}. */
function gpaHeader(ranges: { byteCount: number; byteOffset: number; pfns: number[] }[], rangeCount = ranges.length): Uint8Array {
  return new Uint8Array([
    ...u32(0),
    ...u32(rangeCount),
    ...ranges.flatMap((r) => [...u32(r.byteCount), ...u32(r.byteOffset), ...r.pfns.flatMap((pfn) => [...u32(pfn), ...u32(0)])]),
  ]);
}

async function receiveGpaDirect(h: Harness, header: Uint8Array, configure?: Parameters<typeof openChannel>[1]) {
  const opened = await openChannel(h, configure);
  opened.driver.hold = true;
  hostSendRaw(opened.host, 9 /* VM_PKT_DATA_USING_GPA_DIRECT */, header, new Uint8Array([0x11]), { completion: true });
  await settle(h.scheduler);
  return opened;
}

test('a GPA-direct packet is delivered with the EXTERNAL_DATA flag; its data maps over the peer\'s ranges', async () => {
  const h = makeHarness();
  h.memory.write(20 * PAGE + 4000, new Uint8Array(96).fill(0xab));
  h.memory.write(22 * PAGE, new Uint8Array(104).fill(0xcd));
  const { driver } = await receiveGpaDirect(h, gpaHeader([{ byteCount: 200, byteOffset: 4000, pfns: [20, 22] }]));
  const [delivered] = driver.delivered;
  assert.equal(delivered!.flags, VMBUS_CHANNEL_PROCESS_PACKET_FLAG_EXTERNAL_DATA);
  assert.deepEqual([...delivered!.bytes], [0x11, 0, 0, 0, 0, 0, 0, 0]);
  const box: Out<ExternalDataMapping | null> = { value: null };
  assert.equal(VmbChannelPacketGetExternalData(delivered!.packet, 0, box), S.STATUS_SUCCESS);
  const mapping = box.value!;
  assert.equal(mapping.byteLength, 200);
  assert.deepEqual(
    [...mapping.mdl.pieces()].map((p) => [p.byteOffset, p.byteCount, [...p.pfns]]),
    [[4000, 200, [20, 22]]],
  );
  const bytes = new Uint8Array(200);
  assert.equal(mapping.copyTo(0, bytes), S.STATUS_SUCCESS);
  assert.deepEqual([...bytes], [...new Array(96).fill(0xab), ...new Array(104).fill(0xcd)]);
  assert.equal(mapping.copyFrom(0, new Uint8Array([1, 2])), S.STATUS_SUCCESS, 'writable without READ_ONLY');
  assert.deepEqual([...h.memory.read(20 * PAGE + 4000, 2) as Uint8Array], [1, 2]);
  assert.equal(mapping.copyTo(199, new Uint8Array(2)), S.STATUS_INVALID_PARAMETER, 'bounded by the ranges');
  VmbChannelPacketComplete(delivered!.packet, null, 0);
  assert.equal(mapping.isValid, false, 'invalid once the packet is completed');
  assert.equal(mapping.copyTo(0, bytes), S.STATUS_INVALID_DEVICE_STATE);
});

test('GPA-direct packets read in one batch each map their own ranges (the second sits past the first in the reader\'s copy)', async () => {
  const h = makeHarness();
  const { host, driver } = await openChannel(h);
  driver.hold = true;
  hostSendRaw(host, 9 /* VM_PKT_DATA_USING_GPA_DIRECT */, gpaHeader([{ byteCount: 16, byteOffset: 8, pfns: [30] }]), new Uint8Array([1]));
  hostSendRaw(host, 9, gpaHeader([{ byteCount: 5000, byteOffset: 100, pfns: [31, 32] }]), new Uint8Array([2]));
  await settle(h.scheduler);
  assert.equal(driver.delivered.length, 2);
  const ranges = driver.delivered.map((delivered) => {
    const box: Out<ExternalDataMapping | null> = { value: null };
    assert.equal(VmbChannelPacketGetExternalData(delivered.packet, 0, box), S.STATUS_SUCCESS);
    return [delivered.bytes[0], [...box.value!.mdl.pieces()].map((p) => [p.byteOffset, p.byteCount, [...p.pfns]])];
  });
  assert.deepEqual(ranges, [
    [1, [[8, 16, [30]]]],
    [2, [[100, 5000, [31, 32]]]],
  ]);
});

test('READ_ONLY mapping refuses writes', async () => {
  const h = makeHarness();
  const { driver } = await receiveGpaDirect(h, gpaHeader([{ byteCount: 16, byteOffset: 0, pfns: [30] }]));
  const box: Out<ExternalDataMapping | null> = { value: null };
  const packet = driver.delivered[0]!.packet;
  assert.equal(VmbChannelPacketGetExternalData(packet, VMBUS_CHANNEL_PACKET_EXTERNAL_DATA_FLAG_READ_ONLY, box), S.STATUS_SUCCESS);
  assert.equal(box.value!.readOnly, true);
  assert.equal(box.value!.copyFrom(0, new Uint8Array([9])), S.STATUS_ACCESS_DENIED);
  assert.equal((h.memory.read(30 * PAGE, 1) as Uint8Array)[0], 0, 'guest memory unchanged');
});

test('external data outside guest memory or beyond the channel\'s limits is refused', async () => {
  const outside = makeHarness();
  const { driver } = await receiveGpaDirect(outside, gpaHeader([{ byteCount: 16, byteOffset: 0, pfns: [100_000] }]));
  const box: Out<ExternalDataMapping | null> = { value: null };
  assert.equal(VmbChannelPacketGetExternalData(driver.delivered[0]!.packet, 0, box), S.STATUS_DATA_ERROR);
  assert.equal(box.value, null);

  const limited = makeHarness();
  const big = await receiveGpaDirect(limited, gpaHeader([{ byteCount: 2 * PAGE, byteOffset: 0, pfns: [40, 41] }]), (channel) =>
    VmbChannelInitSetMaximumExternalData(channel, PAGE, 4),
  );
  assert.equal(VmbChannelPacketGetExternalData(big.driver.delivered[0]!.packet, 0, box), S.STATUS_INVALID_BUFFER_SIZE);
});

test('VmbChannelPacketGetExternalData argument and packet checks', async () => {
  const h = makeHarness();
  const { host, driver } = await receiveGpaDirect(h, gpaHeader([{ byteCount: 16, byteOffset: 0, pfns: [30] }]));
  hostSend(host, new Uint8Array(8));
  hostSendRaw(host, 7 /* VM_PKT_DATA_USING_XFER_PAGES */, new Uint8Array(8), new Uint8Array(8));
  await settle(h.scheduler);
  const [external, inBand, transfer] = driver.delivered;
  const box: Out<ExternalDataMapping | null> = { value: null };
  const cases: [string, unknown[], number][] = [
    ['not a packet', [{}, 0, box], S.STATUS_INVALID_PARAMETER_1],
    ['unknown flag', [external!.packet, 2, box], S.STATUS_INVALID_PARAMETER_2],
    ['no out-parameter', [external!.packet, 0, null], S.STATUS_INVALID_PARAMETER_3],
    ['an in-band packet', [inBand!.packet, 0, box], S.STATUS_NOT_FOUND],
    ['transfer-page external data', [transfer!.packet, 0, box], S.STATUS_NOT_SUPPORTED],
  ];
  for (const [name, args, status] of cases) {
    assert.equal((VmbChannelPacketGetExternalData as (...a: unknown[]) => number)(...args), status, name);
  }
  assert.equal(transfer!.flags, VMBUS_CHANNEL_PROCESS_PACKET_FLAG_EXTERNAL_DATA);
  driver.completeAll();
  assert.equal(VmbChannelPacketGetExternalData(external!.packet, 0, box), S.STATUS_INVALID_PARAMETER_1, 'after completion');
});

test('a malformed GPA-direct packet (no ranges, too few page numbers) stops the queue and is counted', async () => {
  for (const header of [gpaHeader([], 0), gpaHeader([{ byteCount: 5000, byteOffset: 0, pfns: [1] }])]) {
    const h = makeHarness();
    const { channel, driver } = await receiveGpaDirect(h, header);
    assert.equal(driver.delivered.length, 0);
    assert.equal(core(channel).counters.malformedPackets, 1);
  }
});

test('the DPC budget ends a DISPATCH_LEVEL batch early and the drain continues on a later turn', async () => {
  const seeded = new SeededScheduler(7);
  let clock = 0;
  // A clock that moves 60 units (100 ns) per packet processed, on the seeded scheduler's turns.
  const scheduler = { now: () => clock, schedule: (task: () => void, delay: number) => seeded.schedule(task, delay) };
  const memory = new GuestMemory(64);
  const bus = new LoopbackBus(seeded);
  const device = KmclDeviceObject.createVmbus({ bus, memory, allocator: new PageAllocator(memory), scheduler });
  const h: Harness = { scheduler: seeded, memory, allocator: new PageAllocator(new GuestMemory(2)), bus, device };
  const batches: [number, boolean][] = [];
  const { channel, host } = await openChannel(h, (ch) =>
    VmbChannelInitSetProcessPacketCallbacksEx(
      ch,
      (_c, packet) => {
        clock += 60;
        VmbChannelPacketComplete(packet, null, 0);
      },
      (_c, count, more) => batches.push([count, more]),
    ),
  );
  assert.equal(VmbChannelSetAllowableDpcCpuUsage(channel, 100), S.STATUS_SUCCESS);
  for (let i = 0; i < 5; i++) host.writer.tryWriteInBand(new Uint8Array([i]));
  if (host.writer.commit()) host.signalPeer();
  await settle(seeded);
  // 60 + 60 ≥ 100 after two packets: the batch ends with more pending, then two more, then the last.
  assert.deepEqual(batches, [[2, true], [2, true], [1, false]]);
  assert.equal(VmbChannelSetAllowableDpcCpuUsage(channel, -1), S.STATUS_INVALID_PARAMETER_2);
  assert.equal(VmbChannelSetAllowableDpcCpuUsage(null as never, 1), S.STATUS_INVALID_PARAMETER_1);
});
