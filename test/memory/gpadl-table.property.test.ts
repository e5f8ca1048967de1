import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import type { GpaRange } from '../../src/memory/gpa-range.js';
import { GpadlMapping } from '../../src/memory/gpadl-mapping.js';
import { GpadlTable } from '../../src/memory/gpadl-table.js';
import { MemoryError } from '../../src/memory/memory-error.js';
import { testSeed } from '../support/seed.js';

const PAGES = 8;
const PAGE = 4096;

// A naive oracle, independent of PagedBuffer: the GPA of each byte of a GPADL's byte space.
function byteGpas(ranges: readonly GpaRange[]): number[] {
  const gpas: number[] = [];
  for (const { byteOffset, byteCount, pfns } of ranges) {
    for (let i = 0; i < byteCount; i++) {
      const at = byteOffset + i;
      gpas.push((pfns[Math.floor(at / PAGE)] as number) * PAGE + (at % PAGE));
    }
  }
  return gpas;
}

// The range rules (openvmm-vmbus.md §3.1: byte_count != 0, byte_offset <= 0xfff, enough pages),
// restated here as the model's own check.
function modelValid(ranges: readonly GpaRange[]): boolean {
  return (
    ranges.length > 0 &&
    ranges.every(
      (r) =>
        r.byteCount > 0 &&
        r.byteOffset <= 0xfff &&
        r.pfns.length === Math.ceil((r.byteOffset + r.byteCount) / PAGE) &&
        r.pfns.every((p) => p < PAGES),
    )
  );
}

// Mostly valid input, so that most sequences reach map/read/write; the rest probes every rejection.
function mostly<T>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.oneof({ weight: 19, arbitrary: valid }, { weight: 1, arbitrary: invalid });
}

const rangeArb = fc
  .record({
    byteOffset: mostly(fc.integer({ min: 0, max: 4095 }), fc.constant(4096)),
    byteCount: mostly(fc.integer({ min: 1, max: 2 * PAGE }), fc.constant(0)),
    pool: fc.array(mostly(fc.integer({ min: 0, max: PAGES - 1 }), fc.constant(PAGES)), { minLength: 1, maxLength: 4 }),
    exact: mostly(fc.constant(true), fc.constant(false)),
  })
  .map(({ byteOffset, byteCount, pool, exact }): GpaRange => {
    const spanned = Math.ceil((byteOffset + byteCount) / PAGE);
    const pfns = exact ? Array.from({ length: spanned }, (_, i) => pool[i % pool.length] as number) : pool;
    return { byteOffset, byteCount, pfns };
  });

const id = fc.integer({ min: 0, max: 4 });
const access = { pick: fc.nat(), offset: fc.nat({ max: 2 * PAGE }) };
const operationArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('create' as const),
      id,
      ranges: fc.array(rangeArb, { minLength: 0, maxLength: 3 }),
      readOnly: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('map' as const), id, writable: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unmap' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('teardown' as const), id }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('read' as const), ...access, length: fc.nat({ max: PAGE + 8 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('write' as const), ...access, bytes: fc.uint8Array({ maxLength: PAGE + 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stale' as const), pick: fc.nat() }) },
);
type Operation = typeof operationArb extends fc.Arbitrary<infer T> ? T : never;

interface ModelGpadl {
  readonly ranges: readonly GpaRange[];
  readonly readOnly: boolean;
  readonly gpas: number[];
  mappings: number;
  tearingDown: boolean;
}

interface Live {
  readonly mapping: GpadlMapping;
  readonly gpadl: ModelGpadl;
}

function codeOf(result: unknown): string | undefined {
  return result instanceof MemoryError ? result.code : undefined;
}

function run(operations: readonly Operation[]): void {
  const memory = new GuestMemory(PAGES);
  const all = memory.view(0, memory.byteLength);
  for (let i = 0; i < all.length; i++) all[i] = (i * 7 + 3) & 0xff;
  const table = new GpadlTable(memory);
  const model = new Map<number, ModelGpadl>();
  const live: Live[] = [];
  const released: GpadlMapping[] = [];

  const unmap = (index: number): void => {
    const [{ mapping, gpadl }] = live.splice(index, 1) as [Live];
    gpadl.mappings--;
    const done = gpadl.tearingDown && gpadl.mappings === 0;
    if (done) model.delete(mapping.gpadlId);
    assert.deepEqual(table.unmap(mapping), { gpadlId: mapping.gpadlId, tornDown: done });
    released.push(mapping);
  };
  const teardown = (gpadlId: number): void => {
    const gpadl = model.get(gpadlId);
    const result = table.beginTeardown(gpadlId);
    if (gpadl === undefined) return assert.equal(codeOf(result), 'unknown-id');
    if (gpadl.tearingDown) return assert.equal(codeOf(result), 'teardown-pending');
    gpadl.tearingDown = true;
    if (gpadl.mappings === 0) model.delete(gpadlId);
    assert.deepEqual(result, { gpadlId, tornDown: gpadl.mappings === 0 });
  };
  const checkCounts = (): void => {
    const mappedPages = live.reduce((n, l) => n + l.gpadl.ranges.reduce((m, r) => m + r.pfns.length, 0), 0);
    assert.deepEqual(table.counts(), { gpadls: model.size, mappings: live.length, mappedPages });
  };

  for (const op of operations) {
    switch (op.kind) {
      case 'create': {
        const result = table.create(op.id, { channelId: 1, ranges: op.ranges, readOnly: op.readOnly });
        if (model.has(op.id)) assert.equal(codeOf(result), 'duplicate-id');
        else if (!modelValid(op.ranges)) assert.ok(result instanceof MemoryError);
        else {
          assert.equal(result, undefined);
          model.set(op.id, { ranges: op.ranges, readOnly: op.readOnly, gpas: byteGpas(op.ranges), mappings: 0, tearingDown: false });
        }
        break;
      }
      case 'map': {
        const gpadl = model.get(op.id);
        const result = table.map(op.id, { writable: op.writable });
        if (gpadl === undefined) assert.equal(codeOf(result), 'unknown-id');
        else if (gpadl.tearingDown) assert.equal(codeOf(result), 'teardown-pending');
        else if (op.writable && gpadl.readOnly) assert.equal(codeOf(result), 'read-only');
        else {
          assert.ok(result instanceof GpadlMapping);
          gpadl.mappings++;
          live.push({ mapping: result, gpadl });
        }
        break;
      }
      case 'unmap':
        if (live.length > 0) unmap(op.pick % live.length);
        break;
      case 'teardown':
        teardown(op.id);
        break;
      case 'read': {
        const target = live[op.pick % Math.max(live.length, 1)];
        if (target === undefined) break;
        const result = target.mapping.read(op.offset, op.length);
        if (op.offset + op.length > target.gpadl.gpas.length) {
          assert.equal(codeOf(result), 'out-of-range');
        } else {
          const expected = target.gpadl.gpas.slice(op.offset, op.offset + op.length).map((gpa) => all[gpa] as number);
          assert.deepEqual(result, Uint8Array.from(expected));
        }
        break;
      }
      case 'write': {
        const target = live[op.pick % Math.max(live.length, 1)];
        if (target === undefined) break;
        const expected = all.slice();
        const inRange = op.offset + op.bytes.length <= target.gpadl.gpas.length;
        const result = target.mapping.write(op.offset, op.bytes);
        if (!target.mapping.writable) assert.equal(codeOf(result), 'read-only');
        else if (!inRange) assert.equal(codeOf(result), 'out-of-range');
        else {
          assert.equal(result, undefined);
          // Later bytes win where a GPADL lists a page twice, as in a sequential copy.
          op.bytes.forEach((b, i) => (expected[target.gpadl.gpas[op.offset + i] as number] = b));
        }
        assert.deepEqual(all, expected, 'every byte outside the granted bytes is unchanged');
        break;
      }
      case 'stale': {
        const mapping = released[op.pick % Math.max(released.length, 1)];
        if (mapping === undefined) break;
        assert.equal(codeOf(mapping.read(0, 1)), 'unmapped');
        assert.equal(codeOf(mapping.write(0, Uint8Array.of(1))), 'unmapped');
        assert.throws(() => table.unmap(mapping), MemoryError);
        break;
      }
    }
    checkCounts();
  }

  // Release everything: teardowns first (some deferred), then every mapping.
  for (const gpadlId of [...model.keys()]) {
    if (!(model.get(gpadlId) as ModelGpadl).tearingDown) teardown(gpadlId);
  }
  while (live.length > 0) unmap(live.length - 1);
  assert.equal(model.size, 0);
  assert.deepEqual(table.counts(), { gpadls: 0, mappings: 0, mappedPages: 0 });
}

test('random create/map/unmap/teardown/access sequences stay inside granted pages and leak nothing', () => {
  const seed = testSeed('gpadl table model');
  fc.assert(
    fc.property(fc.array(operationArb, { minLength: 10, maxLength: 60, size: 'max' }), (operations) => run(operations)),
    { seed, numRuns: 400 },
  );
});
