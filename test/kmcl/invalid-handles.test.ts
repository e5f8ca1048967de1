/**
 * Every member of the V5 table, called with each kind of wrong handle and
 * otherwise sensible arguments: the documented answer for a bad handle
 * (STATUS_INVALID_PARAMETER_1, or the C function's "nothing" value), never a
 * throw, and nothing changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as K from '../../src/index.js';
import { NTSTATUS, clientInterfaceMembers, type VMBCHANNEL } from '../../src/index.js';
import { Mdl } from '../../src/memory/index.js';
import { allocate, core, hostSend, makeHarness, openChannel } from './support/harness.js';
import { settle } from './support/settle.js';

const P1 = NTSTATUS.STATUS_INVALID_PARAMETER_1;
const noop = (): void => undefined;

type Call = (handle: unknown) => unknown;

/** Each member, with its handle argument left open. `expected` is what a bad handle gets. */
function calls(goodChannel: VMBCHANNEL): Record<string, { call: Call; expected: unknown }> {
  const out = (): { value: null } => ({ value: null });
  const f = K as unknown as Record<string, (...args: unknown[]) => unknown>;
  const entry = (name: string, args: (handle: unknown) => unknown[], expected: unknown = P1) => ({ call: (h: unknown) => f[name]!(...args(h)), expected });
  return {
    VmbChannelAllocate: entry('VmbChannelAllocate', (h) => [h, false, out()]),
    VmbChannelCleanup: entry('VmbChannelCleanup', (h) => [h]),
    VmbChannelCreateGpadlFromBuffer: entry('VmbChannelCreateGpadlFromBuffer', (h) => [h, 0, new Uint8Array(8), 8, { value: 0 }]),
    VmbChannelCreateGpadlFromMdl: entry('VmbChannelCreateGpadlFromMdl', (h) => [h, 0, Mdl.fromPfns([1]), 0, 0, { value: 0 }]),
    VmbChannelDeleteGpadl: entry('VmbChannelDeleteGpadl', (h) => [h, 1]),
    VmbChannelDisable: entry('VmbChannelDisable', (h) => [h]),
    VmbChannelEnable: entry('VmbChannelEnable', (h) => [h]),
    VmbChannelGetInterfaceInstance: entry('VmbChannelGetInterfaceInstance', (h) => [h, out()]),
    VmbChannelGetMmioSpace: entry('VmbChannelGetMmioSpace', (h) => [h, out(), out()]),
    VmbChannelGetPointer: entry('VmbChannelGetPointer', (h) => [h], null),
    VmbChannelInitSetClientContextSize: entry('VmbChannelInitSetClientContextSize', (h) => [h, 8]),
    VmbChannelInitSetFlags: entry('VmbChannelInitSetFlags', (h) => [h, 0]),
    VmbChannelInitSetFriendlyName: entry('VmbChannelInitSetFriendlyName', (h) => [h, 'n']),
    VmbChannelInitSetMaximumExternalData: entry('VmbChannelInitSetMaximumExternalData', (h) => [h, 4096, 1]),
    VmbChannelInitSetMaximumPacketSize: entry('VmbChannelInitSetMaximumPacketSize', (h) => [h, 64]),
    VmbChannelInitSetProcessPacketCallbacks: entry('VmbChannelInitSetProcessPacketCallbacks', (h) => [h, noop, null]),
    VmbChannelInitSetStateChangeCallbacks: entry('VmbChannelInitSetStateChangeCallbacks', (h) => [h, K.VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT()]),
    VmbChannelPacketComplete: entry('VmbChannelPacketComplete', (h) => [h, null, 0]),
    VmbChannelPacketDeferToPassive: entry('VmbChannelPacketDeferToPassive', (h) => [h]),
    VmbChannelPacketFail: entry('VmbChannelPacketFail', (h) => [h]),
    VmbChannelPacketGetExternalData: entry('VmbChannelPacketGetExternalData', (h) => [h, 0, out()]),
    VmbChannelPause: entry('VmbChannelPause', (h) => [h]),
    VmbChannelSendSynchronousRequest: entry('VmbChannelSendSynchronousRequest', (h) => [h, null, 0, null, 0, null, null, null]),
    VmbChannelSetIncomingProcessingAtPassive: entry('VmbChannelSetIncomingProcessingAtPassive', (h) => [h, true]),
    VmbChannelSetInterruptLatency: entry('VmbChannelSetInterruptLatency', (h) => [h, 10, out()]),
    VmbChannelSetPointer: entry('VmbChannelSetPointer', (h) => [h, 'p']),
    VmbChannelSetTransactionQuota: entry('VmbChannelSetTransactionQuota', (h) => [h, 4]),
    VmbChannelSizeofPacket: entry('VmbChannelSizeofPacket', (h) => [h], 0),
    VmbChannelStart: entry('VmbChannelStart', (h) => [h]),
    VmbClientChannelInitSetRingBufferPageCount: entry('VmbClientChannelInitSetRingBufferPageCount', (h) => [h, 4, 4]),
    VmbClientChannelInitSetTargetPnp: entry('VmbClientChannelInitSetTargetPnp', (h) => [h, '3375baf4-9e15-4b30-b765-67acb10d607b', null, null]),
    VmbPacketAllocate: entry('VmbPacketAllocate', (h) => [h], null),
    VmbPacketFree: entry('VmbPacketFree', (h) => [h]),
    VmbPacketGetChannel: entry('VmbPacketGetChannel', (h) => [h], null),
    VmbPacketGetPointer: entry('VmbPacketGetPointer', (h) => [h], null),
    VmbPacketInitialize: entry('VmbPacketInitialize', (h) => [h, new Uint8Array(8192), 8192]),
    VmbPacketSend: entry('VmbPacketSend', (h) => [h, null, 0, null, 0]),
    VmbPacketSendWithExternalMdl: entry('VmbPacketSendWithExternalMdl', (h) => [h, null, 0, Mdl.fromPfns([1]), 0, 0, 1]),
    VmbPacketSendWithExternalPfns: entry('VmbPacketSendWithExternalPfns', (h) => [h, null, 0, [1], 1, 1]),
    VmbPacketSetCompletionRoutine: entry('VmbPacketSetCompletionRoutine', (h) => [h, noop]),
    VmbPacketSetPointer: entry('VmbPacketSetPointer', (h) => [h, 'p']),
    VmbChannelPacketGetClientContext: entry('VmbChannelPacketGetClientContext', (h) => [h], null),
    VmbChannelGetTargetDeviceObject: entry('VmbChannelGetTargetDeviceObject', (h) => [h], null),
    VmbChannelGetParentDeviceObject: entry('VmbChannelGetParentDeviceObject', (h) => [h], null),
    VmbChannelInitSetBounceBufferSizes: entry('VmbChannelInitSetBounceBufferSizes', (h) => [h, 2, 1]),
    VmbChannelAllocateBounceBuffer: entry('VmbChannelAllocateBounceBuffer', (h) => [h, 16, out()]),
    VmbChannelInitSetMaximumPacketCount: entry('VmbChannelInitSetMaximumPacketCount', (h) => [h, 4]),
    VmbChannelCreateGpadlFromPfnList: entry('VmbChannelCreateGpadlFromPfnList', (h) => [h, 0, [1], 1, { value: 0 }]),
    VmbChannelInitSetPrimaryChannel: entry('VmbChannelInitSetPrimaryChannel', (h) => [h, goodChannel]),
    VmbChannelInitialize: entry('VmbChannelInitialize', (h) => [h, false, new Uint8Array(1024), 1024]),
    VmbChannelSetAllowableDpcCpuUsage: entry('VmbChannelSetAllowableDpcCpuUsage', (h) => [h, 100]),
    VmbClientChannelInitSetTargetProcessorIndex: entry('VmbClientChannelInitSetTargetProcessorIndex', (h) => [h, 1]),
    VmbSizeofChannel: { call: () => K.VmbSizeofChannel(), expected: K.VMB_CHANNEL_OBJECT_SIZE },
    VmbChannelInitSetInlinePacketContextSize: entry('VmbChannelInitSetInlinePacketContextSize', (h) => [h, 8]),
    VmbPacketGetInlinePacketContextPointer: entry('VmbPacketGetInlinePacketContextPointer', (h) => [h], null),
    VmbChannelInitSetProcessPacketCallbacksEx: entry('VmbChannelInitSetProcessPacketCallbacksEx', (h) => [h, noop, null]),
    VmbPacketSetCompletionRoutineEx: entry('VmbPacketSetCompletionRoutineEx', (h) => [h, noop, 1]),
  };
}

test('every member answers each kind of wrong handle with its documented invalid result', async () => {
  const h = makeHarness();
  const { channel: open, host, driver } = await openChannel(h);
  driver.hold = true;
  hostSend(host, new Uint8Array(8));
  await settle(h.scheduler);
  const completed = driver.delivered[0]!.packet;
  K.VmbChannelPacketComplete(completed, null, 0);
  const cleaned = allocate(h);
  const cleanedPacket = K.VmbPacketAllocate(cleaned);
  K.VmbChannelCleanup(cleaned);
  const freed = K.VmbPacketAllocate(open)!;
  K.VmbPacketFree(freed);
  const storage = new Uint8Array(K.VmbSizeofChannel());
  K.VmbChannelInitialize(h.device, false, storage, storage.length);
  K.VmbChannelCleanup(storage);
  const badHandles: [string, unknown][] = [
    ['null', null],
    ['undefined', undefined],
    ['a number', 0x1000],
    ['a string', 'VMBCHANNEL'],
    ['a plain object', { live: true }],
    ['a cleaned-up channel', cleaned],
    ['storage whose channel was cleaned up', storage],
    ['a packet of a cleaned-up channel', cleanedPacket],
    ['a freed packet', freed],
    ['a completed incoming packet', completed],
    ['bytes that never held anything', new Uint8Array(4096)],
  ];
  const table = calls(open);
  assert.deepEqual(Object.keys(table).sort(), [...clientInterfaceMembers(5)].sort(), 'every member has a row');
  for (const [member, { call, expected }] of Object.entries(table)) {
    for (const [what, handle] of badHandles) {
      if (member === 'VmbChannelAllocate' || member === 'VmbChannelInitialize' || member === 'VmbSizeofChannel') continue;
      assert.equal(await call(handle), expected, `${member}(${what})`);
    }
  }
  // The first parameter of the two allocators is a device object.
  for (const [what, handle] of badHandles) {
    assert.equal(await table['VmbChannelAllocate']!.call(handle), P1, `VmbChannelAllocate(${what})`);
    assert.equal(await table['VmbChannelInitialize']!.call(handle), P1, `VmbChannelInitialize(${what})`);
  }
  assert.equal(core(open).lifecycle, 'opened', 'the live channel was not touched');
});

test('handles of one kind are not accepted as another: a channel is no packet, a packet no channel', async () => {
  const h = makeHarness();
  const channel = allocate(h);
  const packet = K.VmbPacketAllocate(channel)!;
  assert.equal(K.VmbPacketSetPointer(channel as never, 1), P1);
  assert.equal(K.VmbChannelSetPointer(packet as never, 1), P1);
  assert.equal(K.VmbChannelPacketComplete(packet as never, null, 0), P1);
  assert.equal(K.VmbChannelPacketComplete(channel as never, null, 0), P1);
  const storage = new Uint8Array(K.VmbChannelSizeofPacket(channel));
  K.VmbPacketInitialize(channel, storage, storage.length);
  assert.equal(K.VmbChannelSetPointer(storage, 1), P1, 'packet storage is not channel storage');
});
