/**
 * Worker: the requester of the latency run. Sends one in-band request with
 * completion requested, waits (unmask, re-check, sleep) for the completion on
 * the second ring, and times each round trip with process.hrtime.bigint().
 */
import { workerData } from 'node:worker_threads';

import { FlatRingMemory, RingReader, RingWriter } from '../../src/ring/index.js';
import { PACKET_FLAG_COMPLETION_REQUESTED } from '../../src/wire/packet-descriptor.js';
import { PACKET_TYPE } from '../../src/wire/packet-types.js';
import { BENCH_WORD, waitForGo } from './bench-control.js';
import { announceReady, postResult } from './bench-worker.js';
import { Doorbell } from './doorbell.js';
import type { LatencyWorkerData } from './latency-run.js';

const { requests, completions, control, requestBytes, warmup, samples } = workerData as LatencyWorkerData;
const writer = new RingWriter(new FlatRingMemory(requests));
const reader = new RingReader(new FlatRingMemory(completions));
const packet = reader.packet;
const words = new Int32Array(control.buffer);
const toServer = new Doorbell(words, BENCH_WORD.forwardDoorbell);
const fromServer = new Doorbell(words, BENCH_WORD.backwardDoorbell);
const request = new Uint8Array(requestBytes);
const requestWords = new Int32Array(request.buffer, 0, 2);
const roundTripsNs = new Float64Array(samples);

announceReady();
waitForGo(words);
reader.maskInterrupts();
for (let i = 0; i < warmup + samples; i++) {
  // Ids start at 1 and stay below 2^32 here, so the high half is 0.
  const transactionId = i + 1;
  const started = process.hrtime.bigint();
  requestWords[0] = transactionId;
  if (!writer.tryWriteInBand(request, transactionId, 0, PACKET_FLAG_COMPLETION_REQUESTED)) {
    throw new Error('request ring full with nothing in flight');
  }
  if (writer.commit()) toServer.ring();
  while (!reader.tryRead()) {
    const seen = fromServer.ticket();
    if (!reader.unmaskInterruptsIfEmpty()) continue;
    fromServer.sleep(seen);
    reader.maskInterrupts();
  }
  reader.commit();
  const finished = process.hrtime.bigint();
  const { packetType, transactionIdLo, transactionIdHi } = packet;
  if (packetType !== PACKET_TYPE.VM_PKT_COMP || transactionIdLo !== transactionId || transactionIdHi !== 0) {
    throw new Error(`round trip ${transactionId}: wrong completion`);
  }
  if (i >= warmup) roundTripsNs[i - warmup] = Number(finished - started);
}
postResult(roundTripsNs, [roundTripsNs.buffer]);
