/**
 * The server interface tables against the reference: member names and order
 * read from the reference files themselves, sizes, the query's statuses, and
 * what every server-only member answers to garbage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  KMCL_CLIENT_INTERFACE_TYPE,
  KMCL_SERVER_INTERFACE_TYPE,
  KMCL_SERVER_INTERFACE_VERSION_V1,
  KMCL_SERVER_INTERFACE_VERSION_V5,
  KmclHostDeviceObject,
  NTSTATUS,
  SIZEOF_KMCL_CLIENT_INTERFACE_V5,
  SIZEOF_KMCL_SERVER_INTERFACE_V1,
  SIZEOF_KMCL_SERVER_INTERFACE_V5,
  queryInterface,
  sizeofServerInterface,
  type KMCL_CLIENT_INTERFACE,
  type KMCL_SERVER_INTERFACE,
  type Out,
} from '../../../src/index.js';
import { makeHarness } from '../support/harness.js';
import { KmclMachine } from '../support/kmcl-machine.js';
import { ServerMachine } from './support/server-machine.js';
import { testSeed } from '../../support/seed.js';

// The reference (shared/reference/README.md), beside the repository: dist/test/kmcl/server → ../../../../../shared.
const REFERENCE_DIR = new URL('../../../../../shared/reference/', import.meta.url);
const INTERFACE_PAGE = readFileSync(new URL('000_ceedec252aeac714.txt', REFERENCE_DIR), 'utf8');
const SERVER_ONLY_PAGE = readFileSync(new URL('kmcl-ddi/ns-vmbuskernelmodeclientlibapi-_kmcl_server_only_methods.md', REFERENCE_DIR), 'utf8');
const HEADER_FIELDS = ['Size', 'Version', 'Context', 'InterfaceReference', 'InterfaceDereference'];

/** Client members each version adds: 000_ceedec252aeac714.txt's `_KMCL_CLIENT_INTERFACE_V<n>._KMCL_CLIENT_INTERFACE_V<n>.<member>` headings. */
function clientMembersFromReference(): string[][] {
  const added: string[][] = [[], [], [], [], []];
  for (const match of INTERFACE_PAGE.matchAll(/^### `(?:[\w.]*\.)?_KMCL_CLIENT_INTERFACE_V(\d)\._KMCL_CLIENT_INTERFACE_V\1\.(Vmb\w+)`$/gm)) {
    added[Number(match[1]) - 1]!.push(match[2]!);
  }
  return added;
}

/** KMCL_SERVER_ONLY_METHODS: the server-only page's `### -field <member>` headings, in page order. */
function serverOnlyMembersFromReference(): string[] {
  return [...SERVER_ONLY_PAGE.matchAll(/^### -field (Vmb\w+)$/gm)].map((match) => match[1]!);
}

/** The member _KMCL_SERVER_ONLY_METHODS_V5 adds: 000_ceedec252aeac714.txt's `_KMCL_SERVER_ONLY_METHODS_V5.<member>` heading. */
function serverV5MembersFromReference(): string[] {
  return [...INTERFACE_PAGE.matchAll(/^### `_KMCL_SERVER_ONLY_METHODS_V5\.(Vmb\w+)`$/gm)].map((match) => match[1]!);
}

/** A host device object nobody queried yet, over a machine's HostBus. */
function hostDevice(): KmclHostDeviceObject {
  const m = new KmclMachine(1);
  return KmclHostDeviceObject.create({ bus: m.hostBus, guestMemory: m.memory, scheduler: m.scheduler });
}

function query(device: KmclHostDeviceObject, version: number, size = sizeofServerInterface(version)): KMCL_SERVER_INTERFACE {
  const box: Out<KMCL_SERVER_INTERFACE | null> = { value: null };
  assert.equal(queryInterface(device, KMCL_SERVER_INTERFACE_TYPE, box, size, version), NTSTATUS.STATUS_SUCCESS);
  return box.value!;
}

test('the reference lists 14 server-only methods, and defines KMCL_SERVER_INTERFACE_V1 as the client V1 table then them', () => {
  const serverOnly = serverOnlyMembersFromReference();
  assert.equal(serverOnly.length, 14);
  assert.equal(new Set(serverOnly).size, 14);
  // The page's C definition: _KMCL_SERVER_INTERFACE_V1 { KMCL_CLIENT_INTERFACE_V1; KMCL_SERVER_ONLY_METHODS; }.
  const definition = /typedef struct _KMCL_SERVER_INTERFACE_V1 \{\s*(\w+);\s*(\w+);\s*\}/.exec(SERVER_ONLY_PAGE);
  assert.deepEqual(definition?.slice(1), ['KMCL_CLIENT_INTERFACE_V1', 'KMCL_SERVER_ONLY_METHODS']);
  assert.deepEqual(serverV5MembersFromReference(), ['VmbServerChannelInitSetSaveRestorePacketCallbacksEx']);
});

test('KMCL_SERVER_INTERFACE_V1 holds the client V1 members then KMCL_SERVER_ONLY_METHODS, in reference order', () => {
  const table = query(hostDevice(), KMCL_SERVER_INTERFACE_VERSION_V1);
  const expected = [...clientMembersFromReference()[0]!, ...serverOnlyMembersFromReference()];
  assert.equal(expected.length, 41 + 14);
  assert.deepEqual(Object.keys(table), [...HEADER_FIELDS, ...expected]);
  for (const name of expected) assert.equal(typeof (table as unknown as Record<string, unknown>)[name], 'function', name);
  assert.equal(table.Version, 1);
  assert.equal(table.Size, SIZEOF_KMCL_SERVER_INTERFACE_V1);
  assert.ok(Object.isFrozen(table));
});

test('KMCL_SERVER_INTERFACE_V5 holds the client V1..V5 members, KMCL_SERVER_ONLY_METHODS, then the V5 server-only member', () => {
  const table = query(hostDevice(), KMCL_SERVER_INTERFACE_VERSION_V5);
  const expected = [...clientMembersFromReference().flat(), ...serverOnlyMembersFromReference(), ...serverV5MembersFromReference()];
  assert.equal(expected.length, 57 + 14 + 1);
  assert.deepEqual(Object.keys(table), [...HEADER_FIELDS, ...expected]);
  assert.equal(table.Version, 5);
  assert.equal(table.Size, SIZEOF_KMCL_SERVER_INTERFACE_V5);
});

test('the server tables share the client functions: one engine behind both interfaces', () => {
  const server = query(hostDevice(), 5) as unknown as Record<string, unknown>;
  const box: Out<KMCL_CLIENT_INTERFACE | null> = { value: null };
  queryInterface(makeHarness().device, KMCL_CLIENT_INTERFACE_TYPE, box, SIZEOF_KMCL_CLIENT_INTERFACE_V5, 5);
  const client = box.value as unknown as Record<string, unknown>;
  for (const name of clientMembersFromReference().flat()) assert.equal(server[name], client[name], name);
});

test('sizes are the x64 layouts: a 32-byte INTERFACE header and an 8-byte pointer per member', () => {
  // INTERFACE (wdm.h): USHORT Size, USHORT Version, PVOID Context, two PINTERFACE_* = 32 bytes on x64.
  assert.equal(SIZEOF_KMCL_SERVER_INTERFACE_V1, 32 + 55 * 8);
  assert.equal(SIZEOF_KMCL_SERVER_INTERFACE_V5, 32 + 72 * 8);
});

test('the server query takes an interface reference on the host device object, which InterfaceDereference drops', () => {
  const device = hostDevice();
  const table = query(device, 1);
  assert.equal(table.Context, device);
  assert.equal(device.interfaceReferenceCount, 1);
  table.InterfaceReference(table.Context);
  table.InterfaceDereference(table.Context);
  table.InterfaceDereference(table.Context);
  table.InterfaceDereference(table.Context);
  assert.equal(device.interfaceReferenceCount, 0, 'never below zero');
});

test('queryInterface answers the server type on host device objects only, versions 1 and 5, with the size they need', () => {
  const device = hostDevice();
  const guest = makeHarness().device;
  const V1 = SIZEOF_KMCL_SERVER_INTERFACE_V1;
  const cases: [string, unknown[], number][] = [
    ['the server type on a guest device object', [guest, KMCL_SERVER_INTERFACE_TYPE, { value: null }, V1, 1], NTSTATUS.STATUS_NOT_SUPPORTED],
    ['the client type on a host device object', [device, KMCL_CLIENT_INTERFACE_TYPE, { value: null }, 2000, 1], NTSTATUS.STATUS_NOT_SUPPORTED],
    ['not a device object', [{}, KMCL_SERVER_INTERFACE_TYPE, { value: null }, V1, 1], NTSTATUS.STATUS_INVALID_PARAMETER_1],
    ['no out-parameter', [device, KMCL_SERVER_INTERFACE_TYPE, null, V1, 1], NTSTATUS.STATUS_INVALID_PARAMETER_3],
    ['size not a USHORT', [device, KMCL_SERVER_INTERFACE_TYPE, { value: null }, 1e6, 1], NTSTATUS.STATUS_INVALID_PARAMETER_4],
    ['version not a USHORT', [device, KMCL_SERVER_INTERFACE_TYPE, { value: null }, V1, 1.5], NTSTATUS.STATUS_INVALID_PARAMETER_5],
    ['version 0', [device, KMCL_SERVER_INTERFACE_TYPE, { value: null }, 2000, 0], NTSTATUS.STATUS_NOT_SUPPORTED],
    ['version 2 (the reference has server V1 and V5 only)', [device, KMCL_SERVER_INTERFACE_TYPE, { value: null }, 2000, 2], NTSTATUS.STATUS_NOT_SUPPORTED],
    ['version 6', [device, KMCL_SERVER_INTERFACE_TYPE, { value: null }, 2000, 6], NTSTATUS.STATUS_NOT_SUPPORTED],
    ['size of V1 for V5', [device, KMCL_SERVER_INTERFACE_TYPE, { value: null }, V1, 5], NTSTATUS.STATUS_BUFFER_TOO_SMALL],
    ['size one short', [device, KMCL_SERVER_INTERFACE_TYPE, { value: null }, V1 - 1, 1], NTSTATUS.STATUS_BUFFER_TOO_SMALL],
  ];
  for (const [name, args, status] of cases) {
    assert.equal((queryInterface as (...a: unknown[]) => number)(...args), status, name);
    const box = args[2] as { value: unknown } | null;
    if (box !== null) assert.equal(box.value, null, `${name}: box untouched`);
  }
  assert.equal(device.interfaceReferenceCount, 0);
  const upper = KMCL_SERVER_INTERFACE_TYPE.toUpperCase();
  assert.equal(queryInterface(device, upper, { value: null }, V1, 1), NTSTATUS.STATUS_SUCCESS, 'the GUID is matched in any case');
});

test('every server-only member answers garbage arguments with STATUS_INVALID_PARAMETER_1 (or a bad handle\'s status), never a throw', async (t) => {
  const m = new ServerMachine(testSeed(t.name));
  const garbage = [{ not: 'a handle' }, 'x', -1, Symbol('y'), undefined, 3.5, {}, null];
  const table = m.kmcl as unknown as Record<string, (...args: unknown[]) => unknown>;
  // VmbConvertVmbusHandleToKernelHandle's first argument is a HANDLE: what ObReferenceObjectByHandle says of a bad one.
  const expected: Record<string, number> = { VmbConvertVmbusHandleToKernelHandle: NTSTATUS.STATUS_INVALID_HANDLE };
  for (const name of [...serverOnlyMembersFromReference(), ...serverV5MembersFromReference()]) {
    const result = await table[name]!(...garbage);
    assert.equal(result, expected[name] ?? NTSTATUS.STATUS_INVALID_PARAMETER_1, name);
  }
});
