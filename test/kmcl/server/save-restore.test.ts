/**
 * Saving and restoring a server channel as the reference documents it:
 * SaveBegin / SaveContinue (whole chunks; STATUS_BUFFER_TOO_SMALL with the
 * bytes required, STATUS_BUFFER_OVERFLOW while more remains) / SaveEnd, the
 * save callback's two-call size protocol (and its V5 Ex form), and a host
 * serviced mid-transfer: the bus saved and restored, the channel restored
 * from its chunks (RestoreFromBuffer: STATUS_MORE_PROCESSING_REQUIRED until
 * the last), its packets through the restore callback and VmbPacketRestore;
 * the guest's late completions reach the restored packets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostBus, SavedStateError } from '../../../src/bus/index.js';
import { crc32 } from '../../../src/bus/server/index.js';
import { readGuid } from '../../../src/wire/guid.js';
import {
  KmclHostDeviceObject,
  NTSTATUS,
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION,
  VmbPacketAllocate,
  VmbPacketGetPointer,
  VmbPacketSend,
  VmbPacketSetCompletionRoutine,
  VmbPacketSetPointer,
  type Out,
  type PFN_VMB_CHANNEL_SAVE_PACKET,
  type PFN_VMB_CHANNEL_SAVE_PACKET_EX,
  type VMBCHANNEL,
  type VMBPACKET,
} from '../../../src/index.js';
import { decodeChunk } from '../../../src/kmcl/server/channel-saved-state.js';
import { testSeed } from '../../support/seed.js';
import { RecordingDriver } from '../support/harness.js';
import { drive, settle } from '../support/settle.js';
import { ServerMachine, VSP_INSTANCE, VSP_INTERFACE, VspDriver, core } from './support/server-machine.js';

const S = NTSTATUS;
const WAIT = VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION;

interface Transfer {
  readonly m: ServerMachine;
  readonly vsp: VspDriver;
  readonly server: VMBCHANNEL;
  readonly guest: RecordingDriver;
  /** Completion statuses of the host's sends, by tag. */
  readonly statuses: Map<number, number[]>;
}

/** Sends a tagged packet with completion requested; its statuses go to `statuses`. */
function send(channel: VMBCHANNEL, tag: number, statuses: Map<number, number[]>): VMBPACKET {
  const packet = VmbPacketAllocate(channel)!;
  VmbPacketSetPointer(packet, tag);
  const mine: number[] = [];
  statuses.set(tag, mine);
  VmbPacketSetCompletionRoutine(packet, (_p, status) => mine.push(status));
  assert.equal(VmbPacketSend(packet, new Uint8Array([tag, tag]), 2, null, WAIT), S.STATUS_SUCCESS);
  return packet;
}

/**
 * A channel open with a KMCL guest that holds what it gets; the host sent
 * tags 1..3 (in the ring, the guest holds them: waiting for completion), then
 * paused and sent 4 and 5 (queued, never in the ring).
 */
async function midTransfer(seed: number, configure?: (channel: VMBCHANNEL, m: ServerMachine) => void): Promise<Transfer> {
  const m = new ServerMachine(seed);
  const vsp = new VspDriver();
  const server = m.serverChannel(vsp, (channel) => configure?.(channel, m));
  await m.connect();
  const guest = new RecordingDriver();
  guest.hold = true;
  const box: Out<VMBCHANNEL | null> = { value: null };
  m.kmcl.VmbChannelAllocate(m.device, false, box);
  m.kmcl.VmbClientChannelInitSetTargetPnp(box.value!, VSP_INTERFACE, VSP_INSTANCE, null);
  guest.install(box.value!);
  m.kmcl.VmbChannelEnable(box.value!);
  await settle(m.scheduler);
  const statuses = new Map<number, number[]>();
  for (const tag of [1, 2, 3]) send(server, tag, statuses);
  await settle(m.scheduler);
  assert.equal(await drive(m.scheduler, m.kmcl.VmbChannelPause(server)), S.STATUS_SUCCESS);
  for (const tag of [4, 5]) send(server, tag, statuses);
  assert.equal(guest.delivered.length, 3);
  assert.equal(core(server).sends.queuedCount, 2);
  return { m, vsp, server, guest, statuses };
}

/** Every chunk of a save, through SaveContinue with a buffer of `size` bytes each call. */
function saveChunks(m: ServerMachine, channel: VMBCHANNEL, size: number): Uint8Array[] {
  const buffers: Uint8Array[] = [];
  for (;;) {
    const buffer = new Uint8Array(size);
    const filled: Out<number> = { value: -1 };
    const required: Out<number> = { value: -1 };
    const status = m.kmcl.VmbChannelSaveContinue(channel, buffer, size, filled, required);
    assert.ok(status === S.STATUS_SUCCESS || status === S.STATUS_BUFFER_OVERFLOW, `status 0x${status.toString(16)}`);
    buffers.push(buffer.slice(0, filled.value));
    if (status === S.STATUS_SUCCESS) return buffers;
  }
}

test('SaveContinue hands out whole chunks: TOO_SMALL with the bytes required, OVERFLOW while more remains, SUCCESS at the end', async (t) => {
  const { m, server } = await midTransfer(testSeed(t.name));
  assert.equal(m.kmcl.VmbChannelSaveBegin(server), S.STATUS_SUCCESS);
  const filled: Out<number> = { value: -1 };
  const required: Out<number> = { value: -1 };
  assert.equal(m.kmcl.VmbChannelSaveContinue(server, null, 0, filled, required), S.STATUS_BUFFER_TOO_SMALL);
  assert.equal(filled.value, 0);
  const first = required.value;
  // Chunk 0, the channel: length u32 + 16-byte envelope + 72-byte body (channel-saved-state.ts layout).
  assert.equal(first, 4 + 16 + 72);
  const one = new Uint8Array(first + 10);
  assert.equal(m.kmcl.VmbChannelSaveContinue(server, one, one.length, filled, required), S.STATUS_BUFFER_OVERFLOW);
  assert.equal(filled.value, first, 'one whole chunk, never part of the next');
  assert.ok(required.value > 10, 'the next chunk does not fit the 10 bytes left');
  const rest = new Uint8Array(4096);
  assert.equal(m.kmcl.VmbChannelSaveContinue(server, rest, rest.length, filled, required), S.STATUS_SUCCESS);
  assert.equal(required.value, 0);
  const chunks = [one.subarray(0, first), ...splitChunks(rest.subarray(0, filled.value))];
  assert.equal(chunks.length, 6, 'the channel and five packets in use');
  assert.equal(m.kmcl.VmbChannelSaveContinue(server, rest, rest.length, filled, required), S.STATUS_SUCCESS);
  assert.deepEqual([filled.value, required.value], [0, 0], 'nothing left');
  assert.equal(m.kmcl.VmbChannelSaveEnd(server), S.STATUS_SUCCESS);
  assert.equal(m.kmcl.VmbChannelSaveContinue(server, rest, rest.length, filled, required), S.STATUS_INVALID_DEVICE_STATE);

  // Chunk 0's bytes, field by field (channel-saved-state.ts; envelope: src/bus/server/saved-bytes.ts).
  const chunk = chunks[0]!;
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  assert.equal(view.getUint32(0, true), first - 4, 'length of what follows');
  assert.equal(String.fromCharCode(...chunk.subarray(4, 8)), 'KMCH');
  assert.deepEqual([view.getUint16(8, true), view.getUint16(10, true), view.getUint32(12, true)], [1, 0, 72]);
  const body = chunk.subarray(20);
  assert.equal(view.getUint32(16, true), crc32(body));
  const at = (offset: number): number => view.getUint32(20 + offset, true);
  assert.notEqual(at(0), 0, 'save id');
  assert.deepEqual([at(4), at(8), chunk[32], ...chunk.subarray(33, 36)], [0, 6, 1, 0, 0, 0], 'index 0 of 6, kind 1 (channel)');
  assert.equal(readGuid(chunk, 36), VSP_INTERFACE);
  assert.equal(readGuid(chunk, 52), VSP_INSTANCE);
  assert.deepEqual([view.getUint16(68, true), view.getUint16(70, true), view.getUint16(72, true), view.getUint16(74, true)], [0, 0, 0, 0]);
  assert.deepEqual([at(56), at(60), chunk[84], chunk[85], chunk[86], chunk[87]], [0, 0, 0, 2, 0, 0], 'flags, VTL 0, state 2 (open)');
  assert.equal(at(68), core(server).server!.channelId, 'the channel id the guest knows');
});

/** The whole chunks one after another in `bytes`. */
function splitChunks(bytes: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const decoded = decodeChunk(bytes.subarray(at));
    assert.ok(!(decoded instanceof SavedStateError), decoded instanceof SavedStateError ? decoded.message : '');
    chunks.push(bytes.subarray(at, at + decoded.size));
    at += decoded.size;
  }
  return chunks;
}

/** Saves the bus, closes it for servicing and restores a new one from the bytes, with a host device object over it. */
function serviceHost(m: ServerMachine): { bus: HostBus; host: KmclHostDeviceObject } {
  const busBytes = m.hostBus.save();
  m.hostBus.close({ servicing: true });
  const bus = HostBus.restore({ host: m.host, guest: m.guest, guestMemory: m.memory, scheduler: m.scheduler }, busBytes);
  assert.ok(!(bus instanceof SavedStateError), bus instanceof SavedStateError ? bus.message : '');
  return { bus, host: KmclHostDeviceObject.create({ bus, guestMemory: m.memory, scheduler: m.scheduler }) };
}

test('the save callback\'s two-call protocol: size first with an empty buffer, then the bytes; Ex passes its context', async (t) => {
  const calls: [tag: number, size: number, context: unknown][] = [];
  const save: PFN_VMB_CHANNEL_SAVE_PACKET_EX = (_channel, packet, buffer, size, needed, context) => {
    const tag = VmbPacketGetPointer(packet) as number;
    calls.push([tag, size, context]);
    if (tag % 2 === 0) return S.STATUS_SUCCESS; // Even tags: nothing of the VSP's own to save.
    if (size === 0) {
      needed.value = 3;
      return S.STATUS_BUFFER_TOO_SMALL;
    }
    buffer.set([tag, tag, tag]);
    needed.value = 3;
    return S.STATUS_SUCCESS;
  };
  const { m, server } = await midTransfer(testSeed(t.name), (channel, machine) =>
    assert.equal(machine.kmcl.VmbServerChannelInitSetSaveRestorePacketCallbacksEx(channel, save, () => S.STATUS_SUCCESS, 'ctx'), S.STATUS_SUCCESS),
  );
  assert.equal(m.kmcl.VmbChannelSaveBegin(server), S.STATUS_SUCCESS);
  assert.deepEqual(calls, [
    [1, 0, 'ctx'],
    [1, 3, 'ctx'],
    [2, 0, 'ctx'],
    [3, 0, 'ctx'],
    [3, 3, 'ctx'],
    [4, 0, 'ctx'],
    [5, 0, 'ctx'],
    [5, 3, 'ctx'],
  ]);
  const states = saveChunks(m, server, 1 << 16)
    .flatMap(splitChunks)
    .slice(1)
    .map((chunk) => {
      const decoded = decodeChunk(chunk);
      assert.ok(!(decoded instanceof SavedStateError) && decoded.chunk.body.kind === 'packet');
      return [...decoded.chunk.body.vspState];
    });
  assert.deepEqual(states, [[1, 1, 1], [], [3, 3, 3], [], [5, 5, 5]]);
  assert.equal(m.kmcl.VmbChannelSaveEnd(server), S.STATUS_SUCCESS);
});

test('a host serviced mid-transfer: the bus and the channel are restored; the guest\'s late completions reach the restored packets', async (t) => {
  const restoreVsp: Uint8Array[] = [];
  const savePacket: PFN_VMB_CHANNEL_SAVE_PACKET = (_channel, packet, buffer, size, needed) => {
    if (size === 0) {
      needed.value = 1;
      return S.STATUS_BUFFER_TOO_SMALL;
    }
    buffer[0] = VmbPacketGetPointer(packet) as number;
    return S.STATUS_SUCCESS;
  };
  const { m, server, guest, statuses } = await midTransfer(testSeed(t.name), (channel, machine) =>
    machine.kmcl.VmbServerChannelInitSetSaveRestorePacketCallbacks(channel, savePacket, () => S.STATUS_UNSUCCESSFUL),
  );
  const channelId = core(server).server!.channelId;
  // The old host: the VSP saves its channel (a 128-byte buffer takes one whole chunk a call), then the bus is saved.
  assert.equal(m.kmcl.VmbChannelSaveBegin(server), S.STATUS_SUCCESS);
  const chunks = saveChunks(m, server, 128);
  assert.equal(chunks.length, 6);
  m.kmcl.VmbChannelSaveEnd(server);
  const { bus, host } = serviceHost(m);

  // The new host: a new channel configured the same, restored from the chunks.
  const vsp = new VspDriver();
  const restored = new Map<number, number[]>();
  const box: Out<VMBCHANNEL | null> = { value: null };
  m.kmcl.VmbChannelAllocate(host, true, box);
  const channel = box.value!;
  m.kmcl.VmbServerChannelInitSetTargetInterfaceId(channel, VSP_INTERFACE, VSP_INSTANCE);
  vsp.install(m.kmcl, channel);
  m.kmcl.VmbServerChannelInitSetSaveRestorePacketCallbacks(channel, savePacket, (ch, libBuf, libSize, vspBuf, vspSize) => {
    restoreVsp.push(vspBuf.slice(0, vspSize));
    const packet = m.kmcl.VmbPacketAllocate(ch)!;
    const mine: number[] = [];
    restored.set(vspBuf[0]!, mine);
    m.kmcl.VmbPacketSetCompletionRoutine(packet, (_p, status) => mine.push(status));
    return m.kmcl.VmbPacketRestore(packet, libBuf, libSize);
  });
  const results = chunks.map((chunk) => m.kmcl.VmbChannelRestoreFromBuffer(channel, chunk, chunk.length));
  assert.deepEqual(results, [...new Array(5).fill(S.STATUS_MORE_PROCESSING_REQUIRED), S.STATUS_SUCCESS]);
  assert.deepEqual(restoreVsp.map((bytes) => [...bytes]), [[1], [2], [3], [4], [5]], 'each packet\'s VSP state came back');

  assert.equal(m.kmcl.VmbChannelEnable(channel), S.STATUS_SUCCESS);
  assert.equal(core(channel).lifecycle, 'opened', 'the guest kept it open: taken back at Enable');
  assert.equal(core(channel).server!.channelId, channelId);
  bus.completeRestore();
  assert.equal(m.kmcl.VmbChannelStart(channel), S.STATUS_SUCCESS);
  await settle(m.scheduler);
  assert.deepEqual(vsp.events, ['started', 'post-started'], 'no Opened: the VSP restored its own state of the open channel');
  assert.deepEqual(guest.delivered.map((d) => d.bytes[0]), [1, 2, 3, 4, 5], 'the queued packets went out after the restore');
  guest.completeAll();
  await settle(m.scheduler);
  assert.deepEqual([...restored.entries()].sort((a, b) => a[0] - b[0]), [1, 2, 3, 4, 5].map((tag) => [tag, [S.STATUS_SUCCESS]]));
  assert.deepEqual([...statuses.values()], [[], [], [], [], []], 'the old host\'s packet objects never complete: that host is gone');
  assert.equal(core(channel).counters.unknownCompletions, 0);
});

test('without restore callbacks the KMCL restores the packets itself (the default completion routine frees them)', async (t) => {
  const { m, server, guest } = await midTransfer(testSeed(t.name));
  m.kmcl.VmbChannelSaveBegin(server);
  const [all] = saveChunks(m, server, 1 << 16);
  m.kmcl.VmbChannelSaveEnd(server);
  const { bus, host } = serviceHost(m);
  const box: Out<VMBCHANNEL | null> = { value: null };
  m.kmcl.VmbChannelAllocate(host, true, box);
  const channel = box.value!;
  assert.equal(m.kmcl.VmbChannelRestoreFromBuffer(channel, all!, all!.length), S.STATUS_SUCCESS, 'one buffer holding every chunk');
  assert.equal(core(channel).server!.interfaceId, VSP_INTERFACE, 'a channel with no target takes the saved one');
  assert.equal(core(channel).pool.liveCount, 5);
  m.kmcl.VmbChannelEnable(channel);
  bus.completeRestore();
  m.kmcl.VmbChannelStart(channel);
  await settle(m.scheduler);
  guest.completeAll();
  await settle(m.scheduler);
  assert.equal(core(channel).pool.liveCount, 0, 'every restored packet completed and was freed');
  assert.equal(core(channel).sends.awaitingCount, 0);
});
