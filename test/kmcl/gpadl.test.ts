import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NTSTATUS,
  VMBUS_CHANNEL_GPADL_FLAG_READ_ONLY,
  VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT,
  VmbChannelCreateGpadlFromBuffer,
  VmbChannelCreateGpadlFromMdl,
  VmbChannelCreateGpadlFromPfnList,
  VmbChannelDeleteGpadl,
  VmbChannelDisable,
  VmbChannelInitSetStateChangeCallbacks,
  type Out,
} from '../../src/index.js';
import { Mdl } from '../../src/memory/index.js';
import { allocate, makeHarness, openChannel } from './support/harness.js';
import { drive, settle } from './support/settle.js';

const S = NTSTATUS;
const PAGE = 4096;

test('CreateGpadlFromBuffer describes the pages of a guest-memory view and resolves with the GPADL id', async () => {
  const h = makeHarness();
  const { channel, offer } = await openChannel(h);
  const id: Out<number> = { value: 0 };
  const view = h.memory.view(50 * PAGE + 100, 5000);
  assert.equal(await drive(h.scheduler, VmbChannelCreateGpadlFromBuffer(channel, VMBUS_CHANNEL_GPADL_FLAG_READ_ONLY, view, 5000, id)), S.STATUS_SUCCESS);
  const gpadl = h.bus.gpadls.get(id.value)!;
  assert.equal(gpadl.channelId, offer.channelId);
  assert.equal(gpadl.readOnly, true);
  assert.deepEqual(gpadl.ranges, [{ byteOffset: 100, byteCount: 5000, pfns: [50, 51] }]);
});

test('CreateGpadlFromMdl takes a slice of a chain; CreateGpadlFromPfnList whole pages', async () => {
  const h = makeHarness();
  const { channel } = await openChannel(h);
  const chain = Mdl.chain([Mdl.fromPfns([60], 0, PAGE), Mdl.fromPfns([70], 0, PAGE)]);
  const a: Out<number> = { value: 0 };
  assert.equal(await drive(h.scheduler, VmbChannelCreateGpadlFromMdl(channel, 0, chain, 10, PAGE, a)), S.STATUS_SUCCESS);
  assert.deepEqual(h.bus.gpadls.get(a.value)!.ranges, [{ byteOffset: 10, byteCount: PAGE, pfns: [60, 70] }]);
  assert.equal(h.bus.gpadls.get(a.value)!.readOnly, false);
  const b: Out<number> = { value: 0 };
  assert.equal(await drive(h.scheduler, VmbChannelCreateGpadlFromPfnList(channel, 0, [80, 90, 85], 3, b)), S.STATUS_SUCCESS);
  assert.deepEqual(h.bus.gpadls.get(b.value)!.ranges, [{ byteOffset: 0, byteCount: 3 * PAGE, pfns: [80, 90, 85] }]);
});

test('DeleteGpadl waits while the server maps the GPADL', async () => {
  const h = makeHarness();
  const { channel } = await openChannel(h);
  const id: Out<number> = { value: 0 };
  await drive(h.scheduler, VmbChannelCreateGpadlFromPfnList(channel, 0, [80], 1, id));
  h.bus.gpadls.get(id.value)!.mapped = 1;
  let deleted: number | undefined;
  void VmbChannelDeleteGpadl(channel, id.value).then((s) => {
    deleted = s;
  });
  await settle(h.scheduler);
  assert.equal(deleted, undefined);
  h.bus.unmap(id.value);
  await settle(h.scheduler);
  assert.equal(deleted, S.STATUS_SUCCESS);
  assert.equal(h.bus.gpadls.has(id.value), false);
  assert.equal(await drive(h.scheduler, VmbChannelDeleteGpadl(channel, id.value)), S.STATUS_INVALID_PARAMETER_2, 'already deleted');
});

test('GPADLs are made in EvtChannelOpened; the ones the driver leaves are torn down when the channel closes', async () => {
  const h = makeHarness();
  const ids: number[] = [];
  const { channel } = await openChannel(h, (ch) => {
    const callbacks = VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT();
    callbacks.EvtChannelOpened = async (opened) => {
      const id: Out<number> = { value: 0 };
      const status = await VmbChannelCreateGpadlFromPfnList(opened, 0, [100, 101], 2, id);
      ids.push(id.value);
      return status;
    };
    VmbChannelInitSetStateChangeCallbacks(ch, callbacks);
  });
  assert.equal(ids.length, 1);
  assert.ok(h.bus.gpadls.has(ids[0]!));
  await drive(h.scheduler, VmbChannelDisable(channel));
  assert.equal(h.bus.gpadls.size, 0);
});

test('GPADL functions reject bad arguments and channels that are not open', async () => {
  const h = makeHarness();
  const closed = allocate(h);
  const { channel } = await openChannel(h);
  const id: Out<number> = { value: 0 };
  const guest = h.memory.view(0, 4096);
  const cases: [string, () => Promise<number>, number][] = [
    ['buffer: closed channel', () => VmbChannelCreateGpadlFromBuffer(closed, 0, guest, 16, id), S.STATUS_INVALID_PARAMETER_1],
    ['buffer: unknown flag', () => VmbChannelCreateGpadlFromBuffer(channel, 2, guest, 16, id), S.STATUS_INVALID_PARAMETER_2],
    ['buffer: not guest memory', () => VmbChannelCreateGpadlFromBuffer(channel, 0, new Uint8Array(16), 16, id), S.STATUS_INVALID_PARAMETER_3],
    ['buffer: ByteCount 0', () => VmbChannelCreateGpadlFromBuffer(channel, 0, guest, 0, id), S.STATUS_INVALID_PARAMETER_4],
    ['buffer: ByteCount past the view', () => VmbChannelCreateGpadlFromBuffer(channel, 0, guest, 4097, id), S.STATUS_INVALID_PARAMETER_4],
    ['buffer: no out-parameter', () => VmbChannelCreateGpadlFromBuffer(channel, 0, guest, 16, null as never), S.STATUS_INVALID_PARAMETER_5],
    ['MDL: closed channel', () => VmbChannelCreateGpadlFromMdl(closed, 0, Mdl.fromPfns([1]), 0, 0, id), S.STATUS_INVALID_PARAMETER_1],
    ['MDL: not an MDL', () => VmbChannelCreateGpadlFromMdl(channel, 0, {} as never, 0, 0, id), S.STATUS_INVALID_PARAMETER_3],
    ['MDL: outside guest memory', () => VmbChannelCreateGpadlFromMdl(channel, 0, Mdl.fromPfns([9999]), 0, 0, id), S.STATUS_INVALID_PARAMETER_3],
    ['MDL: offset at the end', () => VmbChannelCreateGpadlFromMdl(channel, 0, Mdl.fromPfns([1]), PAGE, 0, id), S.STATUS_INVALID_PARAMETER_4],
    ['MDL: length past the end', () => VmbChannelCreateGpadlFromMdl(channel, 0, Mdl.fromPfns([1]), 1, PAGE, id), S.STATUS_INVALID_PARAMETER_5],
    ['MDL: no out-parameter', () => VmbChannelCreateGpadlFromMdl(channel, 0, Mdl.fromPfns([1]), 0, 0, 3 as never), S.STATUS_INVALID_PARAMETER_6],
    ['PFNs: not a list', () => VmbChannelCreateGpadlFromPfnList(channel, 0, 'x' as never, 1, id), S.STATUS_INVALID_PARAMETER_3],
    ['PFNs: outside guest memory', () => VmbChannelCreateGpadlFromPfnList(channel, 0, [512], 1, id), S.STATUS_INVALID_PARAMETER_3],
    ['PFNs: count 0', () => VmbChannelCreateGpadlFromPfnList(channel, 0, [1], 0, id), S.STATUS_INVALID_PARAMETER_4],
    ['PFNs: count past the list', () => VmbChannelCreateGpadlFromPfnList(channel, 0, [1], 2, id), S.STATUS_INVALID_PARAMETER_4],
    ['PFNs: no out-parameter', () => VmbChannelCreateGpadlFromPfnList(channel, 0, [1], 1, undefined as never), S.STATUS_INVALID_PARAMETER_5],
    ['delete: bad channel', () => VmbChannelDeleteGpadl({} as never, 1), S.STATUS_INVALID_PARAMETER_1],
    ['delete: unknown GPADL', () => VmbChannelDeleteGpadl(channel, 12345), S.STATUS_INVALID_PARAMETER_2],
  ];
  for (const [name, call, status] of cases) assert.equal(await drive(h.scheduler, call()), status, name);
  assert.equal(id.value, 0, 'never set');
  assert.equal(h.bus.gpadls.size, 0);
});

test('a bus failure is the status CreateGpadl returns', async () => {
  const h = makeHarness();
  const { channel, offer } = await openChannel(h);
  const id: Out<number> = { value: 0 };
  const pending = VmbChannelCreateGpadlFromPfnList(channel, 0, [1], 1, id);
  h.bus.rescind(offer.channelId); // the loopback refuses GPADLs on a rescinded channel
  assert.equal(await drive(h.scheduler, pending), S.STATUS_DEVICE_REMOVED);
});
