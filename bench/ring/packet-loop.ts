/**
 * The ring engine's per-packet cost in one thread, for profilers and
 * instruction counters rather than for the suite:
 *
 *   node dist/bench/ring/packet-loop.js [payloadBytes=64] [rounds=300000]
 *
 * writes 32 in-band packets, publishes, reads them back, publishes, `rounds`
 * times after a fixed warm-up, and prints nanoseconds per packet (write + read).
 * Under `valgrind --tool=callgrind node --single-threaded` the difference
 * between two round counts, divided by the extra packets, is the engine's
 * instructions per packet with start-up and compilation cancelled out
 * (BENCHMARKS.md, "Taking the figures again").
 */
import { FlatRingMemory, RingReader, RingWriter, initializeRing } from '../../src/ring/index.js';

const PACKETS_PER_ROUND = 32;
const WARMUP_ROUNDS = 60_000;

const payloadBytes = Number(process.argv[2] ?? 64);
const rounds = Number(process.argv[3] ?? 300_000);
if (!Number.isInteger(payloadBytes) || payloadBytes < 0 || payloadBytes > 4096 || !Number.isInteger(rounds) || rounds < 1) {
  throw new RangeError('usage: packet-loop.js [payloadBytes 0..4096] [rounds ≥ 1]');
}

const memory = FlatRingMemory.allocate(64);
initializeRing(memory, { interruptMask: true });
const writer = new RingWriter(memory);
const reader = new RingReader(memory);
// One reused send buffer, as a driver keeps one; its first word carries a sequence number.
const payload = new Uint8Array(payloadBytes);
const sequenceWord = new Int32Array(payload.buffer, 0, payloadBytes >>> 2);

function run(count: number): void {
  let sequence = 0;
  for (let round = 0; round < count; round++) {
    for (let i = 0; i < PACKETS_PER_ROUND; i++) {
      if (sequenceWord.length > 0) sequenceWord[0] = sequence;
      sequence++;
      if (!writer.tryWriteInBand(payload)) throw new Error('ring full: 32 packets of this size do not fit 256 KiB');
    }
    writer.commit();
    for (let i = 0; i < PACKETS_PER_ROUND; i++) {
      if (!reader.tryRead()) throw new Error('a written packet was not read back');
    }
    reader.commit();
  }
}

run(WARMUP_ROUNDS);
const start = process.hrtime.bigint();
run(rounds);
const nanoseconds = Number(process.hrtime.bigint() - start);
console.log(`${payloadBytes} B: ${(nanoseconds / (rounds * PACKETS_PER_ROUND)).toFixed(1)} ns a packet, write + read`);
