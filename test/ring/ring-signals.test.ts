import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingReader } from '../../src/ring/ring-reader.js';
import { RingWriter } from '../../src/ring/ring-writer.js';
import { RING_CONTROL_WORD } from '../../src/wire/ring-control.js';
import { flatRing, type TestRing } from './ring-fixtures.js';

const PACKET = new Uint8Array(8);
/** A payload whose packet takes exactly 1024 ring bytes (16 + 1000 padded to 1016, + 8). */
const KIB_PACKET = new Uint8Array(1000);

function ends(ring: TestRing): { writer: RingWriter; reader: RingReader } {
  return { writer: new RingWriter(ring.memory), reader: new RingReader(ring.memory) };
}

// Writer → reader: signal only on empty → non-empty, only with the mask clear
// (linux-vmbus.md §A.1.3 step 8; OpenVMM commit_write, lib.rs:1088-1104).

test('the writer signals when its batch makes an empty ring non-empty and the mask is clear', () => {
  const { writer } = ends(flatRing(1));
  writer.tryWriteInBand(PACKET);
  writer.tryWriteInBand(PACKET);
  assert.equal(writer.commit(), true, 'one signal for the whole batch');
  assert.equal(writer.commit(), false, 'nothing new to publish');
});

test('the writer does not signal when the reader had not drained the ring before the batch', () => {
  const { writer, reader } = ends(flatRing(1));
  writer.tryWriteInBand(PACKET);
  assert.equal(writer.commit(), true);
  writer.tryWriteInBand(PACKET);
  assert.equal(writer.commit(), false, 'reader still has the first packet');
  reader.tryRead();
  reader.tryRead();
  writer.tryWriteInBand(PACKET);
  assert.equal(writer.commit(), false, 'the reader consumed but has not published its read index');
  reader.commit();
  reader.tryRead();
  reader.commit();
  writer.tryWriteInBand(PACKET);
  assert.equal(writer.commit(), true, 'drained and published: empty again');
});

test('the writer does not signal while the reader keeps its interrupt mask set', () => {
  const ring = flatRing(1);
  const { writer, reader } = ends(ring);
  reader.maskInterrupts();
  assert.equal(ring.control[RING_CONTROL_WORD.interruptMask], 1);
  assert.equal(reader.interruptsMasked, true);
  writer.tryWriteInBand(PACKET);
  assert.equal(writer.commit(), false);
});

test('unmasking on an empty ring arms the signal: the next packet rings', () => {
  const ring = flatRing(1);
  const { writer, reader } = ends(ring);
  reader.maskInterrupts();
  assert.equal(reader.unmaskInterruptsIfEmpty(), true);
  assert.equal(ring.control[RING_CONTROL_WORD.interruptMask], 0);
  writer.tryWriteInBand(PACKET);
  assert.equal(writer.commit(), true);
});

test('a packet published while masked is found by the unmask re-check, and the mask goes back on', () => {
  const ring = flatRing(1);
  const { writer, reader } = ends(ring);
  reader.maskInterrupts();
  writer.tryWriteInBand(PACKET);
  assert.equal(writer.commit(), false, 'masked: no signal, so the reader must not sleep on it');
  assert.equal(reader.unmaskInterruptsIfEmpty(), false);
  assert.equal(ring.control[RING_CONTROL_WORD.interruptMask], 1);
  assert.equal(reader.tryRead(), true);
});

test('unmasking with reads not yet committed is refused: the writer would compare against a stale index', () => {
  const { writer, reader } = ends(flatRing(1));
  writer.tryWriteInBand(PACKET);
  writer.commit();
  reader.tryRead();
  assert.throws(() => reader.unmaskInterruptsIfEmpty(), /commit\(\)/);
  reader.commit();
  assert.equal(reader.unmaskInterruptsIfEmpty(), true);
});

// Reader → writer: signal only when free space crosses the writer's pending send size,
// equality counting as not enough, and only when the feature bit is set (linux-vmbus.md §A.1.4).

/** A 1-page ring holding three 1024-byte packets: 1024 bytes free, 1016 writable. */
function threeQuartersFull(init: { featureBits?: number } = {}): { ring: TestRing; writer: RingWriter; reader: RingReader } {
  const ring = flatRing(1, init);
  const { writer, reader } = ends(ring);
  for (let i = 0; i < 3; i++) assert.equal(writer.tryWriteInBand(KIB_PACKET), true);
  writer.commit();
  return { ring, writer, reader };
}

function readAndCommit(reader: RingReader, packets: number): boolean {
  for (let i = 0; i < packets; i++) assert.equal(reader.tryRead(), true);
  return reader.commit();
}

test('the reader signals when its batch frees enough for the pending send size', () => {
  const { writer, reader } = threeQuartersFull();
  assert.equal(writer.tryWriteInBand(KIB_PACKET), false);
  assert.equal(writer.neededBytes, 1024);
  assert.equal(writer.requestSpace(), false);
  assert.equal(readAndCommit(reader, 1), true);
  assert.equal(writer.tryWriteInBand(KIB_PACKET), true);
});

test('free space equal to the pending send size is not enough: no signal until it is exceeded', () => {
  const { ring, reader } = threeQuartersFull();
  Atomics.store(ring.control, RING_CONTROL_WORD.pendingSendSize, 2048);
  assert.equal(readAndCommit(reader, 1), false, 'free 1024 -> 2048 equals pending 2048');
  assert.equal(readAndCommit(reader, 1), true, 'free 2048 -> 3072 crosses it');
  assert.equal(readAndCommit(reader, 1), false, 'already enough before this batch');
});

test('the pending send size is read with its low 3 bits cleared (OpenVMM lib.rs:931-936)', () => {
  const { ring, reader } = threeQuartersFull();
  Atomics.store(ring.control, RING_CONTROL_WORD.pendingSendSize, 2055);
  assert.equal(readAndCommit(reader, 1), false, '2055 counts as 2048: equality again');
});

test('the reader never signals when no pending send size is set', () => {
  const { reader } = threeQuartersFull();
  assert.equal(readAndCommit(reader, 3), false);
});

test('the reader never signals a writer whose ring lacks the pending-send-size feature bit', () => {
  const { ring, reader } = threeQuartersFull({ featureBits: 0 });
  Atomics.store(ring.control, RING_CONTROL_WORD.pendingSendSize, 1024);
  assert.equal(reader.writerSupportsPendingSendSize, false);
  assert.equal(readAndCommit(reader, 3), false);
});

test('the interrupt mask does not gate the space signal', () => {
  const { ring, reader } = threeQuartersFull();
  Atomics.store(ring.control, RING_CONTROL_WORD.pendingSendSize, 1024);
  reader.maskInterrupts();
  assert.equal(readAndCommit(reader, 1), true);
});

test('requestSpace asks for at least a quarter of the ring, as OpenVMM does against ping-pong', () => {
  const ring = flatRing(4);
  const writer = new RingWriter(ring.memory);
  for (let i = 0; i < 32 && writer.tryWriteInBand(KIB_PACKET); i++);
  assert.equal(writer.requestSpace(), false);
  // max(1024 needed, (16384 - 8) / 4 = 4094 rounded up to 4096)
  assert.equal(ring.control[RING_CONTROL_WORD.pendingSendSize], 4096);
});

test('a successful write after waiting withdraws the pending send size', () => {
  const { ring, writer, reader } = threeQuartersFull();
  writer.tryWriteInBand(KIB_PACKET);
  writer.requestSpace();
  assert.equal(ring.control[RING_CONTROL_WORD.pendingSendSize], 1024);
  assert.equal(readAndCommit(reader, 1), true);
  assert.equal(writer.tryWriteInBand(KIB_PACKET), true);
  assert.equal(ring.control[RING_CONTROL_WORD.pendingSendSize], 0);
});

test('requestSpace re-checks after publishing: space freed just before counts, and no request is left behind', () => {
  const { ring, writer, reader } = threeQuartersFull();
  assert.equal(writer.tryWriteInBand(KIB_PACKET), false);
  // The reader frees space before the writer's request lands: its commit sees no pending size.
  assert.equal(readAndCommit(reader, 3), false);
  assert.equal(writer.requestSpace(), true);
  assert.equal(ring.control[RING_CONTROL_WORD.pendingSendSize], 0);
  assert.equal(writer.tryWriteInBand(KIB_PACKET), true);
});
