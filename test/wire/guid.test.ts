import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGuid, readGuid, writeGuid, GUID_SIZE } from '../../src/wire/guid.js';
import { WireError } from '../../src/wire/wire-error.js';

// Heartbeat IC class GUID (linux-vmbus.md §A.5.4) and its mixed-endian wire form:
// Data1/Data2/Data3 little-endian, Data4 as bytes (Windows GUID layout).
const HEARTBEAT = '57164f39-9115-4e78-ab55-382f3bd5422d';
const HEARTBEAT_WIRE = Uint8Array.from([
  0x39, 0x4f, 0x16, 0x57, 0x15, 0x91, 0x78, 0x4e, 0xab, 0x55, 0x38, 0x2f, 0x3b, 0xd5, 0x42, 0x2d,
]);

test('writeGuid lays out Data1..Data3 little-endian and Data4 as bytes', () => {
  const out = new Uint8Array(GUID_SIZE + 2);
  writeGuid(out, 1, HEARTBEAT);
  assert.deepEqual(out.subarray(1, 17), HEARTBEAT_WIRE);
  assert.equal(out[0], 0);
  assert.equal(out[17], 0);
});

test('readGuid is the inverse of writeGuid', () => {
  assert.equal(readGuid(HEARTBEAT_WIRE, 0), HEARTBEAT);
});

test('parseGuid accepts braces and upper case and returns the canonical form', () => {
  assert.equal(parseGuid('{57164F39-9115-4E78-AB55-382F3BD5422D}'), HEARTBEAT);
});

test('parseGuid returns a typed error for text that is not a GUID', () => {
  for (const bad of ['', '57164f39-9115-4e78-ab55-382f3bd5422', 'zz164f39-9115-4e78-ab55-382f3bd5422d']) {
    const r = parseGuid(bad);
    assert.ok(r instanceof WireError);
    assert.equal(r.code, 'bad-value');
  }
});
