/**
 * VmbChannelMapGpadl / VmbChannelUnmapGpadl over the real bus: the VSP maps
 * a GPADL the guest's KMCL driver created, reads and writes the guest's
 * pages through it; the guest's VmbChannelDeleteGpadl waits while it is
 * mapped; read-only rules; invalid inputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryError, memoryError, type GpadlMapping } from '../../../src/memory/index.js';
import {
  NTSTATUS,
  VMBUS_CHANNEL_GPADL_FLAG_READ_ONLY,
  VmbChannelAllocate,
  VmbChannelCreateGpadlFromPfnList,
  VmbChannelDeleteGpadl,
  VmbChannelDisable,
  VmbChannelEnable,
  VmbClientChannelInitSetTargetPnp,
  type Guid,
  type HostBusPort,
  type Out,
  type VMBCHANNEL,
} from '../../../src/index.js';
import { testSeed } from '../../support/seed.js';
import { RecordingDriver, allocate, makeHarness } from '../support/harness.js';
import { drive, settle } from '../support/settle.js';
import { ServerMachine, VSP_INSTANCE, VSP_INTERFACE, VspDriver, core, type ServerMachineOptions } from './support/server-machine.js';

const S = NTSTATUS;
const PAGE = 4096;
const OTHER_INSTANCE = '5c4b3a29-1807-4f6e-8d5c-4b3a29180706';

interface Mapped {
  readonly m: ServerMachine;
  readonly vsp: VspDriver;
  readonly server: VMBCHANNEL;
  readonly client: VMBCHANNEL;
}

/** A server channel open with a guest KMCL channel (instance `instance`). */
async function open(seed: number, options: ServerMachineOptions = {}, instance: Guid = VSP_INSTANCE, m = new ServerMachine(seed, options)): Promise<Mapped> {
  const vsp = new VspDriver();
  const server = m.serverChannel(vsp, (c) => m.kmcl.VmbServerChannelInitSetTargetInterfaceId(c, VSP_INTERFACE, instance));
  if (m.device === undefined) await m.connect();
  const box: Out<VMBCHANNEL | null> = { value: null };
  VmbChannelAllocate(m.device, false, box);
  VmbClientChannelInitSetTargetPnp(box.value!, VSP_INTERFACE, instance, null);
  new RecordingDriver().install(box.value!);
  VmbChannelEnable(box.value!);
  await settle(m.scheduler);
  assert.equal(core(server).lifecycle, 'opened');
  return { m, vsp, server, client: box.value! };
}

/** The guest's GPADL over `pages` fresh guest pages filled with `fill`; its id. */
async function guestGpadl(m: ServerMachine, client: VMBCHANNEL, pages: number, fill: number, flags = 0): Promise<{ id: number; pfns: number[] }> {
  const pfns = m.allocator.allocate(pages);
  if (pfns instanceof MemoryError) throw pfns;
  for (const pfn of pfns) m.memory.pageView(pfn).fill(fill);
  const id: Out<number> = { value: 0 };
  assert.equal(await drive(m.scheduler, VmbChannelCreateGpadlFromPfnList(client, flags, pfns, pages, id)), S.STATUS_SUCCESS);
  return { id: id.value, pfns };
}

test('the VSP maps the guest\'s GPADL, reads and writes its pages; the guest\'s delete waits until the VSP unmaps', async (t) => {
  const { m, server, client } = await open(testSeed(t.name));
  const { id, pfns } = await guestGpadl(m, client, 2, 0x5a);
  const mdl: Out<GpadlMapping | null> = { value: null };
  assert.equal(m.kmcl.VmbChannelMapGpadl(server, 0, id, mdl), S.STATUS_SUCCESS);
  const mapping = mdl.value!;
  assert.equal(mapping.byteLength, 2 * PAGE);
  assert.deepEqual(mapping.read(PAGE - 2, 4), new Uint8Array([0x5a, 0x5a, 0x5a, 0x5a]));
  assert.equal(mapping.write(PAGE, new Uint8Array([1, 2, 3])), undefined);
  assert.deepEqual(m.memory.pageView(pfns[1]!).subarray(0, 3), new Uint8Array([1, 2, 3]), 'the write reached the guest\'s page');
  assert.equal(m.kmcl.VmbChannelMapGpadl(server, 0, id, { value: null }), S.STATUS_INVALID_DEVICE_STATE, 'one mapping per GPADL (the page)');
  let deleted: number | null = null;
  void VmbChannelDeleteGpadl(client, id).then((status) => (deleted = status));
  await settle(m.scheduler);
  assert.equal(deleted, null, 'the guest\'s delete waits while the GPADL is mapped');
  assert.equal(m.kmcl.VmbChannelUnmapGpadl(server, id), S.STATUS_SUCCESS);
  await settle(m.scheduler);
  assert.equal(deleted, S.STATUS_SUCCESS);
  assert.equal(mapping.isMapped, false);
  assert.equal(m.kmcl.VmbChannelUnmapGpadl(server, id), S.STATUS_INVALID_PARAMETER_2, 'not mapped any more');
  assert.equal(m.kmcl.VmbChannelMapGpadl(server, 0, id, { value: null }), S.STATUS_NOT_FOUND, 'the GPADL is gone');
});

test('a GPADL the guest is deleting cannot be mapped again: STATUS_DELETE_PENDING', async (t) => {
  const { m, server, client } = await open(testSeed(t.name));
  const { id } = await guestGpadl(m, client, 1, 0);
  const channelId = core(server).server!.channelId!;
  // A second mapping made outside the channel (another user of the same bus) keeps the teardown waiting.
  const other = m.hostBus.mapGpadl(channelId, id, { writable: false });
  assert.ok(!(other instanceof MemoryError));
  assert.equal(m.kmcl.VmbChannelMapGpadl(server, 0, id, { value: null }), S.STATUS_SUCCESS);
  void VmbChannelDeleteGpadl(client, id);
  await settle(m.scheduler);
  assert.equal(m.kmcl.VmbChannelUnmapGpadl(server, id), S.STATUS_SUCCESS);
  assert.equal(m.kmcl.VmbChannelMapGpadl(server, 0, id, { value: null }), S.STATUS_DELETE_PENDING);
  m.hostBus.unmapGpadl(other);
});

test('read-only: a read-only mapping refuses writes; a writable mapping of a GPADL created read-only is STATUS_ACCESS_DENIED', async (t) => {
  // GPADL_HEADER carries no read-only flag (openvmm-vmbus.md §6.5): a bus that knew the guest's flag is stood in for here.
  const readOnly = new Set<number>();
  const bus = (hostBus: HostBusPort): HostBusPort => ({
    offerChannel: (offer, handlers) => hostBus.offerChannel(offer, handlers),
    mapGpadl: (channelId, gpadlId, options) =>
      options.writable && readOnly.has(gpadlId) ? memoryError('read-only', `GPADL ${gpadlId} was created read-only`) : hostBus.mapGpadl(channelId, gpadlId, options),
    unmapGpadl: (mapping) => hostBus.unmapGpadl(mapping),
  });
  const { m, server, client } = await open(testSeed(t.name), { bus });
  const { id } = await guestGpadl(m, client, 1, 7, VMBUS_CHANNEL_GPADL_FLAG_READ_ONLY);
  readOnly.add(id);
  assert.equal(m.kmcl.VmbChannelMapGpadl(server, 0, id, { value: null }), S.STATUS_ACCESS_DENIED);
  const mdl: Out<GpadlMapping | null> = { value: null };
  assert.equal(m.kmcl.VmbChannelMapGpadl(server, VMBUS_CHANNEL_GPADL_FLAG_READ_ONLY, id, mdl), S.STATUS_SUCCESS);
  assert.deepEqual(mdl.value!.read(0, 2), new Uint8Array([7, 7]));
  assert.equal((mdl.value!.write(0, new Uint8Array([1])) as MemoryError).code, 'read-only');
});

test('what the VSP leaves mapped is unmapped after EvtChannelClosed; the guest\'s delete then completes', async (t) => {
  const { m, vsp, server, client } = await open(testSeed(t.name));
  const { id } = await guestGpadl(m, client, 1, 0);
  const mdl: Out<GpadlMapping | null> = { value: null };
  m.kmcl.VmbChannelMapGpadl(server, 0, id, mdl);
  let mappedInClosed: boolean | null = null;
  vsp.onClosed = () => (mappedInClosed = mdl.value!.isMapped);
  // The guest closes its channel with the GPADL still alive; the close tears it down (lifecycle.ts teardownLeftoverGpadls).
  assert.equal(await drive(m.scheduler, VmbChannelDisable(client)), S.STATUS_SUCCESS);
  assert.equal(mappedInClosed, true, 'still mapped during EvtChannelClosed');
  assert.equal(mdl.value!.isMapped, false);
  assert.equal(m.hostBus.snapshot().table.mappings, 0, 'neither the GPADL nor the ring is mapped');
});

test('VmbChannelMapGpadl / UnmapGpadl refuse bad arguments with their statuses', async (t) => {
  const seed = testSeed(t.name);
  const { m, server, client } = await open(seed);
  const second = await open(seed, {}, OTHER_INSTANCE, m);
  const { id } = await guestGpadl(m, client, 1, 0);
  const { id: othersId } = await guestGpadl(m, second.client, 1, 0);
  const disabledServer = m.serverChannel(new VspDriver(), (c) => m.kmcl.VmbServerChannelInitSetTargetInterfaceId(c, VSP_INTERFACE, '7d6c5b4a-3928-4716-a5b4-c3d2e1f0a9b8'), false);
  const clientChannel = allocate(makeHarness());
  const ringMappings = m.hostBus.snapshot().table.mappings;
  const cases: [string, unknown[], number][] = [
    ['a client channel', [clientChannel, 0, id, { value: null }], S.STATUS_INVALID_PARAMETER_1],
    ['a server channel not open', [disabledServer, 0, id, { value: null }], S.STATUS_INVALID_PARAMETER_1],
    ['unknown flags', [server, 2, id, { value: null }], S.STATUS_INVALID_PARAMETER_2],
    ['GPADL id not a UINT32', [server, 0, -1, { value: null }], S.STATUS_INVALID_PARAMETER_3],
    ['no out-parameter', [server, 0, id, null], S.STATUS_INVALID_PARAMETER_4],
    ['a GPADL the guest never made', [server, 0, 0x7777, { value: null }], S.STATUS_NOT_FOUND],
    ['another channel\'s GPADL', [server, 0, othersId, { value: null }], S.STATUS_NOT_FOUND],
  ];
  for (const [name, args, status] of cases) {
    assert.equal((m.kmcl.VmbChannelMapGpadl as (...a: unknown[]) => number)(...args), status, name);
  }
  assert.equal(m.hostBus.snapshot().table.mappings, ringMappings, 'nothing but the rings is mapped');
  const unmaps: [string, unknown[], number][] = [
    ['a client channel', [clientChannel, id], S.STATUS_INVALID_PARAMETER_1],
    ['not a channel', [{}, id], S.STATUS_INVALID_PARAMETER_1],
    ['a GPADL not mapped', [server, id], S.STATUS_INVALID_PARAMETER_2],
    ['an id that is no UINT32', [server, 'x'], S.STATUS_INVALID_PARAMETER_2],
  ];
  for (const [name, args, status] of unmaps) {
    assert.equal((m.kmcl.VmbChannelUnmapGpadl as (...a: unknown[]) => number)(...args), status, name);
  }
});
