import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingReader } from '../../src/ring/ring-reader.js';
import { RingWriter } from '../../src/ring/ring-writer.js';
import type { FlatRingMemory } from '../../src/ring/flat-ring-memory.js';
import { encodePacket } from '../../src/wire/packet.js';
import { PACKET_TYPE } from '../../src/wire/packet-types.js';
import { PACKET_FLAG_COMPLETION_REQUESTED, inBandPacketSize } from '../../src/wire/packet-descriptor.js';
import { RING_CONTROL_WORD, RING_PAGE_SIZE } from '../../src/wire/ring-control.js';
import { WireError } from '../../src/wire/wire-error.js';
import { RING_KINDS, flatRing, pagedRing, payloadFor } from './ring-fixtures.js';

const EMPTY = new Uint8Array(0);

for (const [kind, make] of Object.entries(RING_KINDS)) {
  test(`${kind}: the writer lays down the wire packet, zero padding and the start-index trailer`, () => {
    const ring = make(2);
    const writer = new RingWriter(ring.memory);
    // Dirty the ring first: padding must not carry old bytes.
    ring.poke(0, new Uint8Array(64).fill(0xee));
    const payload = Uint8Array.from([1, 2, 3, 4, 5]);
    assert.equal(writer.tryWriteInBand(payload, 0x89ab_cdef, 0x0123_4567, PACKET_FLAG_COMPLETION_REQUESTED), true);
    const expected = encodePacket({
      packetType: PACKET_TYPE.VM_PKT_DATA_INBAND,
      flags: 1,
      transactionId: 0x0123_4567_89ab_cdefn,
      payload,
    });
    assert.ok(expected instanceof Uint8Array);
    const written = Array.from({ length: expected.length + 8 }, (_, i) => ring.dataByte(i));
    assert.deepEqual(written.slice(0, expected.length), Array.from(expected));
    // Trailer: reserved 0, then the packet's start index (0).
    assert.deepEqual(written.slice(expected.length), [0, 0, 0, 0, 0, 0, 0, 0]);
  });

  test(`${kind}: the reader hands out type, flags, 64-bit transaction id and payload of the packet`, () => {
    const ring = make(2);
    const writer = new RingWriter(ring.memory);
    const reader = new RingReader(ring.memory);
    writer.tryWriteCompletion(Uint8Array.from([9, 8, 7]), 0xffff_fffe, 0xffff_ffff);
    writer.commit();
    assert.equal(reader.tryRead(), true);
    const p = reader.packet;
    assert.equal(p.packetType, PACKET_TYPE.VM_PKT_COMP);
    assert.equal(p.flags, 0);
    assert.equal(p.completionRequested, false);
    assert.equal(p.transactionIdLo, 0xffff_fffe);
    assert.equal(p.transactionIdHi, 0xffff_ffff);
    assert.equal(p.transactionId, 0xffff_ffff_ffff_fffen);
    assert.equal(p.payloadOffset, 16);
    assert.equal(p.payloadLength, 8);
    assert.deepEqual(p.payload, Uint8Array.from([9, 8, 7, 0, 0, 0, 0, 0]));
    const decoded = p.decode();
    assert.ok(!(decoded instanceof WireError));
    assert.equal(decoded.transactionId, 0xffff_ffff_ffff_fffen);
    assert.equal(reader.tryRead(), false);
  });

  test(`${kind}: packets that straddle the end of the ring wrap and arrive intact`, () => {
    const ring = make(1);
    const writer = new RingWriter(ring.memory);
    const reader = new RingReader(ring.memory);
    // 1004-byte payloads take 1032 ring bytes, which do not divide 4096: packets straddle the end.
    for (let seq = 0; seq < 40; seq++) {
      assert.equal(writer.tryWriteInBand(payloadFor(seq, 1004), seq), true, `write ${seq}`);
      writer.commit();
      assert.equal(reader.tryRead(), true, `read ${seq}`);
      assert.equal(reader.packet.transactionIdLo, seq);
      assert.deepEqual(reader.packet.payload.subarray(0, 1004), payloadFor(seq, 1004));
      reader.commit();
    }
    // The last trailer holds the last packet's start index, wherever it wrapped to.
    const start = (39 * 1032) % 4096;
    const trailerAt = (start + 1024) % 4096;
    const trailer = Array.from({ length: 4 }, (_, i) => ring.dataByte(trailerAt + 4 + i));
    assert.equal(trailer[0]! | (trailer[1]! << 8) | (trailer[2]! << 16) | (trailer[3]! << 24), start);
  });

  test(`${kind}: extended headers go between descriptor and payload, and dataOffset8 counts them`, () => {
    const ring = make(2);
    const writer = new RingWriter(ring.memory);
    const reader = new RingReader(ring.memory);
    const header = Uint8Array.from([0xfe, 0xca, 0, 0, 1, 0, 0, 0, 0x10, 0, 0, 0, 0x20, 0, 0, 0]);
    writer.tryWrite(PACKET_TYPE.VM_PKT_DATA_USING_XFER_PAGES, 1, 5, 0, header, Uint8Array.from([1, 2]));
    writer.commit();
    assert.equal(reader.tryRead(), true);
    assert.equal(reader.packet.dataOffset8, 4);
    const decoded = reader.packet.decode();
    assert.ok(!(decoded instanceof WireError) && decoded.packetType === PACKET_TYPE.VM_PKT_DATA_USING_XFER_PAGES);
    assert.equal(decoded.transferPageSetId, 0xcafe);
    assert.deepEqual(decoded.ranges, [{ byteCount: 0x10, byteOffset: 0x20 }]);
  });
}

test('the ring is never made completely full: free space is size − used − 8', () => {
  const ring = flatRing(1);
  const writer = new RingWriter(ring.memory);
  assert.equal(writer.maxPacketSize, 4096 - 8);
  assert.equal(writer.writableBytes(), 4088);
  // Two packets that take 2048 + 2040 = 4088 bytes: exactly the writable space.
  assert.equal(writer.tryWriteInBand(new Uint8Array(2048 - 24)), true);
  assert.equal(writer.tryWriteInBand(new Uint8Array(2040 - 24)), true);
  assert.equal(writer.writableBytes(), 0);
  assert.equal(writer.tryWriteInBand(EMPTY), false, 'even the smallest packet is refused');
  assert.equal(writer.neededBytes, inBandPacketSize(0));
  writer.commit();
  // Full, and still distinguishable from empty.
  assert.notEqual(ring.control[RING_CONTROL_WORD.writeIndex], ring.control[RING_CONTROL_WORD.readIndex]);
});

test('the largest packet is size − 8 with its trailer; anything larger throws instead of waiting forever', () => {
  const ring = flatRing(1);
  const writer = new RingWriter(ring.memory);
  const reader = new RingReader(ring.memory);
  assert.equal(writer.tryWriteInBand(new Uint8Array(4088 - 24)), true);
  writer.commit();
  assert.equal(reader.tryRead(), true);
  assert.equal(reader.packet.payloadLength, 4088 - 24);
  assert.throws(() => writer.tryWriteInBand(new Uint8Array(4088 - 23)), RangeError);
  assert.throws(() => writer.requestSpace(4096), RangeError);
});

test('writer rejects what no reader accepts: unknown type or flags, a misaligned extended header', () => {
  const writer = new RingWriter(flatRing(1).memory);
  assert.throws(() => writer.tryWrite(0xe, 0, 0, 0, EMPTY, EMPTY), RangeError);
  assert.throws(() => writer.tryWrite(6, 2, 0, 0, EMPTY, EMPTY), RangeError);
  assert.throws(() => writer.tryWrite(7, 1, 0, 0, new Uint8Array(4), EMPTY), RangeError);
});

test('writes are private until commit publishes them once; reads free space only at commit', () => {
  const ring = flatRing(2);
  const writer = new RingWriter(ring.memory);
  const reader = new RingReader(ring.memory);
  writer.tryWriteInBand(payloadFor(1, 8));
  writer.tryWriteInBand(payloadFor(2, 8));
  assert.equal(writer.uncommittedBytes, 64);
  assert.equal(ring.control[RING_CONTROL_WORD.writeIndex], 0);
  assert.equal(reader.tryRead(), false, 'nothing published yet');
  writer.commit();
  assert.equal(ring.control[RING_CONTROL_WORD.writeIndex], 64);
  assert.equal(reader.tryRead(), true);
  assert.equal(reader.tryRead(), true);
  assert.equal(reader.tryRead(), false);
  assert.equal(ring.control[RING_CONTROL_WORD.readIndex], 0, 'read index still private');
  assert.equal(writer.writableBytes(), 8192 - 8 - 64);
  reader.commit();
  assert.equal(ring.control[RING_CONTROL_WORD.readIndex], 64);
  assert.equal(writer.writableBytes(), 8192 - 8);
});

test('a reader or writer attaching to a ring in use picks up the published indices', () => {
  const ring = flatRing(1);
  const first = new RingWriter(ring.memory);
  first.tryWriteInBand(payloadFor(3, 3), 3);
  first.commit();
  const reader = new RingReader(ring.memory);
  const second = new RingWriter(ring.memory);
  second.tryWriteInBand(payloadFor(4, 4), 4);
  second.commit();
  assert.equal(reader.tryRead() && reader.packet.transactionIdLo, 3);
  assert.equal(reader.tryRead() && reader.packet.transactionIdLo, 4);
});

test('a payload passed again is copied from its current bytes, and a buffer detached or shrunk since is not read through a stale view', () => {
  const ring = flatRing(1);
  const writer = new RingWriter(ring.memory);
  const reader = new RingReader(ring.memory);
  const readPayload = (): number[] => {
    writer.commit();
    assert.equal(reader.tryRead(), true);
    const bytes = Array.from(reader.packet.payload);
    reader.commit();
    return bytes;
  };
  // The second and later writes of one 8-aligned payload go through its cached 8-byte-unit view.
  const payload = new Uint8Array(16);
  for (let round = 0; round < 4; round++) {
    payload.fill(round + 1);
    assert.equal(writer.tryWriteInBand(payload), true);
    assert.deepEqual(readPayload(), new Array(16).fill(round + 1), `round ${round}`);
  }
  // Detached (transferred away): the same object now has no bytes, so the packet has no payload.
  structuredClone(payload.buffer, { transfer: [payload.buffer] });
  assert.equal(payload.length, 0);
  assert.equal(writer.tryWriteInBand(payload), true);
  assert.deepEqual(readPayload(), []);
  // A length-tracking view of a resizable buffer that shrinks: the cached view no longer matches it.
  // ES2024 (Node 20 has it; the project compiles against the ES2023 library).
  const ResizableArrayBuffer = ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer & {
    resize(length: number): void;
  };
  const resizable = new ResizableArrayBuffer(24, { maxByteLength: 64 });
  const tracking = new Uint8Array(resizable).fill(7);
  assert.equal(writer.tryWriteInBand(tracking), true);
  assert.equal(writer.tryWriteInBand(tracking), true);
  assert.deepEqual(readPayload(), new Array(24).fill(7));
  assert.deepEqual(readPayload(), new Array(24).fill(7));
  resizable.resize(12);
  assert.equal(writer.tryWriteInBand(tracking), true);
  assert.deepEqual(readPayload(), [...new Array(12).fill(7), 0, 0, 0, 0], 'twelve bytes and zero padding');
});

test('a payload that views the ring itself, overlapping where it goes, lands as set would copy it', () => {
  // Ring A gets the same view object twice (the second write could take the cached unit path); ring B
  // a fresh view each time (always set, which copies as if through a temporary). Their bytes must match.
  // The view (data 48..112) overlaps the second packet's payload (104..168) from below.
  const [a, b] = [flatRing(1), flatRing(1)].map((ring) => ({ ring, bytes: (ring.memory as FlatRingMemory).bytes }));
  const view = (bytes: Uint8Array): Uint8Array => bytes.subarray(RING_PAGE_SIZE + 48, RING_PAGE_SIZE + 112);
  for (const { bytes } of [a!, b!]) view(bytes).forEach((_, i, v) => (v[i] = i + 1));
  const writerA = new RingWriter(a!.ring.memory);
  const writerB = new RingWriter(b!.ring.memory);
  const same = view(a!.bytes);
  for (let packet = 0; packet < 2; packet++) {
    assert.equal(writerA.tryWriteInBand(same), true);
    assert.equal(writerB.tryWriteInBand(view(b!.bytes)), true);
  }
  assert.deepEqual(a!.bytes.subarray(RING_PAGE_SIZE, RING_PAGE_SIZE + 256), b!.bytes.subarray(RING_PAGE_SIZE, RING_PAGE_SIZE + 256));
});

test('packets that wrap the end of the data area land byte for byte as the staged path lays them', () => {
  // A flat ring lays a wrapping packet straight in, in pieces; scattered pages lay it in
  // staging first. Sizes and headers vary so the end falls in every part of a packet.
  const straight = flatRing(2);
  const staged = pagedRing(2);
  assert.equal(staged.memory.contiguous, null, 'two scattered pages are not one run');
  // Old bytes everywhere, so padding that is not zeroed shows.
  for (const ring of [straight, staged]) ring.poke(0, new Uint8Array(ring.dataSize).fill(0xa5));
  const [writerA, writerB] = [new RingWriter(straight.memory), new RingWriter(staged.memory)];
  const [readerA, readerB] = [new RingReader(straight.memory), new RingReader(staged.memory)];
  for (let seq = 0; seq < 300; seq++) {
    const header = payloadFor(seq + 1000, 8 * (seq % 4));
    const payload = payloadFor(seq, (seq * 37) % 1500);
    for (const writer of [writerA, writerB]) {
      assert.equal(writer.tryWrite(PACKET_TYPE.VM_PKT_DATA_INBAND, 0, seq, 0, header, payload), true);
      writer.commit();
    }
    for (let offset = 0; offset < straight.dataSize; offset++) {
      if (straight.dataByte(offset) !== staged.dataByte(offset)) assert.fail(`packet ${seq}: data byte ${offset} differs`);
    }
    for (const reader of [readerA, readerB]) {
      assert.equal(reader.tryRead(), true);
      assert.deepEqual(reader.packet.payload.subarray(0, payload.length), payload);
      reader.commit();
    }
  }
});

test('a wrapping packet whose payload views the ring itself lands as set would copy it', () => {
  const ring = flatRing(1);
  const bytes = (ring.memory as FlatRingMemory).bytes;
  const writer = new RingWriter(ring.memory);
  const reader = new RingReader(ring.memory);
  // Move both indices to 4000: the next packet (16 + 200 + 8 bytes) wraps after 96 bytes.
  assert.equal(writer.tryWriteInBand(new Uint8Array(4000 - 24)), true);
  writer.commit();
  assert.equal(reader.tryRead(), true);
  reader.commit();
  // The payload views data 3856..4056: where the packet's descriptor (4000..4016) and first
  // piece (4016..4096) go, and the source of its second piece (3936..4056) lies.
  const view = bytes.subarray(RING_PAGE_SIZE + 3856, RING_PAGE_SIZE + 4056);
  view.forEach((_, i, v) => (v[i] = i + 1));
  const before = view.slice();
  assert.equal(writer.tryWriteInBand(view), true);
  writer.commit();
  assert.equal(reader.tryRead(), true);
  assert.deepEqual(reader.packet.payload, before);
});
