import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { FlatRingMemory } from '../../src/ring/flat-ring-memory.js';
import { initializeRing } from '../../src/ring/ring-memory.js';
import { RingReader } from '../../src/ring/ring-reader.js';
import { PACKET_TYPE } from '../../src/wire/packet-types.js';
import { testSeed } from '../support/seed.js';
import {
  DOORBELL,
  DOORBELL_WORDS,
  checksumBytes,
  trafficOffset,
  trafficPool,
  trafficSize,
  type TrafficData,
  type TrafficResult,
} from './ring-traffic.js';

// Atomics.waitAsync is ES2024 (Node ≥ 16 has it); the project compiles against the ES2023 library.
type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, ms: number): WaitAsyncResult }).waitAsync;

const PACKETS = 1_000_000;
const RING_DATA_PAGES = 16;
const WAIT_LIMIT_MS = 10_000;

test('a worker writes 1,000,000 mixed-size packets through a shared ring; the main thread reads them all, in order, intact', async () => {
  const seed = testSeed('cross-thread ring');
  const memory = FlatRingMemory.allocate(RING_DATA_PAGES);
  initializeRing(memory);
  const doorbell = new Int32Array(new SharedArrayBuffer(DOORBELL_WORDS * 4));
  const data: TrafficData = {
    ring: memory.bytes.buffer as SharedArrayBuffer,
    doorbell: doorbell.buffer as SharedArrayBuffer,
    packets: PACKETS,
    seed,
    batch: 8,
  };
  const worker = new Worker(new URL('./ring-writer.worker.js', import.meta.url), { workerData: data });
  const done = once(worker, 'message') as Promise<[TrafficResult]>;

  const reader = new RingReader(memory);
  const packet = reader.packet;
  const pool = trafficPool(seed);
  let checksum = 0x811c_9dc5;
  let next = 0;
  let sleeps = 0;
  let signalsToWriter = 0;
  reader.maskInterrupts();
  while (next < PACKETS) {
    for (let batch = 0; batch < 64 && reader.tryRead(); batch++, next++) {
      const size = trafficSize(next, seed);
      if (packet.packetType !== PACKET_TYPE.VM_PKT_DATA_INBAND || packet.transactionIdLo !== next) {
        assert.fail(`expected packet ${next}, got type ${packet.packetType} id ${packet.transactionIdLo}`);
      }
      if (packet.payloadLength !== Math.ceil(size / 8) * 8) {
        assert.fail(`packet ${next}: ${packet.payloadLength} payload bytes, expected ${size} padded`);
      }
      // Spot-check content against the writer's source; the checksum covers every byte.
      if (size > 0 && packet.bytes[packet.payloadOffset] !== pool[trafficOffset(next, seed)]) {
        assert.fail(`packet ${next}: first payload byte differs`);
      }
      checksum = checksumBytes(checksum, packet.bytes, packet.payloadOffset, size);
    }
    if (reader.commit()) {
      signalsToWriter++;
      Atomics.add(doorbell, DOORBELL.writer, 1);
      Atomics.notify(doorbell, DOORBELL.writer);
    }
    if (next === PACKETS) break;
    // Take the ticket before unmasking: a ring between the two is not lost, the wait returns at once.
    const ticket = Atomics.load(doorbell, DOORBELL.reader);
    if (!reader.unmaskInterruptsIfEmpty()) continue;
    sleeps++;
    const wait = waitAsync(doorbell, DOORBELL.reader, ticket, WAIT_LIMIT_MS);
    const outcome = wait.async ? await wait.value : wait.value;
    if (outcome === 'timed-out') assert.fail(`reader slept ${WAIT_LIMIT_MS} ms at packet ${next} without being signalled`);
    reader.maskInterrupts();
  }

  const [result] = await done;
  await worker.terminate();
  if ('error' in result) assert.fail(`writer: ${result.error}`);
  assert.equal(next, PACKETS);
  assert.equal(checksum, result.checksum, 'payload checksum');
  assert.equal(reader.tryRead(), false, 'nothing after the last packet');
  const writerSleeps = Atomics.load(doorbell, DOORBELL.writerSleeps);
  console.log(`# reader slept ${sleeps} times; writer slept ${writerSleeps} times; reader signalled the writer ${signalsToWriter} times`);
  // Every writer sleep needs a signal from the reader to end it (sleeps are bounded by the limit above).
  assert.ok(writerSleeps <= signalsToWriter + 1, 'writer woke without a signal');
});
