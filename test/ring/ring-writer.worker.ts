/**
 * Worker for ring-threads.test: writes the test's traffic into a ring in a
 * SharedArrayBuffer. Commits every `batch` packets, rings the reader's
 * doorbell when `commit()` says so, and when the ring is full sets the
 * pending send size and sleeps on its own doorbell until the reader rings.
 *
 * `node --test` also loads this file on the main thread; there it does nothing.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { FlatRingMemory } from '../../src/ring/flat-ring-memory.js';
import { RingWriter } from '../../src/ring/ring-writer.js';
import {
  DOORBELL,
  checksumBytes,
  trafficOffset,
  trafficPool,
  trafficSize,
  type TrafficData,
  type TrafficResult,
} from './ring-traffic.js';

const SLEEP_LIMIT_MS = 10_000;

function ring(doorbell: Int32Array, word: number): void {
  Atomics.add(doorbell, word, 1);
  Atomics.notify(doorbell, word);
}

function writeTraffic(data: TrafficData): TrafficResult {
  const writer = new RingWriter(new FlatRingMemory(new Uint8Array(data.ring)));
  const doorbell = new Int32Array(data.doorbell);
  const pool = trafficPool(data.seed);
  let checksum = 0x811c_9dc5;
  for (let seq = 0; seq < data.packets; seq++) {
    const size = trafficSize(seq, data.seed);
    const offset = trafficOffset(seq, data.seed);
    const payload = pool.subarray(offset, offset + size);
    while (!writer.tryWriteInBand(payload, seq >>> 0, 0)) {
      // Publish what is queued first: the reader cannot free space for packets it cannot see.
      if (writer.commit()) ring(doorbell, DOORBELL.reader);
      const ticket = Atomics.load(doorbell, DOORBELL.writer);
      if (writer.requestSpace()) continue;
      Atomics.add(doorbell, DOORBELL.writerSleeps, 1);
      if (Atomics.wait(doorbell, DOORBELL.writer, ticket, SLEEP_LIMIT_MS) === 'timed-out') {
        return { error: `writer slept ${SLEEP_LIMIT_MS} ms at packet ${seq} without being signalled` };
      }
    }
    checksum = checksumBytes(checksum, payload, 0, size);
    if ((seq + 1) % data.batch === 0 && writer.commit()) ring(doorbell, DOORBELL.reader);
  }
  if (writer.commit()) ring(doorbell, DOORBELL.reader);
  return { checksum };
}

if (!isMainThread && parentPort !== null) {
  let result: TrafficResult;
  try {
    result = writeTraffic(workerData as TrafficData);
  } catch (error) {
    result = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
  parentPort.postMessage(result);
}
