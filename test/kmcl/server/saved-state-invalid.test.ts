/**
 * Saved state is input the KMCL does not control: every corrupt, truncated,
 * out-of-order or foreign chunk, and every bad LibBuf, is refused with a
 * clear status (STATUS_DATA_ERROR, or STATUS_REVISION_MISMATCH for an
 * unknown format version), never a throw; and the save functions refuse
 * wrong states and arguments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SavedStateWriter, sealSavedState } from '../../../src/bus/server/index.js';
import {
  MAXIMUM_PACKET_VSP_STATE,
  NTSTATUS,
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION,
  VmbChannelInitSetPrimaryChannel,
  VmbPacketAllocate,
  VmbPacketInitialize,
  VmbPacketRestore,
  VmbPacketSend,
  VmbChannelSizeofPacket,
  type Out,
  type PFN_VMB_CHANNEL_SAVE_PACKET,
  type VMBCHANNEL,
} from '../../../src/index.js';
import {
  CHANNEL_CHUNK_FORMAT,
  encodeChunk,
  encodePacketState,
  type SavedServerChannel,
} from '../../../src/kmcl/server/channel-saved-state.js';
import { testSeed } from '../../support/seed.js';
import { allocate, makeHarness } from '../support/harness.js';
import { settle } from '../support/settle.js';
import { ServerMachine, VSP_INSTANCE, VSP_INTERFACE, VspDriver, core } from './support/server-machine.js';

const S = NTSTATUS;
const WAIT = VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION;
const OTHER_INTERFACE = 'aa1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

/** A machine with an enabled channel (paused, two packets queued) saved into `chunks`. */
function savedChannel(seed: number): { m: ServerMachine; chunks: Uint8Array[] } {
  const m = new ServerMachine(seed);
  const channel = m.serverChannel(new VspDriver(), undefined, false);
  assert.equal(m.kmcl.VmbChannelEnable(channel), S.STATUS_SUCCESS);
  for (const tag of [1, 2]) {
    const packet = VmbPacketAllocate(channel)!;
    assert.equal(VmbPacketSend(packet, new Uint8Array([tag]), 1, null, WAIT), S.STATUS_SUCCESS);
  }
  assert.equal(m.kmcl.VmbChannelSaveBegin(channel), S.STATUS_SUCCESS);
  const chunks: Uint8Array[] = [];
  const filled: Out<number> = { value: 0 };
  const required: Out<number> = { value: 0 };
  for (let status: number = S.STATUS_BUFFER_OVERFLOW; status !== S.STATUS_SUCCESS; ) {
    const buffer = new Uint8Array(160); // one whole chunk a call
    status = m.kmcl.VmbChannelSaveContinue(channel, buffer, buffer.length, filled, required);
    chunks.push(buffer.slice(0, filled.value));
  }
  m.kmcl.VmbChannelSaveEnd(channel);
  assert.equal(chunks.length, 3);
  return { m, chunks };
}

/** A fresh disabled server channel on `m`'s host device object. */
function fresh(m: ServerMachine, configure?: (channel: VMBCHANNEL) => void): VMBCHANNEL {
  const box: Out<VMBCHANNEL | null> = { value: null };
  m.kmcl.VmbChannelAllocate(m.hostDeviceObject, true, box);
  configure?.(box.value!);
  return box.value!;
}

function restoreAll(m: ServerMachine, channel: VMBCHANNEL, buffers: readonly Uint8Array[]): number[] {
  return buffers.map((buffer) => m.kmcl.VmbChannelRestoreFromBuffer(channel, buffer, buffer.length));
}

/** `bytes` with `edit` applied to a copy. */
function edited(bytes: Uint8Array, edit: (copy: Uint8Array, view: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  edit(copy, new DataView(copy.buffer));
  return copy;
}

/** A channel chunk of save `saveId` with these values, sealed properly. */
function channelChunk(values: Partial<SavedServerChannel>, saveId = 99, count = 1): Uint8Array {
  const channel: SavedServerChannel = {
    interfaceId: VSP_INTERFACE,
    instanceId: VSP_INSTANCE,
    subchannelIndex: 0,
    mmioMegabytes: 0,
    mmioMegabytesOptional: 0,
    serverFlags: 0,
    initFlags: 0,
    targetVtl: 0,
    state: 'offered',
    channelId: null,
    ...values,
  };
  return encodeChunk({ saveId, index: 0, count, body: { kind: 'channel', channel } });
}

test('the chunks restore in order; each corrupt, cut, foreign or misplaced chunk gets its status and ends the restore', (t) => {
  const { m, chunks } = savedChannel(testSeed(t.name));
  const [c0, c1, c2] = chunks as [Uint8Array, Uint8Array, Uint8Array];
  const other = savedChannel(testSeed(t.name) + 1).chunks;
  // Chunk framing (channel-saved-state.ts): length u32 @0, envelope magic @4, format version u16 @8, body length @12, CRC @16, body @20.
  const cases: [string, Uint8Array[], number[]][] = [
    ['in order', [c0, c1, c2], [S.STATUS_MORE_PROCESSING_REQUIRED, S.STATUS_MORE_PROCESSING_REQUIRED, S.STATUS_SUCCESS]],
    ['a flipped body bit (CRC-32)', [edited(c0, (b) => (b[40]! ^= 0x10))], [S.STATUS_DATA_ERROR]],
    ['another magic', [edited(c0, (b) => (b[4] = 0x58))], [S.STATUS_DATA_ERROR]],
    ['format version 2', [edited(c0, (_b, v) => v.setUint16(8, 2, true))], [S.STATUS_REVISION_MISMATCH]],
    ['cut one byte short', [c0.subarray(0, c0.length - 1)], [S.STATUS_DATA_ERROR]],
    ['no bytes', [new Uint8Array(0)], [S.STATUS_DATA_ERROR]],
    ['bytes after the chunk', [Uint8Array.of(...c0, 1, 2, 3)], [S.STATUS_DATA_ERROR]],
    ['a length beyond any chunk', [edited(c0, (_b, v) => v.setUint32(0, 0x7fff_ffff, true))], [S.STATUS_DATA_ERROR]],
    ['a packet chunk first', [c1], [S.STATUS_DATA_ERROR]],
    ['a chunk skipped', [c0, c2], [S.STATUS_MORE_PROCESSING_REQUIRED, S.STATUS_DATA_ERROR]],
    ['a chunk of another save', [c0, other[1]!], [S.STATUS_MORE_PROCESSING_REQUIRED, S.STATUS_DATA_ERROR]],
    ['chunk 0 twice', [c0, c0], [S.STATUS_MORE_PROCESSING_REQUIRED, S.STATUS_DATA_ERROR]],
    ['after a failure, no restore goes on', [c0, c2, c1], [S.STATUS_MORE_PROCESSING_REQUIRED, S.STATUS_DATA_ERROR, S.STATUS_DATA_ERROR]],
    ['unknown server flags', [channelChunk({ serverFlags: 0x40 })], [S.STATUS_DATA_ERROR]],
    ['unknown init flags', [channelChunk({ initFlags: 0x2 })], [S.STATUS_DATA_ERROR]],
    ['a VTL that does not exist', [channelChunk({ targetVtl: 3 })], [S.STATUS_DATA_ERROR]],
    ['a subchannel\'s save into a primary', [channelChunk({ subchannelIndex: 1 })], [S.STATUS_INVALID_DEVICE_STATE]],
  ];
  for (const [name, buffers, statuses] of cases) assert.deepEqual(restoreAll(m, fresh(m), buffers), statuses, name);

  const configured = fresh(m, (c) => m.kmcl.VmbServerChannelInitSetTargetInterfaceId(c, OTHER_INTERFACE, VSP_INSTANCE));
  assert.deepEqual(restoreAll(m, configured, [c0]), [S.STATUS_INVALID_DEVICE_STATE], 'a save of another interface');
  assert.equal(core(configured).server!.interfaceId, OTHER_INTERFACE, 'unchanged');
  const primary = fresh(m);
  const subchannel = fresh(m, (c) => VmbChannelInitSetPrimaryChannel(c, primary));
  assert.deepEqual(restoreAll(m, subchannel, [c0]), [S.STATUS_INVALID_DEVICE_STATE], 'a primary\'s save into a subchannel');
  const restored = fresh(m);
  assert.deepEqual(restoreAll(m, restored, [c0, c1, c2, c0]).at(-1), S.STATUS_INVALID_DEVICE_STATE, 'restored already');
});

test('a channel record with values outside its domain is STATUS_DATA_ERROR', () => {
  const m = new ServerMachine(1);
  // The channel record's state byte @65 of the body and channel id @68 (channel-saved-state.ts); re-sealed so only the value is wrong.
  const body = (state: number, channelId: number): Uint8Array => {
    const out = new SavedStateWriter();
    [99, 0, 1].forEach((value) => out.u32(value));
    out.u8(1);
    out.reserved(3);
    out.guid(VSP_INTERFACE);
    out.guid(VSP_INSTANCE);
    out.reserved(4 * 2 + 4 + 4 + 1);
    out.u8(state);
    out.reserved(2);
    out.u32(channelId);
    const sealed = sealSavedState(CHANNEL_CHUNK_FORMAT, out.finish());
    return Uint8Array.of(...new Uint8Array(new Uint32Array([sealed.length]).buffer), ...sealed);
  };
  const restore = (bytes: Uint8Array): number => m.kmcl.VmbChannelRestoreFromBuffer(fresh(m), bytes, bytes.length);
  assert.equal(restore(body(1, 0xffff_ffff)), S.STATUS_SUCCESS, 'the well-formed control');
  assert.equal(restore(body(3, 0xffff_ffff)), S.STATUS_DATA_ERROR, 'state 3');
  assert.equal(restore(body(2, 0xffff_ffff)), S.STATUS_DATA_ERROR, 'open without a channel id');
});

test('RestoreFromBuffer refuses bad arguments and channels that are not disabled server channels', () => {
  const { m, chunks } = savedChannel(1);
  const enabled = m.serverChannel(new VspDriver(), (c) => m.kmcl.VmbServerChannelInitSetTargetInterfaceId(c, OTHER_INTERFACE, VSP_INSTANCE));
  const c0 = chunks[0]!;
  const cases: [string, unknown[], number][] = [
    ['a client channel', [allocate(makeHarness()), c0, c0.length], S.STATUS_INVALID_PARAMETER_1],
    ['an enabled channel', [enabled, c0, c0.length], S.STATUS_INVALID_PARAMETER_1],
    ['not a channel', [7, c0, c0.length], S.STATUS_INVALID_PARAMETER_1],
    ['no buffer for its size', [fresh(m), null, 8], S.STATUS_INVALID_PARAMETER_2],
    ['a size beyond the buffer', [fresh(m), c0, c0.length + 1], S.STATUS_INVALID_PARAMETER_2],
    ['a size that is no ULONG', [fresh(m), c0, -1], S.STATUS_INVALID_PARAMETER_3],
  ];
  for (const [name, args, status] of cases) {
    assert.equal((m.kmcl.VmbChannelRestoreFromBuffer as (...a: unknown[]) => number)(...args), status, name);
  }
});

test('random damage to saved chunks is refused cleanly: never a throw, only the documented statuses', (t) => {
  const { m, chunks } = savedChannel(testSeed(`${t.name} (machine)`));
  const all = Uint8Array.of(...chunks.flatMap((chunk) => [...chunk]));
  const allowed = new Set<number>([S.STATUS_SUCCESS, S.STATUS_MORE_PROCESSING_REQUIRED, S.STATUS_DATA_ERROR, S.STATUS_REVISION_MISMATCH, S.STATUS_INVALID_DEVICE_STATE]);
  const damage = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  );
  fc.assert(
    fc.property(fc.array(damage, { minLength: 1, maxLength: 4 }), (edits) => {
      let bytes: Uint8Array = all;
      for (const edit of edits) {
        const at = edit.at % (bytes.length + 1);
        if (edit.kind === 'flip') bytes = edited(bytes, (b) => at < b.length && (b[at]! ^= 1 << edit.bit));
        else if (edit.kind === 'cut') bytes = bytes.subarray(0, at);
        else bytes = Uint8Array.of(...bytes.subarray(0, at), edit.byte, ...bytes.subarray(at));
      }
      const status = m.kmcl.VmbChannelRestoreFromBuffer(fresh(m), bytes, bytes.length);
      assert.ok(allowed.has(status), `status 0x${status.toString(16)}`);
      if (bytes.length !== all.length || bytes.some((byte, i) => byte !== all[i])) assert.notEqual(status, S.STATUS_SUCCESS);
    }),
    { seed: testSeed(t.name), numRuns: 300 },
  );
});

test('VmbPacketRestore refuses bad packets, arguments and LibBufs with their statuses', () => {
  const { m } = savedChannel(1);
  const disabled = fresh(m);
  const waiting = encodePacketState({ state: 'waiting', transactionId: { lo: 3, hi: 9 } });
  // A GPA-direct header (gpa-direct-header.ts layout): reserved u32, range count u32, byte count u32, offset u32, one PFN u64.
  const header = new Uint8Array(24);
  const view = new DataView(header.buffer);
  view.setUint32(4, 1, true);
  view.setUint32(8, 4096, true);
  view.setBigUint64(16, 1n << 40n, true);
  const outside = encodePacketState({ state: 'queued', packetType: 9, ringFlags: 1, header, payload: new Uint8Array(8) });
  const enabled = m.serverChannel(new VspDriver(), (c) => m.kmcl.VmbServerChannelInitSetTargetInterfaceId(c, OTHER_INTERFACE, VSP_INSTANCE));
  const busy = VmbPacketAllocate(disabled)!;
  VmbPacketSend(busy, new Uint8Array(1), 1, null, WAIT); // queued: a transaction in progress
  const storage = new Uint8Array(VmbChannelSizeofPacket(disabled));
  VmbPacketInitialize(disabled, storage, storage.length); // no completion routine set
  const cases: [string, unknown[], number][] = [
    ['not a packet', [{}, waiting, waiting.length], S.STATUS_INVALID_PARAMETER_1],
    ['a client channel\'s packet', [VmbPacketAllocate(allocate(makeHarness())), waiting, waiting.length], S.STATUS_INVALID_PARAMETER_1],
    ['a packet of an enabled channel', [VmbPacketAllocate(enabled), waiting, waiting.length], S.STATUS_INVALID_PARAMETER_1],
    ['a packet with a transaction in progress', [busy, waiting, waiting.length], S.STATUS_INVALID_PARAMETER_1],
    ['a packet without a completion routine', [storage, waiting, waiting.length], S.STATUS_INVALID_PARAMETER_1],
    ['no buffer for its size', [VmbPacketAllocate(disabled), null, 4], S.STATUS_INVALID_PARAMETER_2],
    ['a size that is no ULONG', [VmbPacketAllocate(disabled), waiting, 1.5], S.STATUS_INVALID_PARAMETER_3],
    ['a flipped bit', [VmbPacketAllocate(disabled), edited(waiting, (b) => (b[20]! ^= 1)), waiting.length], S.STATUS_DATA_ERROR],
    ['format version 7', [VmbPacketAllocate(disabled), edited(waiting, (_b, v) => v.setUint16(4, 7, true)), waiting.length], S.STATUS_REVISION_MISMATCH],
    ['cut short', [VmbPacketAllocate(disabled), waiting, waiting.length - 1], S.STATUS_DATA_ERROR],
    ['external data outside guest memory', [VmbPacketAllocate(disabled), outside, outside.length], S.STATUS_DATA_ERROR],
  ];
  for (const [name, args, status] of cases) {
    assert.equal((VmbPacketRestore as (...a: unknown[]) => number)(...args), status, name);
  }
  assert.equal(VmbPacketRestore(VmbPacketAllocate(disabled)!, waiting, waiting.length), S.STATUS_SUCCESS);
  assert.equal(VmbPacketRestore(VmbPacketAllocate(disabled)!, waiting, waiting.length), S.STATUS_DATA_ERROR, 'the same transaction twice');
  assert.equal(core(disabled).sends.awaitingCount, 1);
});

test('SaveBegin / SaveContinue / SaveEnd refuse wrong states and arguments; a refused save keeps nothing', async (t) => {
  const m = new ServerMachine(testSeed(t.name));
  const running = m.serverChannel(new VspDriver());
  await m.connect();
  const box: Out<VMBCHANNEL | null> = { value: null };
  m.kmcl.VmbChannelAllocate(m.device, false, box);
  m.kmcl.VmbClientChannelInitSetTargetPnp(box.value!, VSP_INTERFACE, VSP_INSTANCE, null);
  m.kmcl.VmbChannelEnable(box.value!);
  await settle(m.scheduler);
  assert.equal(core(running).started, true);
  const begins: [string, unknown, number][] = [
    ['not a channel', 'x', S.STATUS_INVALID_PARAMETER_1],
    ['a client channel', box.value, S.STATUS_INVALID_PARAMETER_1],
    ['a disabled channel', fresh(m), S.STATUS_INVALID_DEVICE_STATE],
    ['a running channel (pause it first)', running, S.STATUS_INVALID_DEVICE_STATE],
  ];
  for (const [name, channel, status] of begins) {
    assert.equal((m.kmcl.VmbChannelSaveBegin as (c: unknown) => number)(channel), status, name);
  }
  const paused = m.serverChannel(new VspDriver(), (c) => m.kmcl.VmbServerChannelInitSetTargetInterfaceId(c, OTHER_INTERFACE, VSP_INSTANCE), false);
  m.kmcl.VmbChannelEnable(paused);
  assert.equal(m.kmcl.VmbChannelSaveBegin(paused), S.STATUS_SUCCESS);
  assert.equal(m.kmcl.VmbChannelSaveBegin(paused), S.STATUS_INVALID_DEVICE_STATE, 'a save already begun');
  const buffer = new Uint8Array(64);
  const continues: [string, unknown[], number][] = [
    ['a client channel', [box.value, buffer, 64, { value: 0 }, { value: 0 }], S.STATUS_INVALID_PARAMETER_1],
    ['a buffer shorter than its size', [paused, buffer, 65, { value: 0 }, { value: 0 }], S.STATUS_INVALID_PARAMETER_2],
    ['a size that is no ULONG', [paused, buffer, -1, { value: 0 }, { value: 0 }], S.STATUS_INVALID_PARAMETER_3],
    ['no BytesFilled', [paused, buffer, 64, null, { value: 0 }], S.STATUS_INVALID_PARAMETER_4],
    ['a frozen BytesRequired', [paused, buffer, 64, { value: 0 }, Object.freeze({ value: 0 })], S.STATUS_INVALID_PARAMETER_5],
    ['no save begun', [fresh(m), buffer, 64, { value: 0 }, { value: 0 }], S.STATUS_INVALID_DEVICE_STATE],
  ];
  for (const [name, args, status] of continues) {
    assert.equal((m.kmcl.VmbChannelSaveContinue as (...a: unknown[]) => number)(...args), status, name);
  }
  assert.equal((m.kmcl.VmbChannelSaveEnd as (c: unknown) => number)(box.value), S.STATUS_INVALID_PARAMETER_1);
  assert.equal(m.kmcl.VmbChannelSaveEnd(paused), S.STATUS_SUCCESS);

  // Save callbacks that refuse: the save fails with their status and keeps nothing.
  const refusals: [string, PFN_VMB_CHANNEL_SAVE_PACKET, number][] = [
    ['a failure without a size', () => S.STATUS_NO_MEMORY, S.STATUS_NO_MEMORY],
    ['a size beyond MAXIMUM_PACKET_VSP_STATE', (_c, _p, _b, _s, needed) => ((needed.value = MAXIMUM_PACKET_VSP_STATE + 1), S.STATUS_BUFFER_TOO_SMALL), S.STATUS_INVALID_BUFFER_SIZE],
    ['the second call failing', (_c, _p, _b, size, needed) => ((needed.value = 4), size === 0 ? S.STATUS_BUFFER_TOO_SMALL : S.STATUS_DATA_ERROR), S.STATUS_DATA_ERROR],
  ];
  for (const [name, save, status] of refusals) {
    const channel = fresh(m, (c) => {
      m.kmcl.VmbServerChannelInitSetTargetInterfaceId(c, VSP_INTERFACE, `${name.length.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`);
      m.kmcl.VmbServerChannelInitSetSaveRestorePacketCallbacks(c, save, () => S.STATUS_SUCCESS);
    });
    assert.equal(m.kmcl.VmbChannelEnable(channel), S.STATUS_SUCCESS, name);
    VmbPacketSend(VmbPacketAllocate(channel)!, new Uint8Array(1), 1, null, WAIT);
    assert.equal(m.kmcl.VmbChannelSaveBegin(channel), status, name);
    assert.equal(m.kmcl.VmbChannelSaveContinue(channel, buffer, 64, { value: 0 }, { value: 0 }), S.STATUS_INVALID_DEVICE_STATE, `${name}: nothing kept`);
  }
});
