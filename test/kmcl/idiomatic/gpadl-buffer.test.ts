/**
 * Guest buffers and GPADLs on the idiomatic API: Vmbus.allocateBuffer,
 * Channel.createGpadl from each kind of source, Gpadl.delete and disposal,
 * and their failures as KmclError with the interface functions' statuses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mdl } from '../../../src/memory/index.js';
import { KmclError, NTSTATUS, channelFrom } from '../../../src/index.js';
import { TEST_INTERFACE } from '../support/harness.js';
import { drive, settle } from '../support/settle.js';
import { makeSetting, openTestChannel, outcome } from './loopback-setting.js';

const S = NTSTATUS;
const PAGE = 4096;

function thrownStatus(call: () => unknown): number | undefined {
  try {
    call();
  } catch (error) {
    if (error instanceof KmclError) return error.status;
    throw error;
  }
  return undefined;
}

test('allocateBuffer: contiguous zeroed guest pages viewed as one array, with their MDL; free() gives them back once', () => {
  const s = makeSetting();
  const before = s.allocator.allocatedPageCount;
  const buffer = s.vmbus.allocateBuffer(5000);
  assert.equal(buffer.byteCount, 5000);
  assert.equal(buffer.pfns.length, 2);
  assert.equal(buffer.pfns[1], buffer.pfns[0]! + 1, 'adjacent pages');
  assert.equal(buffer.bytes.length, 5000);
  assert.ok(buffer.bytes.every((byte) => byte === 0));
  buffer.bytes[4999] = 0x7e;
  assert.equal(s.memory.view(buffer.pfns[1]! * PAGE + 903, 1)[0], 0x7e, 'the view is guest memory');
  assert.deepEqual([buffer.mdl.byteOffset, buffer.mdl.byteCount, [...buffer.mdl.pfns]], [0, 5000, [...buffer.pfns]]);
  assert.equal(s.allocator.allocatedPageCount, before + 2);
  buffer.free();
  buffer.free();
  assert.equal(buffer.isLive, false);
  assert.equal(s.allocator.allocatedPageCount, before);
  {
    using scoped = s.vmbus.allocateBuffer(1);
    assert.equal(scoped.isLive, true);
  }
  assert.equal(s.allocator.allocatedPageCount, before, 'using frees it at the end of the block');
});

test('allocateBuffer failures: a size that is not positive is STATUS_INVALID_PARAMETER; too many pages STATUS_INSUFFICIENT_RESOURCES', () => {
  const s = makeSetting();
  assert.equal(thrownStatus(() => s.vmbus.allocateBuffer(0)), S.STATUS_INVALID_PARAMETER);
  assert.equal(thrownStatus(() => s.vmbus.allocateBuffer(1.5)), S.STATUS_INVALID_PARAMETER);
  assert.equal(thrownStatus(() => s.vmbus.allocateBuffer(600 * PAGE)), S.STATUS_INSUFFICIENT_RESOURCES);
});

test('createGpadl from a guest buffer, a view, an MDL and PFNs: the bus gets their ranges, read-only when asked', async () => {
  const s = makeSetting();
  const { channel } = await openTestChannel(s);
  const buffer = s.vmbus.allocateBuffer(3 * PAGE);
  const [p0, p1, p2] = buffer.pfns;
  const fromBuffer = await drive(s.scheduler, channel.createGpadl(buffer));
  const fromView = await drive(s.scheduler, channel.createGpadl(buffer.bytes.subarray(100, 200), { readOnly: true }));
  const fromMdl = await drive(s.scheduler, channel.createGpadl(Mdl.fromPfns([p2!, p0!], 10, 5000)));
  const fromPfns = await drive(s.scheduler, channel.createGpadl([p1!]));
  const described = [fromBuffer, fromView, fromMdl, fromPfns].map((gpadl) => {
    const record = s.bus.gpadls.get(gpadl.id)!;
    return [record.readOnly, record.ranges.map((r) => [r.byteOffset, r.byteCount, [...r.pfns]])];
  });
  assert.deepEqual(described, [
    [false, [[0, 3 * PAGE, [p0, p1, p2]]]],
    [true, [[100, 100, [p0]]]],
    [false, [[10, 5000, [p2, p0]]]],
    [false, [[0, PAGE, [p1]]]],
  ]);
  assert.deepEqual([...channelFrom(channel.handle)!.gpadls].sort(), [fromBuffer.id, fromView.id, fromMdl.id, fromPfns.id].sort());
});

test('Gpadl.delete waits for the host to unmap; a second delete is STATUS_INVALID_PARAMETER_2; disposal deletes once', async () => {
  const s = makeSetting();
  const { channel } = await openTestChannel(s);
  const buffer = s.vmbus.allocateBuffer(PAGE);
  const gpadl = await drive(s.scheduler, channel.createGpadl(buffer));
  s.bus.gpadls.get(gpadl.id)!.mapped = 1; // the host maps it
  let deleted = false;
  const deleting = gpadl.delete().then(() => (deleted = true));
  await settle(s.scheduler);
  assert.equal(deleted, false, 'the teardown waits for the host');
  s.bus.unmap(gpadl.id);
  await drive(s.scheduler, deleting);
  assert.equal(gpadl.isDeleted, true);
  assert.equal(s.bus.gpadls.has(gpadl.id), false);
  assert.deepEqual(await outcome(s, gpadl.delete()), { status: S.STATUS_INVALID_PARAMETER_2 });
  const disposed = await drive(s.scheduler, channel.createGpadl(buffer));
  await drive(s.scheduler, disposed[Symbol.asyncDispose]());
  await drive(s.scheduler, disposed[Symbol.asyncDispose]());
  assert.equal(s.bus.gpadls.has(disposed.id), false);
});

test('createGpadl failures: before the channel opens _1, a view outside guest memory _3, bad PFNs _3, empty lists _4', async () => {
  const s = makeSetting();
  const closed = s.vmbus.createChannel({ interfaceId: TEST_INTERFACE });
  assert.deepEqual(await outcome(s, closed.createGpadl([1])), { status: S.STATUS_INVALID_PARAMETER_1 });
  const { channel } = await openTestChannel(s);
  const cases: [string, () => Promise<unknown>, number][] = [
    ['a view of other memory', () => channel.createGpadl(new Uint8Array(64)), S.STATUS_INVALID_PARAMETER_3],
    ['an MDL outside guest memory', () => channel.createGpadl(Mdl.fromPfns([1 << 20])), S.STATUS_INVALID_PARAMETER_3],
    ['a PFN outside guest memory', () => channel.createGpadl([1 << 20]), S.STATUS_INVALID_PARAMETER_3],
    ['no PFN', () => channel.createGpadl([]), S.STATUS_INVALID_PARAMETER_4],
  ];
  for (const [what, create, status] of cases) assert.deepEqual(await outcome(s, create()), { status }, what);
});

test('GPADLs left at close are torn down with the channel; deleting one afterwards is STATUS_INVALID_PARAMETER_2', async () => {
  const s = makeSetting();
  const { channel } = await openTestChannel(s);
  const gpadl = await drive(s.scheduler, channel.createGpadl(s.vmbus.allocateBuffer(PAGE)));
  await drive(s.scheduler, channel.close());
  assert.equal(s.bus.gpadls.has(gpadl.id), false);
  assert.deepEqual(await outcome(s, gpadl.delete()), { status: S.STATUS_INVALID_PARAMETER_2 });
});
