import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlatRingMemory } from '../../src/ring/flat-ring-memory.js';
import { PagedRingMemory } from '../../src/ring/paged-ring-memory.js';
import { copyTarget, initializeRing, type RingMemory } from '../../src/ring/ring-memory.js';
import { FEATURE_SUPPORTS_PENDING_SEND_SIZE, RING_CONTROL_WORD } from '../../src/wire/ring-control.js';
import { RING_KINDS } from './ring-fixtures.js';

const PAGE = 4096;

test('FlatRingMemory takes a control page plus whole data pages', () => {
  const memory = new FlatRingMemory(new Uint8Array(new SharedArrayBuffer(3 * PAGE)));
  assert.equal(memory.dataSize, 2 * PAGE);
  assert.equal(memory.control.length, PAGE / 4);
  assert.ok(memory.control.buffer instanceof SharedArrayBuffer, 'Atomics.wait needs the shared buffer itself');
});

test('FlatRingMemory refuses no data page, partial pages and misaligned bytes', () => {
  assert.throws(() => new FlatRingMemory(new Uint8Array(PAGE)), /at least one/);
  assert.throws(() => new FlatRingMemory(new Uint8Array(PAGE + 100)), /at least one/);
  assert.throws(() => new FlatRingMemory(new Uint8Array(3 * PAGE + 8)), /multiple of 4096/);
  assert.throws(() => new FlatRingMemory(new Uint8Array(new ArrayBuffer(2 * PAGE + 4), 4)), /8-byte aligned/);
  assert.throws(() => FlatRingMemory.allocate(0), /at least one/);
});

test('FlatRingMemory works over a plain ArrayBuffer too (a mapped file, a single-thread test)', () => {
  const memory = FlatRingMemory.allocate(1, { shared: false });
  assert.ok(memory.bytes.buffer instanceof ArrayBuffer);
  assert.equal(memory.dataSize, PAGE);
});

test('PagedRingMemory takes 4096-byte, 8-aligned pages: control first, at least one data page', () => {
  const guest = new Uint8Array(new SharedArrayBuffer(4 * PAGE));
  const page = (i: number): Uint8Array => guest.subarray(i * PAGE, (i + 1) * PAGE);
  assert.equal(new PagedRingMemory([page(3), page(0), page(2)]).dataSize, 2 * PAGE);
  assert.throws(() => new PagedRingMemory([page(0)]), /at least one data page/);
  assert.throws(() => new PagedRingMemory([page(0), guest.subarray(PAGE, PAGE + 100)]), /not 4096/);
  assert.throws(() => new PagedRingMemory([page(0), guest.subarray(PAGE + 4, 2 * PAGE + 4)]), /8-byte aligned/);
});

test('initializeRing empties the ring and advertises pending-send-size support by default', () => {
  const memory = FlatRingMemory.allocate(1);
  memory.control.fill(-1, 0, 17);
  initializeRing(memory);
  assert.deepEqual(
    [RING_CONTROL_WORD.writeIndex, RING_CONTROL_WORD.readIndex, RING_CONTROL_WORD.interruptMask, RING_CONTROL_WORD.pendingSendSize].map(
      (w) => memory.control[w],
    ),
    [0, 0, 0, 0],
  );
  assert.equal(memory.control[RING_CONTROL_WORD.featureBits], FEATURE_SUPPORTS_PENDING_SEND_SIZE);
  initializeRing(memory, { featureBits: 0, interruptMask: true });
  assert.equal(memory.control[RING_CONTROL_WORD.featureBits], 0);
  assert.equal(memory.control[RING_CONTROL_WORD.interruptMask], 1);
});

function readBytes(memory: RingMemory, offset: number, length: number): Uint8Array {
  const target = copyTarget(new ArrayBuffer(length + 8));
  memory.read(offset, length, target, 1);
  return target.bytes.subarray(8);
}

for (const [kind, make] of Object.entries(RING_KINDS)) {
  test(`${kind} memory: writes and reads wrap at the end of the data area, across page boundaries`, () => {
    const ring = make(3);
    const size = ring.dataSize;
    // Large enough to take the bulk-copy path, small enough for the loop path: both must wrap.
    for (const length of [24, 4096 + 64]) {
      const start = size - 16;
      const source = Uint8Array.from({ length }, (_, i) => (i * 7 + length) & 0xff);
      ring.memory.writeBytes(start, source);
      for (let i = 0; i < length; i++) assert.equal(ring.dataByte(start + i), source[i], `byte ${i}`);
      assert.deepEqual(readBytes(ring.memory, start, length), source);
      // Offsets up to 2 * size wrap once, as if the data were mapped twice.
      assert.deepEqual(readBytes(ring.memory, start + size, length), source);
    }
  });

  test(`${kind} memory: writeUnit stores two little-endian words, wrapping its offset`, () => {
    const ring = make(2);
    ring.memory.writeUnit(ring.dataSize + 8, 0x0403_0201, -1);
    assert.deepEqual(
      Array.from({ length: 8 }, (_, i) => ring.dataByte(8 + i)),
      [1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff],
    );
  });
}

test('the data area is contiguous for a flat ring and for paged rings whose pages sit back to back, not for scattered pages', () => {
  const viewsOf = (memory: RingMemory): number | null => memory.contiguous?.bytes.length ?? null;
  assert.equal(viewsOf(RING_KINDS.flat(3).memory), 3 * PAGE);
  assert.equal(viewsOf(RING_KINDS['paged back to back'](3).memory), 3 * PAGE);
  assert.equal(viewsOf(RING_KINDS.paged(3).memory), null);
  // Back to back but in two buffers: not one run.
  const a = new Uint8Array(new SharedArrayBuffer(2 * PAGE));
  const b = new Uint8Array(new SharedArrayBuffer(PAGE));
  assert.equal(viewsOf(new PagedRingMemory([a.subarray(0, PAGE), a.subarray(PAGE), b])), null);
});
