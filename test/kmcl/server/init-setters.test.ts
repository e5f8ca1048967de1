/**
 * The server-only Init functions and VMBus handles: what each does, and
 * table-driven invalid inputs, each getting its documented status and
 * changing nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OFFER_FLAG } from '../../../src/wire/messages/index.js';
import {
  KmclHostDeviceObject,
  NTSTATUS,
  VMBUS_SERVER_CHANNEL_INIT_FLAGS,
  VMBUS_SERVER_CHANNEL_INIT_FLAG_ENUMERATE_DEVICE_INTERFACE,
  VMBUS_SERVER_CHANNEL_INIT_FLAG_OFFER_AS_PIPE,
  VMBUS_SERVER_CHANNEL_INIT_FLAG_TLNPI_PROVIDER_OFFER,
  VmbChannelAllocate,
  VmbClientChannelInitSetRingBufferPageCount,
  VmbConvertVmbusHandleToKernelHandle,
  VmbServerChannelInitSetFlags,
  VmbServerChannelInitSetMmioMegabytes,
  VmbServerChannelInitSetSaveRestorePacketCallbacks,
  VmbServerChannelInitSetSaveRestorePacketCallbacksEx,
  VmbServerChannelInitSetTargetInterfaceId,
  VmbServerChannelInitSetTargetVtl,
  VmbServerChannelInitSetVmbusHandle,
  type HANDLE,
  type Out,
  type VMBCHANNEL,
} from '../../../src/index.js';
import { testSeed } from '../../support/seed.js';
import { allocate, makeHarness } from '../support/harness.js';
import { KmclMachine } from '../support/kmcl-machine.js';
import { settle } from '../support/settle.js';
import { ServerMachine, VSP_INSTANCE, VSP_INTERFACE, VspDriver, core } from './support/server-machine.js';

const S = NTSTATUS;

function serverChannel(m: ServerMachine): VMBCHANNEL {
  const box: Out<VMBCHANNEL | null> = { value: null };
  assert.equal(m.kmcl.VmbChannelAllocate(m.hostDeviceObject, true, box), S.STATUS_SUCCESS);
  return box.value!;
}

type Setter = (channel: VMBCHANNEL) => number;

/** Each server setter with good arguments, for the "wrong channel" rows. */
function goodSetters(m: ServerMachine): [string, Setter][] {
  const kernel: Out<HANDLE | null> = { value: null };
  VmbConvertVmbusHandleToKernelHandle(m.hostDeviceObject.openVmbusHandle(), kernel);
  const save = (): number => S.STATUS_SUCCESS;
  return [
    ['SetVmbusHandle', (c) => VmbServerChannelInitSetVmbusHandle(c, kernel.value!)],
    ['SetTargetInterfaceId', (c) => VmbServerChannelInitSetTargetInterfaceId(c, VSP_INTERFACE, VSP_INSTANCE)],
    ['SetFlags', (c) => VmbServerChannelInitSetFlags(c, 0)],
    ['SetMmioMegabytes', (c) => VmbServerChannelInitSetMmioMegabytes(c, 1, 0)],
    ['SetTargetVtl', (c) => VmbServerChannelInitSetTargetVtl(c, 0)],
    ['SetSaveRestorePacketCallbacks', (c) => VmbServerChannelInitSetSaveRestorePacketCallbacks(c, save, save)],
    ['SetSaveRestorePacketCallbacksEx', (c) => VmbServerChannelInitSetSaveRestorePacketCallbacksEx(c, save, save, 'context')],
  ];
}

test('every server Init function is STATUS_INVALID_PARAMETER_1 on a client channel, an enabled server channel and a cleaned-up one', async (t) => {
  const m = new ServerMachine(testSeed(t.name));
  const client = allocate(makeHarness());
  const enabled = m.serverChannel(new VspDriver());
  const cleanedUp = serverChannel(m);
  m.kmcl.VmbChannelCleanup(cleanedUp);
  for (const [name, set] of goodSetters(m)) {
    assert.equal(set(client), S.STATUS_INVALID_PARAMETER_1, `${name} on a client channel`);
    assert.equal(set(enabled), S.STATUS_INVALID_PARAMETER_1, `${name} on an enabled channel`);
    assert.equal(set(cleanedUp), S.STATUS_INVALID_PARAMETER_1, `${name} after cleanup`);
    assert.equal(set(serverChannel(m)), S.STATUS_SUCCESS, `${name} on a disabled server channel`);
  }
  assert.equal(core(enabled).server?.interfaceId, VSP_INTERFACE, 'the enabled channel kept its settings');
});

test('VmbChannelAllocate pairs a server endpoint with a host device object and a client endpoint with a guest one', () => {
  const m = new ServerMachine(1);
  const guestDevice = makeHarness().device;
  const cases: [string, unknown, unknown, number][] = [
    ['server on a host device object', m.hostDeviceObject, true, S.STATUS_SUCCESS],
    ['TRUE as 1', m.hostDeviceObject, 1, S.STATUS_SUCCESS],
    ['client on a host device object', m.hostDeviceObject, false, S.STATUS_INVALID_PARAMETER_2],
    ['server on a guest device object', guestDevice, true, S.STATUS_INVALID_PARAMETER_2],
    ['IsServer not a BOOLEAN', m.hostDeviceObject, 'yes', S.STATUS_INVALID_PARAMETER_2],
    ['no device object', { kind: 'host' }, true, S.STATUS_INVALID_PARAMETER_1],
  ];
  for (const [name, parent, isServer, status] of cases) {
    const box: Out<VMBCHANNEL | null> = { value: null };
    assert.equal((VmbChannelAllocate as (...a: unknown[]) => number)(parent, isServer, box), status, name);
    assert.equal(box.value !== null, status === S.STATUS_SUCCESS, `${name}: channel made only on success`);
  }
  const server = serverChannel(m);
  assert.equal(m.kmcl.VmbChannelGetParentDeviceObject(server), m.hostDeviceObject);
  assert.equal(VmbClientChannelInitSetRingBufferPageCount(server, 4, 4), S.STATUS_INVALID_PARAMETER_1, 'client-only setters refuse server channels');
});

test('VMBus handles: the worker process\'s user-mode handle converts to a kernel handle that names the same guest; both close once', () => {
  const m = new ServerMachine(1);
  const user = m.hostDeviceObject.openVmbusHandle();
  assert.equal(user.mode, 'user');
  const kernel: Out<HANDLE | null> = { value: null };
  assert.equal(VmbConvertVmbusHandleToKernelHandle(user, kernel), S.STATUS_SUCCESS);
  assert.equal(kernel.value?.mode, 'kernel');
  assert.equal(kernel.value?.device, m.hostDeviceObject);
  assert.equal(user.close(), S.STATUS_SUCCESS);
  assert.equal(user.close(), S.STATUS_INVALID_HANDLE, 'closed twice');
  assert.equal(kernel.value?.device, m.hostDeviceObject, 'the kernel handle outlives the user one');
  const closedUser = m.hostDeviceObject.openVmbusHandle();
  closedUser.close();
  const cases: [string, unknown, unknown, number][] = [
    ['a kernel handle', kernel.value, { value: null }, S.STATUS_INVALID_HANDLE],
    ['a closed user handle', closedUser, { value: null }, S.STATUS_INVALID_HANDLE],
    ['not a handle', { mode: 'user' }, { value: null }, S.STATUS_INVALID_HANDLE],
    ['no out-parameter', m.hostDeviceObject.openVmbusHandle(), null, S.STATUS_INVALID_PARAMETER_2],
    ['a frozen out-parameter', m.hostDeviceObject.openVmbusHandle(), Object.freeze({ value: null }), S.STATUS_INVALID_PARAMETER_2],
  ];
  for (const [name, handle, out, status] of cases) {
    assert.equal((VmbConvertVmbusHandleToKernelHandle as (...a: unknown[]) => number)(handle, out), status, name);
  }
});

test('VmbServerChannelInitSetVmbusHandle offers the channel on the guest the kernel handle names', async (t) => {
  const seed = testSeed(t.name);
  const a = new ServerMachine(seed);
  const b = new KmclMachine(seed + 1);
  const other = KmclHostDeviceObject.create({ bus: b.hostBus, guestMemory: b.memory, scheduler: b.scheduler });
  const kernel: Out<HANDLE | null> = { value: null };
  VmbConvertVmbusHandleToKernelHandle(other.openVmbusHandle(), kernel);
  const channel = a.serverChannel(new VspDriver(), (c) => assert.equal(VmbServerChannelInitSetVmbusHandle(c, kernel.value!), S.STATUS_SUCCESS));
  assert.equal(kernel.value!.close(), S.STATUS_SUCCESS, 'the channel keeps the guest, not the handle');
  await a.connect();
  await b.connect();
  assert.equal(a.guestBus.offers().length, 0, 'not offered to the parent\'s guest');
  assert.deepEqual(b.guestBus.offers().map((o) => o.interfaceId), [VSP_INTERFACE]);
  assert.equal(core(channel).context.memory, b.memory, 'its data plane reads the other guest\'s memory');
  const bad: [string, unknown, number][] = [
    ['a user-mode handle', other.openVmbusHandle(), S.STATUS_INVALID_HANDLE],
    ['a closed kernel handle', kernel.value, S.STATUS_INVALID_HANDLE],
    ['not a handle', 42, S.STATUS_INVALID_HANDLE],
  ];
  const fresh = serverChannel(a);
  for (const [name, handle, status] of bad) {
    assert.equal((VmbServerChannelInitSetVmbusHandle as (...x: unknown[]) => number)(fresh, handle), status, name);
  }
  assert.equal(core(fresh).server?.device, a.hostDeviceObject, 'unchanged');
});

test('VmbServerChannelInitSetTargetInterfaceId: the offer\'s type and instance (any case); bad GUIDs are _2 / _3', async (t) => {
  const m = new ServerMachine(testSeed(t.name));
  const channel = m.serverChannel(new VspDriver(), (c) =>
    assert.equal(VmbServerChannelInitSetTargetInterfaceId(c, VSP_INTERFACE.toUpperCase(), VSP_INSTANCE), S.STATUS_SUCCESS),
  );
  await m.connect();
  assert.deepEqual(m.guestBus.offers().map((o) => [o.interfaceId, o.instanceId]), [[VSP_INTERFACE, VSP_INSTANCE]]);
  const fresh = serverChannel(m);
  const cases: [string, unknown, unknown, number][] = [
    ['type not a GUID', 'not-a-guid', VSP_INSTANCE, S.STATUS_INVALID_PARAMETER_2],
    ['type missing', null, VSP_INSTANCE, S.STATUS_INVALID_PARAMETER_2],
    ['instance not a GUID', VSP_INTERFACE, '{1234}', S.STATUS_INVALID_PARAMETER_3],
    ['instance missing', VSP_INTERFACE, undefined, S.STATUS_INVALID_PARAMETER_3],
  ];
  for (const [name, type, instance, status] of cases) {
    assert.equal((VmbServerChannelInitSetTargetInterfaceId as (...a: unknown[]) => number)(fresh, type, instance), status, name);
  }
  assert.equal(core(fresh).server?.interfaceId, null, 'unchanged');
  assert.equal(core(channel).lifecycle, 'enabled');
});

test('VmbServerChannelInitSetFlags: each server flag selects the offer\'s kind on the wire; other bits are _2', async (t) => {
  const seed = testSeed(t.name);
  // OFFER_CHANNEL flags (openvmm-vmbus.md §6.6; OpenVMM protocol.rs:549-568): 0x1 device interface, 0x10 named pipe, 0x2000 hvsocket.
  const expected: [number, number][] = [
    [0, 0],
    [VMBUS_SERVER_CHANNEL_INIT_FLAG_ENUMERATE_DEVICE_INTERFACE, OFFER_FLAG.ENUMERATE_DEVICE_INTERFACE],
    [VMBUS_SERVER_CHANNEL_INIT_FLAG_OFFER_AS_PIPE, OFFER_FLAG.NAMED_PIPE_MODE],
    [
      VMBUS_SERVER_CHANNEL_INIT_FLAG_OFFER_AS_PIPE | VMBUS_SERVER_CHANNEL_INIT_FLAG_ENUMERATE_DEVICE_INTERFACE,
      OFFER_FLAG.NAMED_PIPE_MODE | OFFER_FLAG.ENUMERATE_DEVICE_INTERFACE,
    ],
    [
      VMBUS_SERVER_CHANNEL_INIT_FLAG_TLNPI_PROVIDER_OFFER,
      OFFER_FLAG.TLNPI_PROVIDER | OFFER_FLAG.NAMED_PIPE_MODE | OFFER_FLAG.ENUMERATE_DEVICE_INTERFACE,
    ],
  ];
  for (const [serverFlags, offerFlags] of expected) {
    const m = new ServerMachine(seed);
    m.serverChannel(new VspDriver(), (c) => assert.equal(VmbServerChannelInitSetFlags(c, serverFlags), S.STATUS_SUCCESS));
    await m.connect();
    assert.equal(m.guestBus.offers()[0]?.flags, offerFlags, `server flags 0x${serverFlags.toString(16)}`);
  }
  const m = new ServerMachine(seed);
  const fresh = serverChannel(m);
  // vmbuskernelmodeclientlibapi.h VMBUS_SERVER_CHANNEL_INIT_FLAGS: bits 0x1..0x10.
  assert.equal(VMBUS_SERVER_CHANNEL_INIT_FLAGS, 0x1f);
  for (const flags of [0x20, 0x8000_0000, -1, 0x1_0000_0000, 1.5, '4']) {
    assert.equal((VmbServerChannelInitSetFlags as (...a: unknown[]) => number)(fresh, flags), S.STATUS_INVALID_PARAMETER_2, String(flags));
  }
  assert.equal(core(fresh).server?.flags, 0);
});

test('VmbServerChannelInitSetMmioMegabytes: the guest is asked to reserve it; VmbChannelGetMmioSpace gives it from Opened on', async (t) => {
  const m = new ServerMachine(testSeed(t.name));
  const vsp = new VspDriver();
  const spaces: [number, number][] = [];
  const channel = m.serverChannel(vsp, (c) => assert.equal(VmbServerChannelInitSetMmioMegabytes(c, 2, 1), S.STATUS_SUCCESS));
  const address: Out<number> = { value: -1 };
  const size: Out<number> = { value: -1 };
  assert.equal(m.kmcl.VmbChannelGetMmioSpace(channel, address, size), S.STATUS_INVALID_PARAMETER_1, 'not before the open');
  await m.connect();
  const offer = m.guestBus.offers()[0]!;
  assert.deepEqual([offer.mmioMegabytes, offer.mmioMegabytesOptional], [2, 1]);
  const box: Out<VMBCHANNEL | null> = { value: null };
  VmbChannelAllocate(m.device, false, box);
  m.kmcl.VmbClientChannelInitSetTargetPnp(box.value!, VSP_INTERFACE, VSP_INSTANCE, null);
  m.kmcl.VmbChannelEnable(box.value!);
  await settle(m.scheduler);
  assert.equal(m.kmcl.VmbChannelGetMmioSpace(channel, address, size), S.STATUS_SUCCESS);
  spaces.push([address.value, size.value]);
  assert.equal(m.kmcl.VmbChannelGetMmioSpace(box.value!, address, size), S.STATUS_SUCCESS);
  spaces.push([address.value, size.value]);
  // DEFAULT_MMIO_WINDOW (device-object.ts) starts at 0xF000_0000; required and optional megabytes fit, 3 MiB.
  assert.deepEqual(spaces[0], [0xf000_0000, 3 * 0x10_0000]);
  assert.equal(spaces[1]![0], spaces[0]![0], 'the guest\'s VMBus device placed it at the same address');
  const fresh = serverChannel(m);
  const cases: [string, unknown, unknown, number][] = [
    ['both zero (the page)', 0, 0, S.STATUS_INVALID_PARAMETER],
    ['megabytes above a UINT16', 0x1_0000, 0, S.STATUS_INVALID_PARAMETER_2],
    ['megabytes negative', -1, 1, S.STATUS_INVALID_PARAMETER_2],
    ['optional above a UINT16', 1, 0x1_0000, S.STATUS_INVALID_PARAMETER_3],
    ['optional not a number', 1, '1', S.STATUS_INVALID_PARAMETER_3],
  ];
  for (const [name, megabytes, optional, status] of cases) {
    assert.equal((VmbServerChannelInitSetMmioMegabytes as (...a: unknown[]) => number)(fresh, megabytes, optional), status, name);
  }
  assert.equal(m.kmcl.VmbServerChannelInitSetMmioMegabytes(fresh, 0, 4), S.STATUS_SUCCESS, 'optional alone is enough');
});

test('VmbServerChannelInitSetTargetVtl: VTL 0..2; the offer goes only to a bus serving that VTL; others are _2', () => {
  const m = new ServerMachine(1);
  const fresh = serverChannel(m);
  for (const vtl of [0, 1, 2]) assert.equal(VmbServerChannelInitSetTargetVtl(fresh, vtl), S.STATUS_SUCCESS, `VTL ${vtl}`);
  for (const vtl of [3, 255, -1, 0.5, '0']) {
    assert.equal((VmbServerChannelInitSetTargetVtl as (...a: unknown[]) => number)(fresh, vtl), S.STATUS_INVALID_PARAMETER_2, String(vtl));
  }
  assert.equal(core(fresh).server?.targetVtl, 2);
  m.kmcl.VmbServerChannelInitSetTargetInterfaceId(fresh, VSP_INTERFACE, VSP_INSTANCE);
  assert.equal(m.kmcl.VmbChannelEnable(fresh), S.STATUS_INVALID_DEVICE_STATE, 'this HostBus serves VTL 0');
});

test('VmbServerChannelInitSetSaveRestorePacketCallbacks (and Ex): both callbacks required; the later call replaces the earlier', () => {
  const m = new ServerMachine(1);
  const fresh = serverChannel(m);
  const callback = (): number => S.STATUS_SUCCESS;
  const cases: [string, unknown[], number][] = [
    ['V1 save missing', [fresh, null, callback], S.STATUS_INVALID_PARAMETER_2],
    ['V1 restore not a function', [fresh, callback, 'restore'], S.STATUS_INVALID_PARAMETER_3],
    ['Ex save missing', [fresh, undefined, callback, 1], S.STATUS_INVALID_PARAMETER_2],
    ['Ex restore missing', [fresh, callback, null, 1], S.STATUS_INVALID_PARAMETER_3],
  ];
  for (const [name, args, status] of cases) {
    const fn = (name.startsWith('Ex') ? VmbServerChannelInitSetSaveRestorePacketCallbacksEx : VmbServerChannelInitSetSaveRestorePacketCallbacks) as (
      ...a: unknown[]
    ) => number;
    assert.equal(fn(...args), status, name);
  }
  assert.equal(core(fresh).server?.packetCallbacks, null);
  assert.equal(VmbServerChannelInitSetSaveRestorePacketCallbacksEx(fresh, callback, callback, 'ctx'), S.STATUS_SUCCESS);
  assert.equal(core(fresh).server?.packetCallbacks?.ex, true);
  assert.equal(VmbServerChannelInitSetSaveRestorePacketCallbacks(fresh, callback, callback), S.STATUS_SUCCESS);
  assert.equal(core(fresh).server?.packetCallbacks?.ex, false);
});
