/**
 * The reader's read-ahead: one bulk copy takes what is published from the
 * read index (up to 64 KiB) into the private copy, and the packets behind
 * the first are read from there. A packet the copy ends inside is completed
 * from the ring behind its first bytes. Each byte comes out of shared memory
 * once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
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

test('large packets behind a read-ahead are completed from the ring, whatever the ring kind', () => {
  for (const [kind, make] of Object.entries(RING_KINDS)) {
    // 640 KiB of data: batches of 100-150 KB packets, far more than one read-ahead takes.
    const ring = make(160);
    const writer = new RingWriter(ring.memory);
    const reader = new RingReader(ring.memory);
    let seq = 0;
    for (let round = 0; round < 4; round++) {
      const sizes = [100_000, 150_000, 120_000, 140_000, 90_000, 8].map((size) => size + 8 * round + round);
      writeBatch(writer, sizes, seq);
      sizes.forEach((size, i) => readPacket(reader, seq + i, size));
      assert.equal(reader.tryRead(), false, `${kind}: round ${round} drained`);
      reader.commit();
      seq += sizes.length;
    }
  }
});

test('a packet too large to complete where it sits in the copy moves to its start, and arrives intact', () => {
  const ring = flatRing(160);
  const writer = new RingWriter(ring.memory);
  const reader = new RingReader(ring.memory);
  // An 8-byte packet (32 ring bytes), then the largest packet length8 allows: from byte 32
  // of the copy it would end at 524,304, past the copy's MAX_PACKET_LENGTH (524,280) bytes.
  const largest = MAX_PACKET_LENGTH - 16;
  writeBatch(writer, [8, largest]);
  readPacket(reader, 0, 8);
  readPacket(reader, 1, largest);
  assert.equal(reader.packet.start, 0);
  assert.equal(reader.packet.length8 * 8, MAX_PACKET_LENGTH);
});

test('a packet completed from the ring keeps the descriptor the reader checked: a rewrite since changes nothing', () => {
  const ring = flatRing(16);
  const writer = new RingWriter(ring.memory);
  const reader = new RingReader(ring.memory);
  writeBatch(writer, [8, 60_000, 8]);
  // The read-ahead takes packet 0 and packet 1's first bytes, descriptor included.
  readPacket(reader, 0, 8);
  ring.poke(32, hex('2000 0200 0100 0000')); // type 0x20, length8 1: what a second look would see
  readPacket(reader, 1, 60_000);
  assert.equal(reader.packet.packetType, 6);
  readPacket(reader, 2, 8);
});
