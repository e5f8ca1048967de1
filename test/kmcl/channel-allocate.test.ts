import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NTSTATUS,
  VMB_CHANNEL_OBJECT_SIZE,
  VmbChannelAllocate,
  VmbChannelCleanup,
  VmbChannelEnable,
  VmbChannelGetPointer,
  VmbChannelInitialize,
  VmbChannelSetPointer,
  VmbSizeofChannel,
  VmbPacketAllocate,
  VmbPacketGetChannel,
  VmbPacketSend,
  VmbPacketSetCompletionRoutine,
  type Out,
  type VMBCHANNEL,
} from '../../src/index.js';
import { TEST_INSTANCE, TEST_INTERFACE, allocate, core, makeHarness } from './support/harness.js';

test('VmbChannelAllocate makes a disabled channel with defaults; Cleanup invalidates it and its packets', () => {
  const h = makeHarness();
  const box: Out<VMBCHANNEL | null> = { value: null };
  assert.equal(VmbChannelAllocate(h.device, false, box), NTSTATUS.STATUS_SUCCESS);
  const channel = box.value!;
  assert.equal(core(channel).lifecycle, 'disabled');
  assert.equal(VmbChannelGetPointer(channel), null);
  const packet = VmbPacketAllocate(channel)!;
  assert.equal(VmbPacketGetChannel(packet), channel);
  assert.equal(VmbChannelCleanup(channel), NTSTATUS.STATUS_SUCCESS);
  assert.equal(VmbChannelSetPointer(channel, 1), NTSTATUS.STATUS_INVALID_PARAMETER_1);
  assert.equal(VmbPacketGetChannel(packet), null, 'the channel\'s packets go with it');
  assert.equal(VmbChannelCleanup(channel), NTSTATUS.STATUS_INVALID_PARAMETER_1, 'twice');
});

test('VmbChannelAllocate rejects bad arguments without making a channel', () => {
  const h = makeHarness();
  const cases: [string, unknown[], number][] = [
    ['no device object', [{}, false, { value: null }], NTSTATUS.STATUS_INVALID_PARAMETER_1],
    ['null device object', [null, false, { value: null }], NTSTATUS.STATUS_INVALID_PARAMETER_1],
    ['IsServer TRUE on the guest', [h.device, true, { value: null }], NTSTATUS.STATUS_INVALID_PARAMETER_2],
    ['IsServer not a BOOLEAN', [h.device, 'no', { value: null }], NTSTATUS.STATUS_INVALID_PARAMETER_2],
    ['no out-parameter', [h.device, false, null], NTSTATUS.STATUS_INVALID_PARAMETER_3],
    ['frozen out-parameter', [h.device, false, Object.freeze({ value: null })], NTSTATUS.STATUS_INVALID_PARAMETER_3],
  ];
  for (const [name, args, status] of cases) {
    assert.equal((VmbChannelAllocate as (...a: unknown[]) => number)(...args), status, name);
    const box = args[2] as { value: unknown } | null;
    if (box !== null) assert.equal(box.value, null, name);
  }
  const zeroIsFalse: Out<VMBCHANNEL | null> = { value: null };
  assert.equal(VmbChannelAllocate(h.device, 0 as unknown as boolean, zeroIsFalse), NTSTATUS.STATUS_SUCCESS, 'C FALSE');
});

test('VmbChannelInitialize makes a channel in caller storage, which is its handle until cleanup', () => {
  const h = makeHarness();
  assert.equal(VmbSizeofChannel(), VMB_CHANNEL_OBJECT_SIZE);
  const storage = new Uint8Array(VmbSizeofChannel() + 16).fill(0xaa);
  assert.equal(VmbChannelInitialize(h.device, false, storage, VmbSizeofChannel()), NTSTATUS.STATUS_SUCCESS);
  assert.equal(storage[0], 0, 'the object\'s bytes are initialized');
  assert.equal(storage[VmbSizeofChannel()], 0xaa, 'bytes past ByteCount untouched');
  assert.equal(VmbChannelSetPointer(storage, 'ctx'), NTSTATUS.STATUS_SUCCESS);
  assert.equal(VmbChannelGetPointer(storage), 'ctx');
  assert.equal(VmbPacketGetChannel(VmbPacketAllocate(storage)!), storage, 'the storage is the handle packets report');
  assert.equal(VmbChannelInitialize(h.device, false, storage, VmbSizeofChannel()), NTSTATUS.STATUS_INVALID_PARAMETER_3, 'in use');
  assert.equal(VmbChannelCleanup(storage), NTSTATUS.STATUS_SUCCESS);
  assert.equal(VmbChannelGetPointer(storage), null);
  assert.equal(VmbChannelInitialize(h.device, false, storage, VmbSizeofChannel()), NTSTATUS.STATUS_SUCCESS, 'reusable after cleanup');
});

test('VmbChannelInitialize rejects bad arguments', () => {
  const h = makeHarness();
  const size = VmbSizeofChannel();
  const cases: [string, unknown[], number][] = [
    ['no device object', [undefined, false, new Uint8Array(size), size], NTSTATUS.STATUS_INVALID_PARAMETER_1],
    ['IsServer TRUE', [h.device, true, new Uint8Array(size), size], NTSTATUS.STATUS_INVALID_PARAMETER_2],
    ['storage not bytes', [h.device, false, new ArrayBuffer(size), size], NTSTATUS.STATUS_INVALID_PARAMETER_3],
    ['ByteCount below VmbSizeofChannel', [h.device, false, new Uint8Array(size), size - 1], NTSTATUS.STATUS_INVALID_PARAMETER_4],
    ['ByteCount beyond the storage', [h.device, false, new Uint8Array(size), size + 1], NTSTATUS.STATUS_INVALID_PARAMETER_4],
    ['ByteCount not a UINT32', [h.device, false, new Uint8Array(size), 'big'], NTSTATUS.STATUS_INVALID_PARAMETER_4],
  ];
  for (const [name, args, status] of cases) {
    assert.equal((VmbChannelInitialize as (...a: unknown[]) => number)(...args), status, name);
  }
});

test('VmbChannelCleanup ends packets still queued (sent while not open) with STATUS_CANCELLED', () => {
  const h = makeHarness();
  const channel = allocate(h);
  const statuses: number[] = [];
  const packet = VmbPacketAllocate(channel)!;
  VmbPacketSetCompletionRoutine(packet, (_p, status) => statuses.push(status));
  assert.equal(VmbPacketSend(packet, new Uint8Array(4), 4, null, 0), NTSTATUS.STATUS_SUCCESS);
  assert.deepEqual(statuses, [], 'queued until the channel opens');
  assert.equal(VmbChannelCleanup(channel), NTSTATUS.STATUS_SUCCESS);
  assert.deepEqual(statuses, [NTSTATUS.STATUS_CANCELLED]);
});

test('VmbChannelCleanup refuses a channel that is not disabled', () => {
  const h = makeHarness();
  h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  const channel = allocate(h, h.device.children()[0]);
  assert.equal(VmbChannelEnable(channel), NTSTATUS.STATUS_SUCCESS);
  assert.equal(VmbChannelCleanup(channel), NTSTATUS.STATUS_INVALID_PARAMETER_1);
  assert.equal(core(channel).live, true);
});
