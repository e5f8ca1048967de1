import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RingCorruptError } from '../../src/ring/ring-corrupt-error.js';
import { RingReader } from '../../src/ring/ring-reader.js';
import { RingWriter } from '../../src/ring/ring-writer.js';
import { decodePacket } from '../../src/wire/packet.js';
import { inBandPacketSize } from '../../src/wire/packet-descriptor.js';
import { RING_CONTROL_WORD } from '../../src/wire/ring-control.js';
import { WireError } from '../../src/wire/wire-error.js';
import { testSeed } from '../support/seed.js';
import { RING_KINDS, payloadFor } from './ring-fixtures.js';

/**
 * Where a write's payload lives: a fresh array each time, or one reused array
 * per size, 8-aligned or not. A payload passed twice in a row is copied by
 * 8-byte units (RingWriter.unitsOf) when aligned; the bytes must not differ.
 */
const PAYLOAD_SOURCES = ['fresh', 'reused', 'reused, unaligned'] as const;
type PayloadSource = (typeof PAYLOAD_SOURCES)[number];

type Op =
  | { kind: 'write'; size: number; commit: boolean; source: PayloadSource }
  | { kind: 'read'; count: number; commit: boolean };

/** Payload sizes from empty to the largest a 1-page ring takes (4088 − 24), biased to small. */
const payloadSize = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 64 }) },
  { weight: 2, arbitrary: fc.integer({ min: 65, max: 1100 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1101, max: 4064 }) },
  { weight: 1, arbitrary: fc.constant(4064) },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), size: payloadSize, commit: fc.boolean(), source: fc.constantFrom(...PAYLOAD_SOURCES) }),
  fc.record({ kind: fc.constant('read' as const), count: fc.integer({ min: 1, max: 6 }), commit: fc.boolean() }),
);
const high = (seq: number): number => (seq * 0x0101_0101) >>> 0;

function payloadSource(): (source: PayloadSource, seq: number, size: number) => Uint8Array {
  const reused = new Map<string, Uint8Array>();
  return (source, seq, size) => {
    if (source === 'fresh') return payloadFor(seq, size);
    const key = `${source} ${size}`;
    let payload = reused.get(key);
    if (payload === undefined) {
      payload = source === 'reused' ? new Uint8Array(size) : new Uint8Array(new ArrayBuffer(size + 1), 1, size);
      reused.set(key, payload);
    }
    payload.set(payloadFor(seq, size));
    return payload;
  };
}

test('random interleavings of writes and reads deliver every packet once, in order, intact', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...(Object.keys(RING_KINDS) as (keyof typeof RING_KINDS)[])),
      fc.constantFrom(1, 2),
      fc.array(op, { minLength: 1, maxLength: 120 }),
      (kind, pages, ops) => {
        const ring = RING_KINDS[kind](pages);
        const payloadOf = payloadSource();
        const writer = new RingWriter(ring.memory);
        const reader = new RingReader(ring.memory);
        const sizes: number[] = []; // payload size of every packet written, by sequence number
        let published = 0; // packets the writer has committed
        let read = 0; // packets the reader has taken
        let readCommitted = 0; // packets whose space the reader has handed back
        let occupied = 0; // ring bytes of packets not handed back yet

        const readOne = (): boolean => {
          const got = reader.tryRead();
          assert.equal(got, read < published, `tryRead with ${published - read} published packets waiting`);
          if (!got) return false;
          const p = reader.packet;
          const size = sizes[read]!;
          assert.equal(p.transactionIdLo, read, 'packets arrive in order');
          assert.equal(p.transactionIdHi, high(read));
          assert.equal(p.payloadLength, Math.ceil(size / 8) * 8);
          const payload = p.payload;
          assert.deepEqual(payload.subarray(0, size), payloadFor(read, size), `payload of packet ${read}`);
          assert.ok(payload.subarray(size).every((b) => b === 0), 'padding is zero');
          read++;
          return true;
        };
        const commitReads = (): void => {
          reader.commit();
          for (let i = readCommitted; i < read; i++) occupied -= inBandPacketSize(sizes[i]!);
          readCommitted = read;
        };
        const commitWrites = (): void => {
          const before = published;
          const signal = writer.commit();
          published = sizes.length;
          // The mask stays clear here: signal exactly when the batch lands in a drained ring.
          assert.equal(signal, published > before && readCommitted === before, 'writer signal decision');
        };

        for (const o of ops) {
          if (o.kind === 'write') {
            const seq = sizes.length;
            const need = inBandPacketSize(o.size);
            if (need > writer.maxPacketSize) continue;
            const fits = need <= ring.dataSize - occupied - 8;
            assert.equal(writer.tryWriteInBand(payloadOf(o.source, seq, o.size), seq, high(seq)), fits, 'never-full rule');
            if (fits) {
              sizes.push(o.size);
              occupied += need;
            } else {
              assert.equal(writer.neededBytes, need);
            }
            if (o.commit) commitWrites();
          } else {
            for (let i = 0; i < o.count && readOne(); i++);
            if (o.commit) commitReads();
          }
        }
        commitWrites();
        while (readOne());
        commitReads();
        assert.equal(read, sizes.length, 'every packet delivered');
        assert.equal(ring.control[RING_CONTROL_WORD.readIndex], ring.control[RING_CONTROL_WORD.writeIndex], 'ring drained');
      },
    ),
    { seed: testSeed('ring interleavings'), numRuns: 300 },
  );
});

/** A valid ring of random traffic, then random damage to data bytes and indices. */
const damagedRing = fc.record({
  kind: fc.constantFrom(...(Object.keys(RING_KINDS) as (keyof typeof RING_KINDS)[])),
  pages: fc.constantFrom(1, 2),
  sizes: fc.array(fc.integer({ min: 0, max: 900 }), { maxLength: 12 }),
  byteDamage: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
  writeIndex: fc.option(fc.oneof(fc.nat({ max: 2 * 8192 }).map((n) => n & ~7), fc.integer()), { nil: undefined }),
  readIndex: fc.option(fc.oneof(fc.nat({ max: 8192 }).map((n) => n & ~7), fc.integer()), { nil: undefined }),
  noise: fc.option(fc.uint8Array({ minLength: 64, maxLength: 512 }), { nil: undefined }),
});

test('a reader given random control and data bytes yields packets or RingCorruptError, never another throw or a hang', () => {
  fc.assert(
    fc.property(damagedRing, (d) => {
      const ring = RING_KINDS[d.kind](d.pages);
      const writer = new RingWriter(ring.memory);
      d.sizes.forEach((size, seq) => writer.tryWriteInBand(payloadFor(seq, size), seq));
      writer.commit();
      if (d.noise !== undefined) ring.poke(d.noise.length * 3, d.noise);
      for (const { at, value } of d.byteDamage) ring.poke(at % ring.dataSize, Uint8Array.of(value));
      if (d.writeIndex !== undefined) Atomics.store(ring.control, RING_CONTROL_WORD.writeIndex, d.writeIndex);
      if (d.readIndex !== undefined) Atomics.store(ring.control, RING_CONTROL_WORD.readIndex, d.readIndex);

      let reader: RingReader;
      try {
        reader = new RingReader(ring.memory);
      } catch (error) {
        assert.ok(error instanceof RingCorruptError, String(error));
        return;
      }
      // Each packet takes at least 24 bytes, so a ring of N bytes empties within N / 24 reads.
      const bound = ring.dataSize / 24 + 2;
      for (let reads = 0; ; reads++) {
        assert.ok(reads <= bound, 'reader did not stop');
        try {
          if (!reader.tryRead()) break;
          const decoded = decodePacket(reader.packet.packetBytes);
          assert.ok(decoded instanceof WireError || decoded.length8 === reader.packet.length8);
          if (reads % 3 === 0) reader.commit();
        } catch (error) {
          assert.ok(error instanceof RingCorruptError, String(error));
          assert.throws(() => reader.tryRead(), (e: unknown) => e === error, 'stays poisoned');
          return;
        }
      }
    }),
    { seed: testSeed('reader on damaged rings'), numRuns: 1500 },
  );
});
