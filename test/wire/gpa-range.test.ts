import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeGpaRangeNumbers,
  decodeGpaRanges,
  encodeGpaRanges,
  gpaRangePageCount,
  gpaRangeSize,
  gpaRangesSize,
  type GpaRange,
} from '../../src/wire/gpa-range.js';
import { WireError } from '../../src/wire/wire-error.js';
import { testSeed } from '../support/seed.js';
import { hex } from './messages/hex.js';

// gpa_range (linux-vmbus.md §A.2, hyperv.h:391-395; OpenVMM gparange.rs:13-18):
// byteCount u32, byteOffset u32, then ceil((offset + count) / 4096) u64 page numbers.
const RANGES: GpaRange[] = [
  { byteCount: 0x1800, byteOffset: 0x200, gpns: [0x1234n, 0x1235n] },
  { byteCount: 0x10, byteOffset: 0xff0, gpns: [0xab_cdefn] },
];
const RANGES_BYTES = hex(`
  00180000 00020000   # range 0: byteCount 0x1800, byteOffset 0x200 -> 2 pages
  3412000000000000    # gpn 0x1234
  3512000000000000    # gpn 0x1235
  10000000 f00f0000   # range 1: byteCount 0x10, byteOffset 0xff0 -> ends at 0x1000, 1 page
  efcdab0000000000    # gpn 0xabcdef
`);

test('GPA ranges encode as {byteCount, byteOffset} then one u64 per spanned page', () => {
  assert.deepEqual(encodeGpaRanges(RANGES), RANGES_BYTES);
  assert.deepEqual(decodeGpaRanges(RANGES_BYTES, 2), RANGES);
  assert.equal(gpaRangesSize(RANGES), RANGES_BYTES.length);
  assert.equal(gpaRangeSize(RANGES[0]!), 24);
});

test('page count is ceil((offset + count) / 4096)', () => {
  assert.equal(gpaRangePageCount(0, 1), 1);
  assert.equal(gpaRangePageCount(0, 4096), 1);
  assert.equal(gpaRangePageCount(1, 4096), 2);
  assert.equal(gpaRangePageCount(0xfff, 2), 2);
  assert.equal(gpaRangePageCount(0, 0xffff_ffff), 0x10_0000);
});

test('bytes after the last range are left for the caller (GPADL messages may carry them)', () => {
  const withTail = new Uint8Array(RANGES_BYTES.length + 5);
  withTail.set(RANGES_BYTES);
  assert.deepEqual(decodeGpaRanges(withTail, 2), RANGES);
  assert.deepEqual(decodeGpaRanges(withTail, 1), [RANGES[0]]);
});

test('malformed GPA range lists return the WireError that names the broken rule', () => {
  const rows: { name: string; bytes: Uint8Array; count: number; code: string }[] = [
    { name: 'zero byte count (gparange.rs EmptyByteCount)', bytes: hex('00000000 00000000 0100000000000000'), count: 1, code: 'zero-byte-count' },
    { name: 'byte offset past the first page (PR #1842)', bytes: hex('01000000 00100000 efbeadde00000000'), count: 1, code: 'gpa-offset-too-large' },
    { name: 'fewer page numbers than offset + count need', bytes: hex('01100000 00000000 0100000000000000'), count: 1, code: 'too-few-pages' },
    { name: 'range count larger than the bytes hold', bytes: RANGES_BYTES, count: 3, code: 'range-out-of-bounds' },
    { name: 'a range header cut short', bytes: hex('01000000 0000'), count: 1, code: 'range-out-of-bounds' },
    { name: 'range count not a u32', bytes: RANGES_BYTES, count: -1, code: 'bad-value' },
  ];
  for (const row of rows) {
    for (const decode of [decodeGpaRanges, decodeGpaRangeNumbers]) {
      const r = decode(row.bytes, row.count);
      assert.ok(r instanceof WireError, `${decode.name}: ${row.name}`);
      assert.equal(r.code, row.code, `${decode.name}: ${row.name}`);
    }
  }
});

test('a huge range count over a short buffer fails fast instead of looping', () => {
  const r = decodeGpaRanges(RANGES_BYTES, 0xffff_ffff);
  assert.ok(r instanceof WireError);
  assert.equal(r.code, 'range-out-of-bounds');
});

test('encoding validates each range: byte count, offset, exact page-number count, u64 page numbers', () => {
  const rows: [GpaRange, string][] = [
    [{ byteCount: 0, byteOffset: 0, gpns: [] }, 'zero-byte-count'],
    [{ byteCount: 1, byteOffset: 0x1000, gpns: [1n, 2n] }, 'gpa-offset-too-large'],
    [{ byteCount: 0x1001, byteOffset: 0, gpns: [1n] }, 'too-few-pages'],
    [{ byteCount: 1, byteOffset: 0, gpns: [1n, 2n] }, 'bad-value'],
    [{ byteCount: 1, byteOffset: 0, gpns: [1n << 64n] }, 'bad-value'],
    [{ byteCount: 2 ** 32, byteOffset: 0, gpns: [] }, 'bad-value'],
  ];
  for (const [range, code] of rows) {
    const r = encodeGpaRanges([range]);
    assert.ok(r instanceof WireError, JSON.stringify(range, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    assert.equal(r.code, code);
  }
});

const gpaRange: fc.Arbitrary<GpaRange> = fc
  .record({ byteCount: fc.integer({ min: 1, max: 5 * 4096 }), byteOffset: fc.integer({ min: 0, max: 0xfff }) })
  .chain(({ byteCount, byteOffset }) =>
    fc
      .array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), {
        minLength: gpaRangePageCount(byteOffset, byteCount),
        maxLength: gpaRangePageCount(byteOffset, byteCount),
      })
      .map((gpns) => ({ byteCount, byteOffset, gpns })),
  );

test('any valid range list survives encode then decode', () => {
  fc.assert(
    fc.property(fc.array(gpaRange, { maxLength: 6 }), (ranges) => {
      const bytes = encodeGpaRanges(ranges);
      assert.ok(bytes instanceof Uint8Array);
      assert.deepEqual(decodeGpaRanges(bytes, ranges.length), ranges);
    }),
    { seed: testSeed('GPA range round trip'), numRuns: 300 },
  );
});

test('the number decoder reads the same ranges as the BigInt one, exactly below 2^53', () => {
  fc.assert(
    fc.property(fc.array(gpaRange, { maxLength: 6 }), (ranges) => {
      const bytes = encodeGpaRanges(ranges);
      assert.ok(bytes instanceof Uint8Array);
      const numbers = decodeGpaRangeNumbers(bytes, ranges.length);
      assert.ok(Array.isArray(numbers));
      assert.deepEqual(
        numbers.map(({ byteCount, byteOffset }) => ({ byteCount, byteOffset })),
        ranges.map(({ byteCount, byteOffset }) => ({ byteCount, byteOffset })),
      );
      numbers.forEach((range, r) =>
        range.gpns.forEach((gpn, i) => {
          const exact = ranges[r]!.gpns[i]!;
          // Exact where a number can be; beyond, still beyond every safe integer (never a real page).
          if (exact <= BigInt(Number.MAX_SAFE_INTEGER)) assert.equal(gpn, Number(exact));
          else assert.ok(gpn > Number.MAX_SAFE_INTEGER);
        }),
      );
    }),
    { seed: testSeed('GPA range number decode'), numRuns: 300 },
  );
});
