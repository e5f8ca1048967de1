import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NTSTATUS,
  PACKET_OBJECT_HEADER_SIZE,
  VmbChannelCleanup,
  VmbChannelInitSetInlinePacketContextSize,
  VmbChannelInitSetMaximumPacketCount,
  VmbChannelInitSetMaximumPacketSize,
  VmbChannelSizeofPacket,
  VmbPacketAllocate,
  VmbPacketFree,
  VmbPacketGetChannel,
  VmbPacketGetInlinePacketContextPointer,
  VmbPacketGetPointer,
  VmbPacketInitialize,
  VmbPacketSend,
  VmbPacketSetCompletionRoutine,
  VmbPacketSetCompletionRoutineEx,
  VmbPacketSetPointer,
  type VMBPACKET,
} from '../../src/index.js';
import { allocate, makeHarness } from './support/harness.js';

const S = NTSTATUS;

test('VmbPacketAllocate reuses freed packets from the lookaside list, reset', () => {
  const h = makeHarness();
  const channel = allocate(h);
  const a = VmbPacketAllocate(channel)!;
  VmbPacketSetPointer(a, 'mine');
  assert.equal(VmbPacketGetPointer(a), 'mine');
  assert.equal(VmbPacketGetChannel(a), channel);
  assert.equal(VmbPacketFree(a), S.STATUS_SUCCESS);
  assert.equal(VmbPacketGetPointer(a), null, 'a freed handle is invalid');
  assert.equal(VmbPacketFree(a), S.STATUS_INVALID_PARAMETER_1, 'double free');
  const b = VmbPacketAllocate(channel)!;
  assert.equal(b, a, 'the same object comes back');
  assert.equal(VmbPacketGetPointer(b), null, 'with its pointer cleared');
});

test('VmbChannelInitSetMaximumPacketCount bounds the packets handed out at once', () => {
  const h = makeHarness();
  const channel = allocate(h);
  VmbChannelInitSetMaximumPacketCount(channel, 2);
  const first = VmbPacketAllocate(channel)!;
  assert.notEqual(VmbPacketAllocate(channel), null);
  assert.equal(VmbPacketAllocate(channel), null);
  VmbPacketFree(first);
  assert.notEqual(VmbPacketAllocate(channel), null);
});

test('VmbChannelSizeofPacket is the object header, the inline context, the maximum packet and a pointer', () => {
  const h = makeHarness();
  const channel = allocate(h);
  VmbChannelInitSetMaximumPacketSize(channel, 100);
  VmbChannelInitSetInlinePacketContextSize(channel, 20);
  // The page: "greater than the maximum packet size plus the size of a void pointer" (fn_vmb_packet_initialize.md).
  assert.equal(VmbChannelSizeofPacket(channel), PACKET_OBJECT_HEADER_SIZE + 24 + 100 + 8);
  assert.equal(VmbChannelSizeofPacket({} as never), 0);
});

test('VmbPacketInitialize lays a packet out in caller storage, whose inline context is in that storage', () => {
  const h = makeHarness();
  const channel = allocate(h);
  VmbChannelInitSetInlinePacketContextSize(channel, 16);
  const size = VmbChannelSizeofPacket(channel);
  const storage = new Uint8Array(size).fill(0xee);
  assert.equal(VmbPacketInitialize(channel, storage, size), S.STATUS_SUCCESS);
  assert.equal(VmbPacketGetChannel(storage), channel);
  const inline = VmbPacketGetInlinePacketContextPointer(storage)!;
  assert.equal(inline.length, 16);
  assert.equal(inline.buffer, storage.buffer);
  assert.equal(inline.byteOffset, storage.byteOffset + PACKET_OBJECT_HEADER_SIZE);
  assert.ok(storage.every((b) => b === 0), 'initialized');
  // Its completion routine is invalid until set (fn_vmb_packet_initialize.md, Remarks): it cannot be sent.
  assert.equal(VmbPacketSend(storage, new Uint8Array(8), 8, null, 0), S.STATUS_INVALID_PARAMETER_1);
  assert.equal(VmbPacketFree(storage), S.STATUS_INVALID_PARAMETER_1, 'not from VmbPacketAllocate');
  assert.equal(VmbPacketInitialize(channel, storage, size), S.STATUS_SUCCESS, 'reinitialized while idle');
});

test('VmbPacketInitialize rejects bad arguments', () => {
  const h = makeHarness();
  const channel = allocate(h);
  const size = VmbChannelSizeofPacket(channel);
  const cases: [string, unknown[], number][] = [
    ['bad channel', [{}, new Uint8Array(size), size], S.STATUS_INVALID_PARAMETER_1],
    ['storage not bytes', [channel, [], size], S.STATUS_INVALID_PARAMETER_2],
    // "ByteCount ... needs to be greater than the maximum packet size plus the size of a void pointer".
    ['ByteCount below VmbChannelSizeofPacket', [channel, new Uint8Array(size), size - 1], S.STATUS_INVALID_PARAMETER_3],
    ['ByteCount beyond the storage', [channel, new Uint8Array(size), size + 8], S.STATUS_INVALID_PARAMETER_3],
    ['ByteCount not a UINT32', [channel, new Uint8Array(size), -1], S.STATUS_INVALID_PARAMETER_3],
  ];
  for (const [name, args, status] of cases) assert.equal((VmbPacketInitialize as (...a: unknown[]) => number)(...args), status, name);
});

test('inline packet context: sized per the channel, zeroed again when the packet is freed', () => {
  const h = makeHarness();
  const channel = allocate(h);
  VmbChannelInitSetInlinePacketContextSize(channel, 8);
  const packet = VmbPacketAllocate(channel)!;
  const inline = VmbPacketGetInlinePacketContextPointer(packet)!;
  assert.equal(inline.length, 8);
  inline.fill(7);
  VmbPacketFree(packet);
  assert.ok(VmbPacketGetInlinePacketContextPointer(VmbPacketAllocate(channel)!)!.every((b) => b === 0));
});

test('packet setters and getters answer bad handles without throwing', () => {
  const h = makeHarness();
  const channel = allocate(h);
  const freed = VmbPacketAllocate(channel)!;
  VmbPacketFree(freed);
  const other = allocate(h);
  const cleaned = VmbPacketAllocate(other)!;
  VmbChannelCleanup(other);
  const handles: [string, unknown][] = [
    ['null', null],
    ['object', {}],
    ['freed packet', freed],
    ['packet of a cleaned-up channel', cleaned],
    ['a channel', channel],
    ['bytes never initialized', new Uint8Array(64)],
  ];
  for (const [what, handle] of handles) {
    const h1 = handle as VMBPACKET;
    assert.equal(VmbPacketSetPointer(h1, 1), S.STATUS_INVALID_PARAMETER_1, what);
    assert.equal(VmbPacketGetPointer(h1), null, what);
    assert.equal(VmbPacketGetChannel(h1), null, what);
    assert.equal(VmbPacketFree(h1), S.STATUS_INVALID_PARAMETER_1, what);
    assert.equal(VmbPacketSetCompletionRoutine(h1, () => undefined), S.STATUS_INVALID_PARAMETER_1, what);
    assert.equal(VmbPacketSetCompletionRoutineEx(h1, () => undefined, 0), S.STATUS_INVALID_PARAMETER_1, what);
    assert.equal(VmbPacketGetInlinePacketContextPointer(h1), null, what);
  }
  const packet = VmbPacketAllocate(channel)!;
  assert.equal(VmbPacketSetCompletionRoutine(packet, 'f' as never), S.STATUS_INVALID_PARAMETER_2);
  assert.equal(VmbPacketSetCompletionRoutineEx(packet, null as never, 0), S.STATUS_INVALID_PARAMETER_2);
});
