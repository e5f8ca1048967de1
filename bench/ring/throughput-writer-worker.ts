/**
 * Worker: the writing end of the throughput run. Streams in-band packets
 * carrying a sequence number, publishing once per batch and ringing the
 * reader only when kmcl's RingWriter says so; when the ring is full it polls
 * for room for a while if the run spins, then asks for space and sleeps
 * until the reader rings back. Each ring, spin and sleep is timed
 * (doorbell-stopwatch.ts, spin-before-sleep.ts).
 */
import { workerData } from 'node:worker_threads';

import { FlatRingMemory, RingWriter } from '../../src/ring/index.js';
import { BENCH_WORD, stopRequested, waitForGo } from './bench-control.js';
import { announceReady } from './bench-worker.js';
import { Doorbell } from './doorbell.js';
import { DoorbellStopwatch } from './doorbell-stopwatch.js';
import { SpinBeforeSleep } from './spin-before-sleep.js';
import type { ThroughputWorkerData } from './throughput-run.js';

const { ring, control, payloadBytes, batch, spinBeforeSleepUs } = workerData as ThroughputWorkerData;
const writer = new RingWriter(new FlatRingMemory(ring));
const words = new Int32Array(control.buffer);
const toReader = new Doorbell(words, BENCH_WORD.forwardDoorbell);
const fromReader = new Doorbell(words, BENCH_WORD.backwardDoorbell);
const stopwatch = new DoorbellStopwatch(words, 'writer');
const spin = new SpinBeforeSleep(words, 'writer', spinBeforeSleepUs);
const refusedPacketFits = (): boolean => writer.writableBytes() >= writer.neededBytes;
const payload = new Uint8Array(payloadBytes);
const payloadWords = new Int32Array(payload.buffer, 0, 2);

announceReady();
waitForGo(words);
let sequence = 0;
while (!stopRequested(words)) {
  let written = 0;
  while (written < batch) {
    // The sequence number lets the reader prove nothing was lost or reordered.
    payloadWords[0] = sequence;
    payloadWords[1] = sequence / 0x1_0000_0000;
    if (!writer.tryWriteInBand(payload)) break;
    sequence++;
    written++;
  }
  if (writer.commit()) {
    Atomics.add(words, BENCH_WORD.signalsToReader, 1);
    stopwatch.ring(toReader);
  }
  if (written === batch) continue;
  // No pending send size yet: the reader does not ring while we poll.
  if (spin.poll(refusedPacketFits)) continue;
  const seen = fromReader.ticket();
  if (writer.requestSpace()) continue;
  if (stopRequested(words)) break;
  Atomics.add(words, BENCH_WORD.writerSleeps, 1);
  stopwatch.sleep(fromReader, seen);
}
