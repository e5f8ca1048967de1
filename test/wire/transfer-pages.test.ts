import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkTransferPageRangesFit,
  decodeTransferPageRanges,
  encodeTransferPageRanges,
} from '../../src/wire/transfer-pages.js';
import { WireError } from '../../src/wire/wire-error.js';
import { hex } from './messages/hex.js';

// Transfer page range (openvmm-vmbus.md §6.3, lib.rs:163-176; hyperv.h:365-372): byteCount u32, byteOffset u32.
const RANGES = [
  { byteCount: 0x5ea, byteOffset: 0 },
  { byteCount: 0x100, byteOffset: 0x6c0 },
];
const RANGES_BYTES = hex('ea050000 00000000  00010000 c0060000');

test('transfer page ranges are {byteCount u32, byteOffset u32} pairs', () => {
  assert.deepEqual(encodeTransferPageRanges(RANGES), RANGES_BYTES);
  assert.deepEqual(decodeTransferPageRanges(RANGES_BYTES, 2), RANGES);
});

test('a range count the bytes cannot hold is range-out-of-bounds', () => {
  const r = decodeTransferPageRanges(RANGES_BYTES, 3);
  assert.ok(r instanceof WireError);
  assert.equal(r.code, 'range-out-of-bounds');
  const huge = decodeTransferPageRanges(RANGES_BYTES, 0xffff_ffff);
  assert.ok(huge instanceof WireError);
  assert.equal(huge.code, 'range-out-of-bounds');
});

test('ranges are checked against the transfer buffer they point into (netvsc, hyperv.h §A.2)', () => {
  assert.equal(checkTransferPageRangesFit(RANGES, 0x7c0), null);
  const r = checkTransferPageRangesFit(RANGES, 0x7bf);
  assert.ok(r instanceof WireError);
  assert.equal(r.code, 'range-out-of-bounds');
  assert.match(r.message, /range 1/);
});

test('encoding rejects fields outside u32', () => {
  const r = encodeTransferPageRanges([{ byteCount: -1, byteOffset: 0 }]);
  assert.ok(r instanceof WireError);
  assert.equal(r.code, 'bad-value');
});
