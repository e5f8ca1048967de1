import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { GpadlMapping } from '../../src/memory/gpadl-mapping.js';
import { GpadlTable } from '../../src/memory/gpadl-table.js';
import type { GpadlDescription } from '../../src/memory/gpadl-table.js';
import { MemoryError } from '../../src/memory/memory-error.js';

// Linux allocates guest GPADL handles from 0xE1E10 upwards (linux-vmbus.md, GPADL_HEADER notes;
// drivers/hv/connection.c:33); any u32 is legal.
const GPADL_ID = 0xe1e10;
const CHANNEL_ID = 3;

function setup(pages = 16): { memory: GuestMemory; table: GpadlTable } {
  const memory = new GuestMemory(pages);
  for (let pfn = 0; pfn < pages; pfn++) memory.pageView(pfn).fill(pfn);
  return { memory, table: new GpadlTable(memory) };
}

function mapOk(table: GpadlTable, id: number, writable: boolean): GpadlMapping {
  const mapping = table.map(id, { writable });
  assert.ok(mapping instanceof GpadlMapping, String(mapping));
  return mapping;
}

const ringGpadl: GpadlDescription = {
  channelId: CHANNEL_ID,
  ranges: [{ byteOffset: 0, byteCount: 4 * 4096, pfns: [8, 3, 9, 10] }],
};

test('a multi-range GPADL maps to its ranges one after another', () => {
  const { table } = setup();
  const created = table.create(GPADL_ID, {
    channelId: CHANNEL_ID,
    ranges: [
      { byteOffset: 4090, byteCount: 8, pfns: [4, 7] },
      { byteOffset: 0, byteCount: 3, pfns: [12] },
    ],
  });
  assert.equal(created, undefined);
  assert.deepEqual(table.get(GPADL_ID), {
    gpadlId: GPADL_ID,
    channelId: CHANNEL_ID,
    readOnly: false,
    byteLength: 11,
    pageCount: 3,
    mappingCount: 0,
    tearingDown: false,
  });
  const mapping = mapOk(table, GPADL_ID, true);
  assert.deepEqual(mapping.read(0, 11), Uint8Array.of(4, 4, 4, 4, 4, 4, 7, 7, 12, 12, 12));
  assert.equal(mapping.byteLength, 11);
});

test('writes through a mapping land in the right guest pages and nowhere else', () => {
  const { memory, table } = setup();
  table.create(GPADL_ID, ringGpadl);
  const mapping = mapOk(table, GPADL_ID, true);
  assert.equal(mapping.write(4096 - 1, Uint8Array.of(0xaa, 0xbb)), undefined);
  assert.equal(memory.pageView(8)[4095], 0xaa);
  assert.equal(memory.pageView(3)[0], 0xbb);
  assert.equal(memory.pageView(9)[0], 9);
  assert.equal(mapping.copyFrom(4 * 4096 - 1, Uint8Array.of(0xcc)), undefined);
  assert.equal(memory.pageView(10)[4095], 0xcc);
  const out = new Uint8Array(2);
  assert.equal(mapping.copyTo(4095, out), undefined);
  assert.deepEqual(out, Uint8Array.of(0xaa, 0xbb));
});

test('mapping accesses outside the GPADL return out-of-range', () => {
  const { memory, table } = setup();
  table.create(GPADL_ID, ringGpadl);
  const mapping = mapOk(table, GPADL_ID, true);
  const end = 4 * 4096;
  const read = mapping.read(end - 1, 2);
  assert.ok(read instanceof MemoryError && read.code === 'out-of-range');
  assert.equal(mapping.write(end, Uint8Array.of(1))?.code, 'out-of-range');
  assert.equal(mapping.copyTo(-1, new Uint8Array(1))?.code, 'out-of-range');
  assert.equal(memory.pageView(11)[0], 11, 'the page after the last one is untouched');
});

test('page views for a ring: one cached 4096-byte view per GPADL page, in order', () => {
  const { memory, table } = setup();
  table.create(GPADL_ID, ringGpadl);
  const views = mapOk(table, GPADL_ID, true).pageViews();
  assert.ok(Array.isArray(views));
  assert.deepEqual(views.map((v) => v[0]), [8, 3, 9, 10]);
  assert.ok(views.every((v, i) => v === memory.pageView(ringGpadl.ranges[0]?.pfns[i] as number)));
});

test('invalid GPADL creations are returned as errors and create nothing', () => {
  const { table } = setup();
  table.create(GPADL_ID, ringGpadl);
  const cases: [number, GpadlDescription, string][] = [
    [GPADL_ID, ringGpadl, 'duplicate-id'],
    [2 ** 32, ringGpadl, 'out-of-range'],
    [-1, ringGpadl, 'out-of-range'],
    [1, { ...ringGpadl, channelId: 2 ** 32 }, 'out-of-range'],
    [1, { channelId: 1, ranges: [] }, 'zero-length'],
    [1, { channelId: 1, ranges: [{ byteOffset: 0, byteCount: 4096, pfns: [16] }] }, 'out-of-range'],
    [1, { channelId: 1, ranges: [{ byteOffset: 4096, byteCount: 1, pfns: [1, 2] }] }, 'bad-page-offset'],
    [1, { channelId: 1, ranges: [{ byteOffset: 0, byteCount: 4097, pfns: [1] }] }, 'page-count-mismatch'],
  ];
  for (const [id, description, code] of cases) {
    assert.equal(table.create(id, description)?.code, code, `${id} ${JSON.stringify(description.ranges)}`);
  }
  assert.equal(table.counts().gpadls, 1);
  assert.equal(table.has(1), false);
});

test('the table keeps its own copy of the ranges', () => {
  const { table } = setup();
  const pfns = [1];
  table.create(GPADL_ID, { channelId: 1, ranges: [{ byteOffset: 0, byteCount: 4096, pfns }] });
  pfns[0] = 999; // a later change by the sender cannot escape the validation
  const mapping = mapOk(table, GPADL_ID, false);
  assert.deepEqual(mapping.read(0, 1), Uint8Array.of(1));
});

test('unknown ids and other channels are refused', () => {
  const { table } = setup();
  table.create(GPADL_ID, ringGpadl);
  const unknown = table.map(GPADL_ID + 1, { writable: false });
  assert.ok(unknown instanceof MemoryError && unknown.code === 'unknown-id');
  const other = table.map(GPADL_ID, { writable: false, channelId: CHANNEL_ID + 1 });
  assert.ok(other instanceof MemoryError && other.code === 'wrong-channel');
  assert.ok(table.map(GPADL_ID, { writable: false, channelId: CHANNEL_ID }) instanceof GpadlMapping);
  const teardownUnknown = table.beginTeardown(GPADL_ID + 1);
  assert.ok(teardownUnknown instanceof MemoryError && teardownUnknown.code === 'unknown-id');
  const teardownOther = table.beginTeardown(GPADL_ID, CHANNEL_ID + 1);
  assert.ok(teardownOther instanceof MemoryError && teardownOther.code === 'wrong-channel');
  assert.equal(table.get(GPADL_ID)?.tearingDown, false);
  assert.equal(table.get(GPADL_ID + 1), undefined);
});

test('a read-only GPADL maps only read-only, and read-only mappings refuse writes', () => {
  const { memory, table } = setup();
  table.create(GPADL_ID, { ...ringGpadl, readOnly: true });
  const writable = table.map(GPADL_ID, { writable: true });
  assert.ok(writable instanceof MemoryError && writable.code === 'read-only');
  const mapping = mapOk(table, GPADL_ID, false);
  assert.equal(mapping.writable, false);
  assert.equal(mapping.write(0, Uint8Array.of(1))?.code, 'read-only');
  assert.equal(mapping.copyFrom(0, Uint8Array.of(1))?.code, 'read-only');
  assert.equal(memory.pageView(8)[0], 8);
  assert.deepEqual(mapping.read(0, 1), Uint8Array.of(8));
});

test('mappings are counted and each unmap releases one', () => {
  const { table } = setup();
  table.create(GPADL_ID, ringGpadl);
  table.create(7, { channelId: 1, ranges: [{ byteOffset: 0, byteCount: 1, pfns: [1] }] });
  const a = mapOk(table, GPADL_ID, true);
  const b = mapOk(table, GPADL_ID, false);
  const c = mapOk(table, 7, false);
  assert.deepEqual(table.counts(), { gpadls: 2, mappings: 3, mappedPages: 4 + 4 + 1 });
  assert.equal(table.get(GPADL_ID)?.mappingCount, 2);
  assert.deepEqual(table.unmap(a), { gpadlId: GPADL_ID, tornDown: false });
  assert.deepEqual(table.counts(), { gpadls: 2, mappings: 2, mappedPages: 5 });
  table.unmap(b);
  table.unmap(c);
  assert.deepEqual(table.counts(), { gpadls: 2, mappings: 0, mappedPages: 0 });
});

test('an unmapped mapping refuses every access, and a second unmap throws', () => {
  const { table } = setup();
  table.create(GPADL_ID, ringGpadl);
  const mapping = mapOk(table, GPADL_ID, true);
  table.unmap(mapping);
  assert.equal(mapping.isMapped, false);
  const read = mapping.read(0, 1);
  assert.ok(read instanceof MemoryError && read.code === 'unmapped');
  assert.equal(mapping.write(0, Uint8Array.of(1))?.code, 'unmapped');
  assert.equal(mapping.copyTo(0, new Uint8Array(1))?.code, 'unmapped');
  const views = mapping.pageViews();
  assert.ok(views instanceof MemoryError && views.code === 'unmapped');
  assert.throws(() => table.unmap(mapping), (e: unknown) => e instanceof MemoryError && e.code === 'unmapped');
  assert.deepEqual(table.counts().mappings, 0);
});

test('teardown of an unmapped GPADL completes at once and frees the id', () => {
  const { table } = setup();
  table.create(GPADL_ID, ringGpadl);
  assert.deepEqual(table.beginTeardown(GPADL_ID, CHANNEL_ID), { gpadlId: GPADL_ID, tornDown: true });
  assert.equal(table.has(GPADL_ID), false);
  assert.deepEqual(table.counts(), { gpadls: 0, mappings: 0, mappedPages: 0 });
  assert.equal(table.create(GPADL_ID, ringGpadl), undefined, 'the guest may reuse the id after GPADL_TORNDOWN');
});

test('teardown of a mapped GPADL is deferred until the last unmap', () => {
  const { table } = setup();
  table.create(GPADL_ID, ringGpadl);
  const a = mapOk(table, GPADL_ID, true);
  const b = mapOk(table, GPADL_ID, true);
  assert.deepEqual(table.beginTeardown(GPADL_ID), { gpadlId: GPADL_ID, tornDown: false });
  assert.equal(table.get(GPADL_ID)?.tearingDown, true);
  assert.ok(a.read(0, 1) instanceof Uint8Array, 'existing mappings keep working until unmapped');

  const late = table.map(GPADL_ID, { writable: false });
  assert.ok(late instanceof MemoryError && late.code === 'teardown-pending');
  const again = table.beginTeardown(GPADL_ID);
  assert.ok(again instanceof MemoryError && again.code === 'teardown-pending');
  const duplicate = table.create(GPADL_ID, ringGpadl);
  assert.equal(duplicate?.code, 'duplicate-id', 'the id stays taken until torn down');

  assert.deepEqual(table.unmap(a), { gpadlId: GPADL_ID, tornDown: false });
  assert.deepEqual(table.unmap(b), { gpadlId: GPADL_ID, tornDown: true });
  assert.equal(table.has(GPADL_ID), false);
  assert.deepEqual(table.counts(), { gpadls: 0, mappings: 0, mappedPages: 0 });
});

test('a mapping of a torn-down GPADL is not confused with one of a recreated GPADL of the same id', () => {
  const { table } = setup();
  table.create(GPADL_ID, ringGpadl);
  const old = mapOk(table, GPADL_ID, true);
  table.beginTeardown(GPADL_ID);
  table.unmap(old);
  table.create(GPADL_ID, ringGpadl);
  const fresh = mapOk(table, GPADL_ID, true);
  assert.throws(() => table.unmap(old), (e: unknown) => e instanceof MemoryError && e.code === 'unmapped');
  assert.equal(fresh.isMapped, true);
  assert.equal(table.get(GPADL_ID)?.mappingCount, 1);
});

test('idsForChannel lists the GPADLs created on a channel', () => {
  const { table } = setup();
  table.create(1, { channelId: 5, ranges: [{ byteOffset: 0, byteCount: 1, pfns: [1] }] });
  table.create(2, { channelId: 6, ranges: [{ byteOffset: 0, byteCount: 1, pfns: [1] }] });
  table.create(3, { channelId: 5, ranges: [{ byteOffset: 0, byteCount: 1, pfns: [2] }] });
  assert.deepEqual(table.idsForChannel(5), [1, 3]);
  assert.deepEqual(table.idsForChannel(7), []);
});
