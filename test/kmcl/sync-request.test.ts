import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NTSTATUS,
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION,
  VmbChannelDisable,
  VmbChannelInitSetMaximumPacketCount,
  VmbChannelInitSetMaximumPacketSize,
  VmbChannelSendSynchronousRequest,
  VmbClientChannelInitSetRingBufferPageCount,
  VmbPacketAllocate,
  VmbPacketSend,
  type Out,
} from '../../src/index.js';
import { Mdl } from '../../src/memory/index.js';
import { core, hostComplete, hostRead, makeHarness, openChannel } from './support/harness.js';
import { advance, settle } from './support/settle.js';

const S = NTSTATUS;
const WAIT = VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION;

test('with WAIT_FOR_COMPLETION it resolves with the peer\'s completion copied into the caller\'s buffer', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h);
  const completion = new Uint8Array(16);
  const size: Out<number> = { value: 16 };
  let result: number | undefined;
  void VmbChannelSendSynchronousRequest(channel, new Uint8Array([1, 2]), 2, null, WAIT, completion, size, null).then((s) => {
    result = s;
  });
  const [request] = hostRead(host);
  assert.equal(request!.flags, 1);
  await settle(h.scheduler);
  assert.equal(result, undefined, 'waiting');
  hostComplete(host, request!.transactionIdLo, request!.transactionIdHi, new Uint8Array([0xaa, 0xbb, 0xcc]));
  await settle(h.scheduler);
  assert.equal(result, S.STATUS_SUCCESS);
  // The completion payload is padded to 8 on the wire, so 8 bytes arrive.
  assert.equal(size.value, 8);
  assert.deepEqual([...completion.subarray(0, 8)], [0xaa, 0xbb, 0xcc, 0, 0, 0, 0, 0]);
});

test('without WAIT_FOR_COMPLETION it resolves once the packet is in the ring', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h);
  const size: Out<number> = { value: 8 };
  assert.equal(await VmbChannelSendSynchronousRequest(channel, new Uint8Array(4), 4, null, 0, new Uint8Array(8), size, null), S.STATUS_SUCCESS);
  assert.equal(size.value, 0);
  assert.equal(hostRead(host)[0]!.flags, 0);
});

test('a completion longer than the buffer is truncated and reported as STATUS_BUFFER_OVERFLOW', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h);
  const completion = new Uint8Array(8);
  const size: Out<number> = { value: 8 };
  const pending = VmbChannelSendSynchronousRequest(channel, null, 0, null, WAIT, completion, size, null);
  const [request] = hostRead(host);
  hostComplete(host, request!.transactionIdLo, request!.transactionIdHi, new Uint8Array(16).fill(3));
  await settle(h.scheduler);
  assert.equal(await pending, S.STATUS_BUFFER_OVERFLOW);
  assert.equal(size.value, 8);
  assert.ok(completion.every((b) => b === 3));
});

test('a timeout cancels the request: STATUS_CANCELLED, and the late completion is dropped', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h);
  let result: number | undefined;
  // KeWaitForSingleObject style: negative is relative, in 100 ns units (1 ms here).
  void VmbChannelSendSynchronousRequest(channel, null, 0, null, WAIT, null, null, { QuadPart: -10_000n }).then((s) => {
    result = s;
  });
  const [request] = hostRead(host);
  await advance(h.scheduler, 9_999);
  assert.equal(result, undefined);
  await advance(h.scheduler, 1);
  assert.equal(result, S.STATUS_CANCELLED);
  hostComplete(host, request!.transactionIdLo, request!.transactionIdHi);
  await settle(h.scheduler);
  assert.equal(core(channel).counters.unknownCompletions, 1);
  assert.equal(core(channel).pool.liveCount, 0, 'the request\'s packet went back to the pool');
});

test('a request completed before its timeout cancels the timer: nothing is left scheduled', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h);
  const pending = VmbChannelSendSynchronousRequest(channel, null, 0, null, WAIT, null, null, { QuadPart: -10_000_000n });
  const [request] = hostRead(host);
  hostComplete(host, request!.transactionIdLo, request!.transactionIdHi);
  await settle(h.scheduler);
  assert.equal(await pending, S.STATUS_SUCCESS);
  assert.equal(h.scheduler.pending, 0, 'the 1 s timeout is gone');
});

test('timeout 0 with a full ring: STATUS_BUFFER_OVERFLOW and nothing queued', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h, (ch) => {
    VmbChannelInitSetMaximumPacketSize(ch, 4040);
    VmbClientChannelInitSetRingBufferPageCount(ch, 2, 2);
  });
  VmbPacketSend(VmbPacketAllocate(channel)!, new Uint8Array(4040), 4040, null, 0); // leaves 24 bytes
  const zero = { QuadPart: 0 };
  assert.equal(await VmbChannelSendSynchronousRequest(channel, new Uint8Array(8), 8, null, 0, null, null, zero), S.STATUS_BUFFER_OVERFLOW);
  assert.equal(core(channel).sends.queuedCount, 0);
  hostRead(host);
  assert.equal(await VmbChannelSendSynchronousRequest(channel, new Uint8Array(8), 8, null, 0, null, null, zero), S.STATUS_SUCCESS, 'room now');
});

test('the channel closing first ends the request with STATUS_DEVICE_REMOVED (disable or rescind)', async () => {
  for (const how of ['disable', 'rescind'] as const) {
    const h = makeHarness();
    const { channel, offer } = await openChannel(h);
    const pending = VmbChannelSendSynchronousRequest(channel, null, 0, null, WAIT, null, null, null);
    if (how === 'disable') void VmbChannelDisable(channel);
    else h.bus.rescind(offer.channelId);
    assert.equal(await pending, S.STATUS_DEVICE_REMOVED, how);
  }
});

test('a request made before the channel opens waits for it, then completes', async () => {
  const h = makeHarness();
  const results: number[] = [];
  const { host } = await openChannel(h, (channel) => {
    void VmbChannelSendSynchronousRequest(channel, new Uint8Array([5]), 1, null, 0, null, null, null).then((s) => results.push(s));
  });
  assert.deepEqual(results, [S.STATUS_SUCCESS]);
  assert.equal(hostRead(host)[0]!.payload[0], 5);
});

test('VmbChannelSendSynchronousRequest rejects bad arguments', async () => {
  const h = makeHarness();
  const { channel, host } = await openChannel(h, (ch) => VmbChannelInitSetMaximumPacketSize(ch, 64));
  const cases: [string, unknown[], number][] = [
    ['bad channel', [{}, null, 0, null, 0, null, null, null], S.STATUS_INVALID_PARAMETER_1],
    ['buffer shorter than the size', [channel, new Uint8Array(2), 3, null, 0, null, null, null], S.STATUS_INVALID_PARAMETER_2],
    ['size above the maximum packet size', [channel, new Uint8Array(65), 65, null, 0, null, null, null], S.STATUS_INVALID_PARAMETER_3],
    ['MDL not an MDL', [channel, null, 0, 'mdl', WAIT, null, null, null], S.STATUS_INVALID_PARAMETER_4],
    ['MDL without WAIT_FOR_COMPLETION', [channel, null, 0, Mdl.fromPfns([3]), 0, null, null, null], S.STATUS_INVALID_PARAMETER_5],
    ['unknown flag', [channel, null, 0, null, 0x10, null, null, null], S.STATUS_INVALID_PARAMETER_5],
    ['completion buffer shorter than its size', [channel, null, 0, null, WAIT, new Uint8Array(8), { value: 16 }, null], S.STATUS_INVALID_PARAMETER_6],
    // "This value must be rounded up to nearest 8 bytes, or else the function fails" (fn_vmb_channel_send_synchronous_request.md).
    ['completion size not a multiple of 8', [channel, null, 0, null, WAIT, new Uint8Array(12), { value: 12 }, null], S.STATUS_INVALID_PARAMETER_7],
    ['completion size not a box', [channel, null, 0, null, WAIT, new Uint8Array(8), 8, null], S.STATUS_INVALID_PARAMETER_7],
    ['timeout not a LARGE_INTEGER', [channel, null, 0, null, WAIT, null, null, { QuadPart: 'soon' }], S.STATUS_INVALID_PARAMETER_8],
  ];
  for (const [name, args, status] of cases) {
    assert.equal(await (VmbChannelSendSynchronousRequest as (...a: unknown[]) => Promise<number>)(...args), status, name);
  }
  assert.deepEqual(hostRead(host), []);
  assert.equal(core(channel).pool.liveCount, 0, 'no packet leaked');
});

test('STATUS_INSUFFICIENT_RESOURCES when the packet limit leaves no packet object', async () => {
  const h = makeHarness();
  const { channel } = await openChannel(h, (ch) => VmbChannelInitSetMaximumPacketCount(ch, 1));
  VmbPacketAllocate(channel);
  assert.equal(await VmbChannelSendSynchronousRequest(channel, null, 0, null, 0, null, null, null), S.STATUS_INSUFFICIENT_RESOURCES);
});
