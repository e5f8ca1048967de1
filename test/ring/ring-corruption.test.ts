import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingCorruptError } from '../../src/ring/ring-corrupt-error.js';
import { RingReader } from '../../src/ring/ring-reader.js';
import { RingWriter } from '../../src/ring/ring-writer.js';
import { RING_CONTROL_WORD } from '../../src/wire/ring-control.js';
import { flatRing, pagedRing, type TestRing } from './ring-fixtures.js';
import { hex } from '../wire/messages/hex.js';

/** A ring holding one committed 8-byte in-band packet at index 0 (32 ring bytes). */
function oneGoodPacket(make = flatRing): { ring: TestRing; reader: RingReader } {
  const ring = make(1);
  const writer = new RingWriter(ring.memory);
  writer.tryWriteInBand(new Uint8Array(8), 1);
  writer.commit();
  return { ring, reader: new RingReader(ring.memory) };
}

function assertCorrupt(fn: () => unknown, code: string): RingCorruptError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof RingCorruptError, `expected RingCorruptError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

/** Every call on a poisoned reader throws the very same error. */
function assertPoisoned(reader: RingReader, error: RingCorruptError): void {
  for (const call of [
    () => reader.tryRead(),
    () => reader.commit(),
    () => reader.isEmpty(),
    () => reader.maskInterrupts(),
    () => reader.unmaskInterruptsIfEmpty(),
  ]) {
    assert.throws(call, (e: unknown) => e === error);
  }
  assert.equal(reader.corruptError, error);
}

const DESCRIPTOR_ROWS: { name: string; descriptor: string; code: string }[] = [
  { name: 'dataOffset8 below 2', descriptor: '0600 0100 0300 0000', code: 'data-offset-too-small' },
  { name: 'length8 below dataOffset8', descriptor: '0600 0300 0200 0000', code: 'length-before-data-offset' },
  { name: 'length8 beyond the published bytes', descriptor: '0600 0200 0400 0000', code: 'length-exceeds-available' },
  { name: 'an unknown flag bit', descriptor: '0600 0200 0300 0400', code: 'unknown-flags' },
  { name: 'a packet type above 0xd', descriptor: '2000 0200 0300 0000', code: 'unknown-type' },
  { name: 'GPA direct with no room for its header (commit 4386c390b)', descriptor: '0900 0200 0300 0100', code: 'extended-header-too-small' },
  { name: 'transfer pages with no room for its header', descriptor: '0700 0200 0300 0100', code: 'extended-header-too-small' },
];

for (const { name, descriptor, code } of DESCRIPTOR_ROWS) {
  test(`a descriptor with ${name} is ${code}, and the reader stays poisoned`, () => {
    const { ring, reader } = oneGoodPacket();
    ring.poke(0, hex(descriptor));
    const error = assertCorrupt(() => reader.tryRead(), code);
    // Repairing the ring does not revive the reader: it already saw the peer break it.
    ring.poke(0, hex('0600 0200 0300 0000'));
    assertPoisoned(reader, error);
  });
}

test('a packet whose trailer is not published is corrupt (OpenVMM checks only length8 * 8: §3.1)', () => {
  const { ring } = oneGoodPacket();
  // Publish 24 of the packet's 32 bytes: the descriptor says 24 (length8 3) but no trailer follows.
  Atomics.store(ring.control, RING_CONTROL_WORD.writeIndex, 24);
  const reader = new RingReader(ring.memory);
  assertCorrupt(() => reader.tryRead(), 'length-exceeds-available');
});

test('fewer published bytes than a descriptor and trailer is truncated-packet', () => {
  const { ring } = oneGoodPacket();
  Atomics.store(ring.control, RING_CONTROL_WORD.writeIndex, 16);
  const reader = new RingReader(ring.memory);
  assertCorrupt(() => reader.tryRead(), 'truncated-packet');
});

for (const [name, value] of [
  ['misaligned', 12],
  ['past the data area', 4096],
  ['negative as i32', -8],
] as const) {
  test(`a write index ${name} poisons the reader`, () => {
    const { ring, reader } = oneGoodPacket(pagedRing);
    Atomics.store(ring.control, RING_CONTROL_WORD.writeIndex, value);
    // The cached index from attach time still covers the first packet: the bad index is seen on the next load.
    assert.equal(reader.tryRead(), true);
    const error = assertCorrupt(() => reader.tryRead(), 'invalid-write-index');
    assertPoisoned(reader, error);
  });
}

test('a reader cannot attach to a ring whose read index is invalid', () => {
  const ring = flatRing(1);
  Atomics.store(ring.control, RING_CONTROL_WORD.readIndex, 4);
  assertCorrupt(() => new RingReader(ring.memory), 'invalid-read-index');
});

test('a read index moved out of range poisons the writer', () => {
  const ring = flatRing(1);
  const writer = new RingWriter(ring.memory);
  Atomics.store(ring.control, RING_CONTROL_WORD.readIndex, 4100);
  const error = assertCorrupt(() => writer.writableBytes(), 'invalid-read-index');
  for (const call of [
    () => writer.tryWriteInBand(new Uint8Array(1)),
    () => writer.commit(),
    () => writer.requestSpace(24),
  ]) {
    assert.throws(call, (e: unknown) => e === error);
  }
  assert.equal(writer.corruptError, error);
});

test('the writer notices a bad read index when it needs to reload it to find space', () => {
  const ring = flatRing(1);
  const writer = new RingWriter(ring.memory);
  for (let i = 0; i < 8 && writer.tryWriteInBand(new Uint8Array(1000)); i++);
  Atomics.store(ring.control, RING_CONTROL_WORD.readIndex, 7);
  assertCorrupt(() => writer.tryWriteInBand(new Uint8Array(1000)), 'invalid-read-index');
});

test('a peer rewriting a descriptor after the reader copied it cannot change the packet handed out', () => {
  const ring = flatRing(1);
  const writer = new RingWriter(ring.memory);
  const reader = new RingReader(ring.memory);
  writer.tryWriteInBand(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 77);
  writer.commit();
  assert.equal(reader.tryRead(), true);
  ring.poke(0, hex('0b00 0200 0900 0000 ffffffffffffffff 0909090909090909'));
  assert.equal(reader.packet.packetType, 6);
  assert.equal(reader.packet.length8, 3);
  assert.equal(reader.packet.transactionIdLo, 77);
  assert.deepEqual(reader.packet.payload, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
});
