/**
 * Worker: the peer of the latency run. Drains requests (mask set while
 * draining), answers each with a completion echoing its transaction id on the
 * second ring, and sleeps when the request ring is empty.
 */
import { workerData } from 'node:worker_threads';

import { FlatRingMemory, RingReader, RingWriter } from '../../src/ring/index.js';
import { BENCH_WORD, stopRequested, waitForGo } from './bench-control.js';
import { announceReady } from './bench-worker.js';
import { Doorbell } from './doorbell.js';
import type { LatencyWorkerData } from './latency-run.js';

const { requests, completions, control, completionBytes } = workerData as LatencyWorkerData;
const reader = new RingReader(new FlatRingMemory(requests));
const writer = new RingWriter(new FlatRingMemory(completions));
const packet = reader.packet;
const words = new Int32Array(control.buffer);
const fromClient = new Doorbell(words, BENCH_WORD.forwardDoorbell);
const toClient = new Doorbell(words, BENCH_WORD.backwardDoorbell);
const completion = new Uint8Array(completionBytes);
const completionWords = new Int32Array(completion.buffer);

announceReady();
waitForGo(words);
reader.maskInterrupts();
while (!stopRequested(words)) {
  while (reader.tryRead()) {
    if (!packet.completionRequested) throw new Error('request without completion requested');
    const { transactionIdLo, transactionIdHi } = packet;
    completionWords[2] = transactionIdLo;
    completionWords[3] = transactionIdHi;
    if (!writer.tryWriteCompletion(completion, transactionIdLo, transactionIdHi)) {
      throw new Error('completion ring full with one request in flight');
    }
  }
  // One request in flight: the client never waits for space, so this never asks to signal.
  reader.commit();
  if (writer.commit()) toClient.ring();
  const seen = fromClient.ticket();
  if (!reader.unmaskInterruptsIfEmpty()) continue;
  if (stopRequested(words)) break;
  fromClient.sleep(seen);
  reader.maskInterrupts();
}
