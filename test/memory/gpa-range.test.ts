import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { copyGpaRanges, gpaRangesFromBytes, gpaRangesFromWire, gpaRangesToWire, validateGpaRange, validateGpaRanges } from '../../src/memory/gpa-range.js';
import { encodeGpaRanges } from '../../src/wire/gpa-range.js';
import { WireError } from '../../src/wire/wire-error.js';
import type { GpaRange } from '../../src/memory/gpa-range.js';

const memory = new GuestMemory(16);

test('valid ranges: page list is ceil((offset + count) / 4096) PFNs inside memory', () => {
  // Range rules: byte_count != 0, byte_offset <= 0xfff, page list covers offset+count
  // (openvmm-vmbus.md §3.1 "GPA ranges", gparange.rs:218-244; linux-vmbus.md `gpa_range`).
  const valid: GpaRange[] = [
    { byteOffset: 0, byteCount: 1, pfns: [0] },
    { byteOffset: 0, byteCount: 4096, pfns: [15] },
    { byteOffset: 0xfff, byteCount: 1, pfns: [3] },
    { byteOffset: 0xfff, byteCount: 2, pfns: [3, 9] },
    { byteOffset: 100, byteCount: 3 * 4096, pfns: [7, 2, 7, 1] }, // scattered, a page listed twice
  ];
  for (const range of valid) assert.equal(validateGpaRange(range, memory), undefined, JSON.stringify(range));
});

test('invalid ranges are returned as typed errors', () => {
  const cases: [GpaRange, string][] = [
    [{ byteOffset: 0, byteCount: 0, pfns: [] }, 'zero-length'],
    [{ byteOffset: 0, byteCount: 0, pfns: [1] }, 'zero-length'],
    [{ byteOffset: 0x1000, byteCount: 1, pfns: [1, 2] }, 'bad-page-offset'], // offset beyond the first page (OpenVMM #1842)
    [{ byteOffset: -1, byteCount: 1, pfns: [1] }, 'bad-page-offset'],
    [{ byteOffset: 0.5, byteCount: 1, pfns: [1] }, 'bad-page-offset'],
    [{ byteOffset: 0, byteCount: 2 ** 32, pfns: [] }, 'out-of-range'], // byte_count is a u32
    [{ byteOffset: 0, byteCount: -4, pfns: [1] }, 'out-of-range'],
    [{ byteOffset: 0, byteCount: 4097, pfns: [1] }, 'page-count-mismatch'],
    [{ byteOffset: 1, byteCount: 4096, pfns: [1] }, 'page-count-mismatch'],
    [{ byteOffset: 0, byteCount: 4096, pfns: [1, 2] }, 'page-count-mismatch'],
    [{ byteOffset: 0, byteCount: 4096, pfns: [16] }, 'out-of-range'],
    [{ byteOffset: 0, byteCount: 8192, pfns: [1, -1] }, 'out-of-range'],
    [{ byteOffset: 0, byteCount: 4096, pfns: [Number.NaN] }, 'out-of-range'],
    [{ byteOffset: 0, byteCount: 4096, pfns: [2 ** 53] }, 'out-of-range'],
  ];
  for (const [range, code] of cases) {
    assert.equal(validateGpaRange(range, memory)?.code, code, JSON.stringify(range));
  }
});

test('validateGpaRanges rejects an empty list and reports the first bad range', () => {
  assert.equal(validateGpaRanges([], memory)?.code, 'zero-length');
  const ranges: GpaRange[] = [
    { byteOffset: 0, byteCount: 10, pfns: [1] },
    { byteOffset: 0, byteCount: 10, pfns: [99] },
  ];
  assert.equal(validateGpaRanges(ranges, memory)?.code, 'out-of-range');
  assert.equal(validateGpaRanges(ranges.slice(0, 1), memory), undefined);
});

test('copyGpaRanges detaches the copy from later changes to the input', () => {
  const pfns = [1, 2];
  const copy = copyGpaRanges([{ byteOffset: 0, byteCount: 8192, pfns }]);
  pfns[1] = 999;
  assert.deepEqual(copy[0]?.pfns, [1, 2]);
});

test('wire ranges convert to in-memory ranges and back', () => {
  const wire = [{ byteCount: 5000, byteOffset: 7, gpns: [3n, 12n] }];
  const ranges = gpaRangesFromWire(wire);
  assert.deepEqual(ranges, [{ byteOffset: 7, byteCount: 5000, pfns: [3, 12] }]);
  assert.deepEqual(gpaRangesToWire(ranges), wire);
});

test('a u64 page number beyond 2^53 cannot alias a page of guest memory', () => {
  // 2^64 - 4096 + 1: its low bits would name PFN 1 if truncated.
  const [range] = gpaRangesFromWire([{ byteCount: 1, byteOffset: 0, gpns: [0xffff_ffff_ffff_f001n] }]);
  assert.ok(range !== undefined);
  assert.ok((range.pfns[0] as number) >= 2 ** 53);
  assert.equal(validateGpaRange(range, memory)?.code, 'out-of-range');
});

test('ranges read straight from wire bytes equal the BigInt decode converted', () => {
  const wire = [
    { byteCount: 5000, byteOffset: 7, gpns: [3n, 12n] },
    { byteCount: 1, byteOffset: 0, gpns: [0xffff_ffff_ffff_f001n] },
  ];
  const bytes = encodeGpaRanges(wire);
  assert.ok(bytes instanceof Uint8Array);
  const ranges = gpaRangesFromBytes(bytes, 2);
  assert.ok(Array.isArray(ranges));
  assert.deepEqual(ranges[0], gpaRangesFromWire(wire)[0]);
  // The u64 beyond 2^53 stays beyond it, so validation refuses it like the BigInt path does.
  assert.ok((ranges[1]?.pfns[0] as number) >= 2 ** 53);
  assert.equal(validateGpaRange(ranges[1]!, memory)?.code, 'out-of-range');
  assert.ok(gpaRangesFromBytes(bytes, 3) instanceof WireError);
});
