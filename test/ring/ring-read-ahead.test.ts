/**
 * The reader's read-ahead: one bulk copy takes everything published from the
 * read index into the private copy, and the packets behind the first are
 * read from there. Each packet's bytes come out of shared memory once; a
 * packet the copy ends inside is copied again, from its start, and checked
 * again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingCorruptError } from '../../src/ring/ring-corrupt-error.js';
import { RingReader } from '../../src/ring/ring-reader.js';
import { RingWriter } from '../../src/ring/ring-writer.js';
import { MAX_PACKET_LENGTH } from '../../src/wire/packet-descriptor.js';
import { WireError } from '../../src/wire/wire-error.js';
import { RING_KINDS, flatRing, payloadFor } from './ring-fixtures.js';
import { hex } from '../wire/messages/hex.js';

/** Writes in-band packets of `sizes` (transaction id = index) and commits once. */
function writeBatch(writer: RingWriter, sizes: readonly number[], firstSeq = 0): void {
  sizes.forEach((size, i) => {
    assert.ok(writer.tryWriteInBand(payloadFor(firstSeq + i, size), firstSeq + i), `packet ${firstSeq + i} fits`);
  });
  writer.commit();
}

/** Reads one packet and checks it is packet `seq` of `size` bytes, intact. */
function readPacket(reader: RingReader, seq: number, size: number): void {
  assert.equal(reader.tryRead(), true, `packet ${seq} is there`);
  const packet = reader.packet;
  assert.equal(packet.transactionIdLo, seq);
  assert.equal(packet.payloadLength, Math.ceil(size / 8) * 8);
  assert.deepEqual(packet.payload.subarray(0, size), payloadFor(seq, size), `packet ${seq} payload`);
}

test('packets behind the first come from the private copy: ring bytes rewritten after it was taken change nothing', () => {
  const ring = flatRing(4);
  const writer = new RingWriter(ring.memory);
  const reader = new RingReader(ring.memory);
  // Packets of 40, 24 and 2024 ring bytes (descriptor + padded payload + trailer): at offsets 0, 40 and 64.
  writeBatch(writer, [13, 0, 2000]);
  readPacket(reader, 0, 13);
  assert.equal(reader.packet.start, 0);
  // A hostile writer rewrites the two packets the reader has not handed out yet.
  ring.poke(40, hex('0b00 0200 0900 0000 ffffffffffffffff'));
  ring.poke(64, new Uint8Array(2024).fill(0xee));
  readPacket(reader, 1, 0);
  assert.equal(reader.packet.start, 40, 'the second packet sits where the first ended in the copy');
  assert.equal(reader.packet.payloadOffset, 56);
  readPacket(reader, 2, 2000);
  assert.equal(reader.packet.start, 64);
  const decoded = reader.packet.decode();
  assert.ok(!(decoded instanceof WireError), 'decode reads the packet at its start');
  assert.equal(decoded.packetType, 6);
  assert.equal(decoded.transactionId, 2n);
  assert.deepEqual(decoded.payload.subarray(0, 2000), payloadFor(2, 2000));
  assert.equal(reader.tryRead(), false);
});

test('packets published after the copy was taken are copied when the reader reaches them', () => {
  for (const [kind, make] of Object.entries(RING_KINDS)) {
    const ring = make(2);
    const writer = new RingWriter(ring.memory);
    const reader = new RingReader(ring.memory);
    let seq = 0;
    // Batches that wrap the 8 KiB data area several times, read while the writer keeps publishing.
    for (let round = 0; round < 12; round++) {
      const sizes = [1000, 8, 2500, 64].map((size) => size + round);
      writeBatch(writer, sizes.slice(0, 2), seq);
      readPacket(reader, seq, sizes[0]!);
      writeBatch(writer, sizes.slice(2), seq + 2);
      for (let i = 1; i < sizes.length; i++) readPacket(reader, seq + i, sizes[i]!);
      assert.equal(reader.tryRead(), false, `${kind}: round ${round} drained`);
      reader.commit();
      seq += sizes.length;
    }
  }
});

test('in a ring larger than the private copy, a packet the copy ends inside is copied again from its start', () => {
  for (const [kind, make] of Object.entries(RING_KINDS)) {
    // 640 KiB of data: one copy takes at most MAX_PACKET_LENGTH bytes, less than is published.
    const ring = make(160);
    const writer = new RingWriter(ring.memory);
    const reader = new RingReader(ring.memory);
    let seq = 0;
    for (let round = 0; round < 4; round++) {
      const sizes = [100_000, 150_000, 120_000, 140_000, 90_000].map((size) => size + 8 * round + round);
      writeBatch(writer, sizes, seq);
      const published = sizes.reduce((sum, size) => sum + 16 + Math.ceil(size / 8) * 8 + 8, 0);
      assert.ok(published > MAX_PACKET_LENGTH, 'more is published than one copy takes');
      sizes.forEach((size, i) => readPacket(reader, seq + i, size));
      assert.equal(reader.tryRead(), false, `${kind}: round ${round} drained`);
      reader.commit();
      seq += sizes.length;
    }
  }
});

test('a packet copied again is checked again: a descriptor broken since the first copy poisons the reader', () => {
  const ring = flatRing(160);
  const writer = new RingWriter(ring.memory);
  const reader = new RingReader(ring.memory);
  const sizes = [200_000, 200_000, 200_000];
  writeBatch(writer, sizes);
  readPacket(reader, 0, sizes[0]!);
  // The first copy (MAX_PACKET_LENGTH bytes) ends inside packet 2, which starts at 400,048.
  const third = 2 * (16 + 200_000 + 8);
  readPacket(reader, 1, sizes[1]!);
  ring.poke(third, hex('2000')); // packet type 0x20: not a VMBus packet type
  assert.throws(
    () => reader.tryRead(),
    (error: unknown) => error instanceof RingCorruptError && error.code === 'unknown-type',
  );
});
