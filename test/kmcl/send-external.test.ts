import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NTSTATUS,
  VMBUS_CHANNEL_FORMAT_FLAG_FORCE_MDL_LENGTH,
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION,
  VMBUS_CHANNEL_INIT_FLAG_IS_PIPE,
  VmbChannelInitSetFlags,
  VmbChannelInitSetMaximumExternalData,
  VmbPacketAllocate,
  VmbPacketSend,
  VmbPacketSendWithExternalMdl,
  VmbPacketSendWithExternalPfns,
  VmbPacketSetCompletionRoutine,
  type VMBCHANNEL,
  type VMBPACKET,
} from '../../src/index.js';
import { Mdl } from '../../src/memory/index.js';
import { core, hostRead, hostSend, makeHarness, openChannel } from './support/harness.js';
import { settle } from './support/settle.js';

const S = NTSTATUS;
const WAIT = VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION;
const FORCE = VMBUS_CHANNEL_FORMAT_FLAG_FORCE_MDL_LENGTH;

function u32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}
function u64(value: number): number[] {
  return [...u32(value % 2 ** 32), ...u32(Math.floor(value / 2 ** 32))];
}

/** GPA-direct header (openvmm-vmbus.md §6.3, vmbus_ring lib.rs:181-184, gparange.rs:13-18): reserved, count, ranges. */
function gpaDirectHeader(ranges: { byteCount: number; byteOffset: number; pfns: number[] }[]): number[] {
  return [
    ...u32(0),
    ...u32(ranges.length),
    ...ranges.flatMap((range) => [...u32(range.byteCount), ...u32(range.byteOffset), ...range.pfns.flatMap(u64)]),
  ];
}

/** A packet with a routine that does nothing (so it stays allocated). */
function packetOf(channel: VMBCHANNEL): VMBPACKET {
  const packet = VmbPacketAllocate(channel)!;
  VmbPacketSetCompletionRoutine(packet, () => undefined);
  return packet;
}

test('VmbPacketSend with an MDL sends a type-9 packet with the MDL\'s range before the payload', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h);
  const mdl = Mdl.fromPfns([5, 6], 100, 5000);
  assert.equal(VmbPacketSend(packetOf(channel), new Uint8Array([0xa1, 0xa2]), 2, mdl, WAIT), S.STATUS_SUCCESS);
  const [sent] = hostRead(host);
  assert.equal(sent!.type, 9, 'VM_PKT_DATA_USING_GPA_DIRECT (openvmm-vmbus.md §6.3)');
  // dataOffset8 = (16 + 8 + 8 + 2 * 8) / 8 = 6; length8 = 6 + 1 (a 2-byte payload padded to 8); flags 1.
  assert.deepEqual([...sent!.bytes.subarray(0, 8)], [9, 0, 6, 0, 7, 0, 1, 0]);
  assert.deepEqual([...sent!.bytes.subarray(16, 48)], gpaDirectHeader([{ byteCount: 5000, byteOffset: 100, pfns: [5, 6] }]));
  assert.deepEqual([...sent!.payload], [0xa1, 0xa2, 0, 0, 0, 0, 0, 0]);
});

test('VmbPacketSendWithExternalMdl sends MdlLength bytes from MdlOffset of a chain (0: to the end)', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h);
  const chain = Mdl.chain([Mdl.fromPfns([7], 0, 4096), Mdl.fromPfns([9], 0, 100)]);
  assert.equal(VmbPacketSendWithExternalMdl(packetOf(channel), null, 0, chain, 4000, 150, WAIT), S.STATUS_SUCCESS);
  assert.equal(VmbPacketSendWithExternalMdl(packetOf(channel), null, 0, chain, 10, 0, WAIT), S.STATUS_SUCCESS);
  const [slice, rest] = hostRead(host);
  // A page-aligned join makes one range (src/memory/mdl.ts toGpaRanges).
  assert.deepEqual([...slice!.bytes.subarray(16, 48)], gpaDirectHeader([{ byteCount: 150, byteOffset: 4000, pfns: [7, 9] }]));
  assert.deepEqual([...rest!.bytes.subarray(16, 48)], gpaDirectHeader([{ byteCount: 4186, byteOffset: 10, pfns: [7, 9] }]));
});

test('FORCE_MDL_LENGTH takes MdlLength from the first MDL past its byte count, up to the end of its pages', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h);
  const chain = Mdl.chain([Mdl.fromPfns([3], 10, 100), Mdl.fromPfns([4], 0, 50)]);
  assert.equal(VmbPacketSendWithExternalMdl(packetOf(channel), null, 0, chain, 0, 500, WAIT), S.STATUS_INVALID_PARAMETER_6, 'past the chain without the flag');
  assert.equal(VmbPacketSendWithExternalMdl(packetOf(channel), null, 0, chain, 0, 500, WAIT | FORCE), S.STATUS_SUCCESS);
  assert.equal(VmbPacketSendWithExternalMdl(packetOf(channel), null, 0, chain, 0, 4087, WAIT | FORCE), S.STATUS_INVALID_PARAMETER_6, 'past the page');
  const [forced] = hostRead(host);
  assert.deepEqual([...forced!.bytes.subarray(16, 40)], gpaDirectHeader([{ byteCount: 500, byteOffset: 10, pfns: [3] }]));
});

test('VmbPacketSendWithExternalPfns sends PfnLength whole pages as one range', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h);
  assert.equal(VmbPacketSendWithExternalPfns(packetOf(channel), null, 0, [11, 12, 13], 2, WAIT), S.STATUS_SUCCESS);
  const [sent] = hostRead(host);
  assert.deepEqual([...sent!.bytes.subarray(16, 48)], gpaDirectHeader([{ byteCount: 8192, byteOffset: 0, pfns: [11, 12] }]));
});

test('the external-data send forms reject bad arguments with their parameter\'s status', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h);
  const mdl = Mdl.fromPfns([5], 0, 4096);
  const outside = Mdl.fromPfns([100_000], 0, 16); // beyond the harness's 512 pages
  const mdlCases: [string, unknown[], number][] = [
    ['bad packet', [{}, null, 0, mdl, 0, 0, WAIT], S.STATUS_INVALID_PARAMETER_1],
    ['short buffer', [packetOf(channel), new Uint8Array(2), 3, mdl, 0, 0, WAIT], S.STATUS_INVALID_PARAMETER_2],
    ['no MDL', [packetOf(channel), null, 0, null, 0, 0, WAIT], S.STATUS_INVALID_PARAMETER_4],
    ['MDL outside guest memory', [packetOf(channel), null, 0, outside, 0, 0, WAIT], S.STATUS_INVALID_PARAMETER_4],
    ['offset at the end', [packetOf(channel), null, 0, mdl, 4096, 0, WAIT], S.STATUS_INVALID_PARAMETER_5],
    ['offset not a UINT32', [packetOf(channel), null, 0, mdl, -1, 0, WAIT], S.STATUS_INVALID_PARAMETER_5],
    ['length past the end', [packetOf(channel), null, 0, mdl, 4000, 97, WAIT], S.STATUS_INVALID_PARAMETER_6],
    ['no WAIT_FOR_COMPLETION ("This flag must be set")', [packetOf(channel), null, 0, mdl, 0, 0, 0], S.STATUS_INVALID_PARAMETER_7],
    ['unknown flag', [packetOf(channel), null, 0, mdl, 0, 0, WAIT | 8], S.STATUS_INVALID_PARAMETER_7],
  ];
  for (const [name, args, status] of mdlCases) {
    assert.equal((VmbPacketSendWithExternalMdl as (...a: unknown[]) => number)(...args), status, `MDL: ${name}`);
  }
  const pfnCases: [string, unknown[], number][] = [
    ['bad packet', [null, null, 0, [1], 1, WAIT], S.STATUS_INVALID_PARAMETER_1],
    ['PFNs not an array', [packetOf(channel), null, 0, 'x', 1, WAIT], S.STATUS_INVALID_PARAMETER_4],
    ['a PFN outside guest memory', [packetOf(channel), null, 0, [1, 512], 2, WAIT], S.STATUS_INVALID_PARAMETER_4],
    ['PfnLength 0', [packetOf(channel), null, 0, [1], 0, WAIT], S.STATUS_INVALID_PARAMETER_5],
    ['PfnLength beyond the list', [packetOf(channel), null, 0, [1], 2, WAIT], S.STATUS_INVALID_PARAMETER_5],
    ['no WAIT_FOR_COMPLETION', [packetOf(channel), null, 0, [1], 1, 0], S.STATUS_INVALID_PARAMETER_6],
    ['FORCE_MDL_LENGTH', [packetOf(channel), null, 0, [1], 1, WAIT | FORCE], S.STATUS_INVALID_PARAMETER_6],
  ];
  for (const [name, args, status] of pfnCases) {
    assert.equal((VmbPacketSendWithExternalPfns as (...a: unknown[]) => number)(...args), status, `PFNs: ${name}`);
  }
  assert.equal(VmbPacketSend(packetOf(channel), null, 0, mdl, 0), S.STATUS_INVALID_PARAMETER_5, 'external data needs WAIT_FOR_COMPLETION');
  assert.deepEqual(hostRead(host), []);
});

test('VmbChannelInitSetMaximumExternalData bounds the external data a send may carry', async () => {
  const h = makeHarness();
  const { channel } = await openChannel(h, (ch) => VmbChannelInitSetMaximumExternalData(ch, 4096, 1));
  assert.equal(VmbPacketSend(packetOf(channel), null, 0, Mdl.fromPfns([5], 0, 4096), WAIT), S.STATUS_SUCCESS);
  assert.equal(VmbPacketSend(packetOf(channel), null, 0, Mdl.fromPfns([5, 6], 0, 4097), WAIT), S.STATUS_INVALID_PARAMETER_4);
  const twoPieces = Mdl.chain([Mdl.fromPfns([5], 0, 10), Mdl.fromPfns([6], 0, 10)]);
  assert.equal(VmbPacketSend(packetOf(channel), null, 0, twoPieces, WAIT), S.STATUS_INVALID_PARAMETER_4, 'chain longer than 1');
  assert.equal(VmbPacketSendWithExternalPfns(packetOf(channel), null, 0, [5, 6], 2, WAIT), S.STATUS_INVALID_PARAMETER_4);
});

test('pipe mode frames each message with a DATA pipe header and delivers exactly the message', async () => {
  const h = makeHarness();
  const { channel, host, driver } = await openChannel(h, (ch) => VmbChannelInitSetFlags(ch, VMBUS_CHANNEL_INIT_FLAG_IS_PIPE));
  assert.equal(VmbPacketSend(packetOf(channel), new Uint8Array([1, 2, 3]), 3, null, 0), S.STATUS_SUCCESS);
  const [sent] = hostRead(host);
  // PipeHeader (openvmm-vmbus.md §6.3): packet_type u32 = 1 (DATA), len u32 = 3; then the message.
  assert.deepEqual([...sent!.payload], [1, 0, 0, 0, 3, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0]);
  assert.equal(VmbPacketSend(packetOf(channel), null, 0, null, WAIT), S.STATUS_INVALID_PARAMETER_5, 'a pipe has no transactions');
  hostSend(host, new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0, 0xaa, 0xbb]));
  await settle(h.scheduler);
  assert.deepEqual(driver.delivered.map((d) => [...d.bytes]), [[0xaa, 0xbb]]);
  hostSend(host, new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0])); // PARTIAL: not a whole message
  await settle(h.scheduler);
  assert.equal(driver.delivered.length, 1);
  assert.equal(core(channel).counters.malformedPackets, 1);
});
