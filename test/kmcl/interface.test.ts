import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  KMCL_CLIENT_INTERFACE_TYPE,
  KMCL_CLIENT_INTERFACE_VERSION_LATEST,
  KMCL_CLIENT_INTERFACE_VERSION_V1,
  KMCL_CLIENT_INTERFACE_VERSION_V5,
  NTSTATUS,
  SIZEOF_KMCL_CLIENT_INTERFACE_V1,
  SIZEOF_KMCL_CLIENT_INTERFACE_V5,
  VMB_CHANNEL_OBJECT_SIZE,
  queryInterface,
  sizeofClientInterface,
  type KMCL_CLIENT_INTERFACE,
  type KMCL_CLIENT_INTERFACE_V5,
  type Out,
  type VMBCHANNEL,
} from '../../src/index.js';
import { makeHarness } from './support/harness.js';

// The authoritative member list (shared/reference/README.md): the V1 page the product was made from,
// in the shared folder beside the repository (dist/test/kmcl → ../../../../shared).
const REFERENCE = readFileSync(new URL('../../../../shared/reference/000_ceedec252aeac714.txt', import.meta.url), 'utf8');
const HEADER_FIELDS = ['Size', 'Version', 'Context', 'InterfaceReference', 'InterfaceDereference'];

/** Members each version adds, read from the reference's field headings (`_V<n>._V<n>.<member>`), in order. */
function membersFromHeadings(): string[][] {
  const added: string[][] = [[], [], [], [], []];
  for (const match of REFERENCE.matchAll(/^### `(?:[\w.]*\.)?_KMCL_CLIENT_INTERFACE_V(\d)\._KMCL_CLIENT_INTERFACE_V\1\.(Vmb\w+)`$/gm)) {
    added[Number(match[1]) - 1]!.push(match[2]!);
  }
  return added;
}

/** V1's members from the C structure in the reference's Syntax section. */
function v1MembersFromSyntax(): string[] {
  const block = REFERENCE.slice(REFERENCE.indexOf('typedef struct _KMCL_CLIENT_INTERFACE_V1 {'));
  const body = block.slice(0, block.indexOf('} KMCL_CLIENT_INTERFACE_V1'));
  return [...body.matchAll(/^\s*PFN_\w+\s+(\w+);$/gm)].map((m) => m[1]!);
}

function query(version: number, size = sizeofClientInterface(version)): KMCL_CLIENT_INTERFACE {
  const { device } = makeHarness();
  const box: Out<KMCL_CLIENT_INTERFACE | null> = { value: null };
  assert.equal(queryInterface(device, KMCL_CLIENT_INTERFACE_TYPE, box, size, version), NTSTATUS.STATUS_SUCCESS);
  return box.value!;
}

test('the reference lists 41 V1 members, the same in its Syntax block and its field headings', () => {
  const fromSyntax = v1MembersFromSyntax();
  assert.equal(fromSyntax.length, 41);
  assert.deepEqual(membersFromHeadings()[0], fromSyntax);
});

test('each version table has exactly the reference members of V1..Vn, in order, after the INTERFACE header', () => {
  const added = membersFromHeadings();
  // V2 adds 3, V3 2, V4 2, V5 9 (000_ceedec252aeac714.txt, the nested _KMCL_CLIENT_INTERFACE_Vn headings).
  assert.deepEqual(added.map((members) => members.length), [41, 3, 2, 2, 9]);
  for (let version = 1; version <= 5; version++) {
    const table = query(version);
    const expected = added.slice(0, version).flat();
    assert.deepEqual(Object.keys(table), [...HEADER_FIELDS, ...expected], `V${version}`);
    for (const name of expected) {
      assert.equal(typeof (table as unknown as Record<string, unknown>)[name], 'function', `V${version}.${name}`);
    }
    assert.equal(table.Version, version);
    assert.equal(table.Size, sizeofClientInterface(version));
    assert.ok(Object.isFrozen(table));
  }
});

// What each member answers when every argument is garbage: its documented "invalid" result, never a throw.
const GARBAGE_RESULTS: Record<string, unknown> = {
  VmbChannelGetPointer: null,
  VmbPacketGetPointer: null,
  VmbPacketAllocate: null,
  VmbPacketGetChannel: null,
  VmbChannelGetTargetDeviceObject: null,
  VmbChannelGetParentDeviceObject: null,
  VmbChannelPacketGetClientContext: null,
  VmbPacketGetInlinePacketContextPointer: null,
  VmbChannelSizeofPacket: 0,
  VmbSizeofChannel: VMB_CHANNEL_OBJECT_SIZE,
};

test('every member of the V5 table is a working function: garbage arguments get the documented invalid result', async () => {
  const table = query(KMCL_CLIENT_INTERFACE_VERSION_V5) as KMCL_CLIENT_INTERFACE_V5;
  const members = membersFromHeadings().flat();
  const garbage = [{ not: 'a handle' }, 'x', -1, Symbol('y'), undefined, 3.5, {}, null];
  for (const name of members) {
    const fn = (table as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!;
    const result = await fn(...garbage);
    const expected = name in GARBAGE_RESULTS ? GARBAGE_RESULTS[name] : NTSTATUS.STATUS_INVALID_PARAMETER_1;
    assert.equal(result, expected, name);
  }
});

test('the table functions drive real channels', () => {
  const h = makeHarness();
  const box: Out<KMCL_CLIENT_INTERFACE | null> = { value: null };
  queryInterface(h.device, KMCL_CLIENT_INTERFACE_TYPE, box, SIZEOF_KMCL_CLIENT_INTERFACE_V1, KMCL_CLIENT_INTERFACE_VERSION_V1);
  const kmcl = box.value!;
  const channel: Out<VMBCHANNEL | null> = { value: null };
  assert.equal(kmcl.VmbChannelAllocate(h.device, false, channel), NTSTATUS.STATUS_SUCCESS);
  assert.equal(kmcl.VmbChannelSetPointer(channel.value!, 'context'), NTSTATUS.STATUS_SUCCESS);
  assert.equal(kmcl.VmbChannelGetPointer(channel.value!), 'context');
  assert.equal(kmcl.VmbChannelCleanup(channel.value!), NTSTATUS.STATUS_SUCCESS);
  assert.equal(kmcl.VmbChannelGetPointer(channel.value!), null);
});

test('sizes are the x64 layouts: a 32-byte INTERFACE header and an 8-byte pointer per member', () => {
  // INTERFACE (wdm.h): USHORT Size, USHORT Version, PVOID Context, two PINTERFACE_* = 32 bytes on x64.
  assert.equal(SIZEOF_KMCL_CLIENT_INTERFACE_V1, 32 + 41 * 8);
  assert.equal(SIZEOF_KMCL_CLIENT_INTERFACE_V5, 32 + 57 * 8);
  assert.equal(KMCL_CLIENT_INTERFACE_VERSION_LATEST, 5);
});

test('a query takes an interface reference that InterfaceDereference drops', () => {
  const h = makeHarness();
  const box: Out<KMCL_CLIENT_INTERFACE | null> = { value: null };
  queryInterface(h.device, KMCL_CLIENT_INTERFACE_TYPE, box, SIZEOF_KMCL_CLIENT_INTERFACE_V5, 5);
  const table = box.value!;
  assert.equal(table.Context, h.device);
  assert.equal(h.device.interfaceReferenceCount, 1);
  table.InterfaceReference(table.Context);
  assert.equal(h.device.interfaceReferenceCount, 2);
  table.InterfaceDereference(table.Context);
  table.InterfaceDereference(table.Context);
  table.InterfaceDereference(table.Context);
  assert.equal(h.device.interfaceReferenceCount, 0, 'never below zero');
  table.InterfaceReference('not a device');
  assert.equal(h.device.interfaceReferenceCount, 0);
});

test('a smaller version can be queried with a larger buffer; the GUID is matched in any case', () => {
  const table = query(2, SIZEOF_KMCL_CLIENT_INTERFACE_V5);
  assert.equal(table.Version, 2);
  const h = makeHarness();
  const box: Out<KMCL_CLIENT_INTERFACE | null> = { value: null };
  const upper = KMCL_CLIENT_INTERFACE_TYPE.toUpperCase();
  assert.equal(queryInterface(h.device, upper, box, SIZEOF_KMCL_CLIENT_INTERFACE_V1, 1), NTSTATUS.STATUS_SUCCESS);
});

test('queryInterface rejects bad queries with the status a bus driver gives, and leaves the box alone', () => {
  const h = makeHarness();
  const cases: [string, unknown[], number][] = [
    ['not a device object', [{}, KMCL_CLIENT_INTERFACE_TYPE, { value: null }, SIZEOF_KMCL_CLIENT_INTERFACE_V1, 1], NTSTATUS.STATUS_INVALID_PARAMETER_1],
    ['another interface type', [h.device, '00000000-0000-0000-0000-000000000001', { value: null }, 1000, 1], NTSTATUS.STATUS_NOT_SUPPORTED],
    ['interface type not a string', [h.device, 7, { value: null }, 1000, 1], NTSTATUS.STATUS_NOT_SUPPORTED],
    ['no out-parameter', [h.device, KMCL_CLIENT_INTERFACE_TYPE, null, 1000, 1], NTSTATUS.STATUS_INVALID_PARAMETER_3],
    ['frozen out-parameter', [h.device, KMCL_CLIENT_INTERFACE_TYPE, Object.freeze({ value: null }), 1000, 1], NTSTATUS.STATUS_INVALID_PARAMETER_3],
    ['size not a USHORT', [h.device, KMCL_CLIENT_INTERFACE_TYPE, { value: null }, 70000, 1], NTSTATUS.STATUS_INVALID_PARAMETER_4],
    ['version not a USHORT', [h.device, KMCL_CLIENT_INTERFACE_TYPE, { value: null }, 1000, -1], NTSTATUS.STATUS_INVALID_PARAMETER_5],
    ['version 0', [h.device, KMCL_CLIENT_INTERFACE_TYPE, { value: null }, 1000, 0], NTSTATUS.STATUS_NOT_SUPPORTED],
    ['version 6', [h.device, KMCL_CLIENT_INTERFACE_TYPE, { value: null }, 1000, 6], NTSTATUS.STATUS_NOT_SUPPORTED],
    ['size of V1 for V2', [h.device, KMCL_CLIENT_INTERFACE_TYPE, { value: null }, SIZEOF_KMCL_CLIENT_INTERFACE_V1, 2], NTSTATUS.STATUS_BUFFER_TOO_SMALL],
    ['size one short', [h.device, KMCL_CLIENT_INTERFACE_TYPE, { value: null }, SIZEOF_KMCL_CLIENT_INTERFACE_V1 - 1, 1], NTSTATUS.STATUS_BUFFER_TOO_SMALL],
  ];
  for (const [name, args, status] of cases) {
    const result = (queryInterface as (...a: unknown[]) => number)(...args);
    assert.equal(result, status, name);
    const box = args[2] as { value: unknown } | null;
    if (box !== null) assert.equal(box.value, null, `${name}: box untouched`);
  }
  assert.equal(h.device.interfaceReferenceCount, 0);
});
