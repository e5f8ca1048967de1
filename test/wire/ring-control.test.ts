import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FEATURE_SUPPORTS_PENDING_SEND_SIZE,
  RING_CONTROL_WORD,
  RING_DATA_OFFSET,
  RING_FEATURE_BITS_OFFSET,
  RING_INTERRUPT_MASK_OFFSET,
  RING_PENDING_SEND_SIZE_OFFSET,
  RING_READ_INDEX_OFFSET,
  RING_WRITE_INDEX_OFFSET,
  decodeRingControl,
  encodeRingControl,
  isValidRingIndex,
  ringDataSizeProblem,
} from '../../src/wire/ring-control.js';
import { WireError } from '../../src/wire/wire-error.js';
import { hex } from './messages/hex.js';

test('control fields sit at 0/4/8/12/64 and data at 4096 (openvmm-vmbus.md §6.2; linux-vmbus.md §A.1.1)', () => {
  assert.equal(RING_WRITE_INDEX_OFFSET, 0);
  assert.equal(RING_READ_INDEX_OFFSET, 4);
  assert.equal(RING_INTERRUPT_MASK_OFFSET, 8);
  assert.equal(RING_PENDING_SEND_SIZE_OFFSET, 12);
  assert.equal(RING_FEATURE_BITS_OFFSET, 64);
  assert.equal(RING_DATA_OFFSET, 4096);
  // OpenVMM's [AtomicU32; 32] view: in [0], out [1], mask [2], pending [3], features [16] (lib.rs:109-123).
  assert.deepEqual(RING_CONTROL_WORD, { writeIndex: 0, readIndex: 1, interruptMask: 2, pendingSendSize: 3, featureBits: 16 });
  assert.equal(FEATURE_SUPPORTS_PENDING_SEND_SIZE, 1);
});

test('the control page encodes and decodes little-endian at those offsets', () => {
  const page = new Uint8Array(4096).fill(0xee);
  const control = { writeIndex: 0x1238, readIndex: 0x40, interruptMask: 1, pendingSendSize: 0x1000, featureBits: 1 };
  assert.equal(encodeRingControl(control, page), null);
  assert.deepEqual(page.subarray(0, 16), hex('38 12 00 00  40 00 00 00  01 00 00 00  00 10 00 00'));
  assert.deepEqual(page.subarray(64, 68), hex('01 00 00 00'));
  assert.equal(page[16], 0xee, 'reserved bytes are left alone');
  assert.deepEqual(decodeRingControl(page), control);
});

test('a control page shorter than its fields is truncated; a field outside u32 is a bad value', () => {
  const short = decodeRingControl(new Uint8Array(67));
  assert.ok(short instanceof WireError);
  assert.equal(short.code, 'truncated');
  const bad = encodeRingControl({ writeIndex: -8, readIndex: 0, interruptMask: 0, pendingSendSize: 0, featureBits: 0 }, new Uint8Array(4096));
  assert.ok(bad instanceof WireError);
  assert.equal(bad.code, 'bad-value');
});

test('ring indices are valid when below the data size and 8-aligned (lib.rs:1307-1313)', () => {
  assert.equal(isValidRingIndex(0, 4096), true);
  assert.equal(isValidRingIndex(4088, 4096), true);
  assert.equal(isValidRingIndex(4096, 4096), false);
  assert.equal(isValidRingIndex(4, 4096), false);
  assert.equal(isValidRingIndex(-8, 4096), false);
  assert.equal(isValidRingIndex(0xffff_fff8, 8192), false);
});

test('a data area is whole pages, at least one, fitting u32 indices', () => {
  assert.equal(ringDataSizeProblem(4096), null);
  assert.equal(ringDataSizeProblem(0xffff_f000), null);
  assert.match(ringDataSizeProblem(0) ?? '', /at least one/);
  assert.match(ringDataSizeProblem(6000) ?? '', /multiple of 4096/);
  assert.match(ringDataSizeProblem(0x1_0000_0000) ?? '', /u32/);
});
