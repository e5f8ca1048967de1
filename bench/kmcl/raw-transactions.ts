/**
 * The raw ring engine doing send + complete, as the baseline of the KMCL's:
 * the sender keeps `window` requests (completion requested) in flight on the
 * forward ring and reads completions from the backward ring; the receiver
 * answers every request with a completion echoing its transaction id. Both
 * batch and sleep as the ring benchmark's workers do (mask while draining,
 * unmask and re-check before sleeping on the doorbell).
 */
import { FlatRingMemory, RingReader, RingWriter } from '../../src/ring/index.js';
import { PACKET_FLAG_COMPLETION_REQUESTED } from '../../src/wire/packet-descriptor.js';
import { PACKET_TYPE } from '../../src/wire/packet-types.js';
import { stopRequested, waitForGo } from '../ring/bench-control.js';
import { announceReady } from '../ring/bench-worker.js';
import type { BenchSide, KmclWorkerData } from './kmcl-worker-data.js';

export function rawSender(data: KmclWorkerData, side: BenchSide): void {
  const { plan } = data;
  const writer = new RingWriter(new FlatRingMemory(data.forward));
  const reader = new RingReader(new FlatRingMemory(data.backward));
  const packet = reader.packet;
  const payload = new Uint8Array(plan.payloadBytes);
  let inFlight = 0;
  let completed = 0;
  let transactionId = 0;
  announceReady();
  waitForGo(side.words);
  reader.maskInterrupts();
  while (!stopRequested(side.words)) {
    let written = 0;
    while (inFlight < plan.window && written < plan.writeBatch) {
      transactionId = (transactionId + 1) >>> 0;
      if (!writer.tryWriteInBand(payload, transactionId, 0, PACKET_FLAG_COMPLETION_REQUESTED)) break;
      inFlight++;
      written++;
    }
    if (writer.commit()) side.ringPeer();
    let read = 0;
    while (read < plan.readBatch && reader.tryRead()) {
      if (packet.packetType !== PACKET_TYPE.VM_PKT_COMP) throw new Error('a packet that is no completion on the completion ring');
      inFlight--;
      read++;
    }
    if (read > 0) {
      completed += read;
      side.publish(completed);
      if (reader.commit()) side.ringPeer();
      continue;
    }
    if (written > 0) continue;
    // Nothing moved: wait for completions (or, with the ring full, for space).
    const seen = side.own.ticket();
    if (inFlight < plan.window && writer.requestSpace()) continue;
    if (!reader.unmaskInterruptsIfEmpty()) continue;
    if (stopRequested(side.words)) break;
    side.countSleep();
    side.own.sleep(seen);
    reader.maskInterrupts();
  }
}

export function rawReceiver(data: KmclWorkerData, side: BenchSide): void {
  const { plan } = data;
  const reader = new RingReader(new FlatRingMemory(data.forward));
  const writer = new RingWriter(new FlatRingMemory(data.backward));
  const packet = reader.packet;
  const completion = new Uint8Array(plan.completionBytes);
  announceReady();
  waitForGo(side.words);
  reader.maskInterrupts();
  while (!stopRequested(side.words)) {
    let count = 0;
    while (count < plan.readBatch && reader.tryRead()) {
      // At most `window` requests are in flight: their completions always fit the backward ring.
      if (!writer.tryWriteCompletion(completion, packet.transactionIdLo, packet.transactionIdHi)) {
        throw new Error('completion ring full with a bounded window in flight');
      }
      count++;
    }
    if (count > 0) {
      if (writer.commit()) side.ringPeer();
      if (reader.commit()) side.ringPeer();
    }
    if (count === plan.readBatch) continue;
    const seen = side.own.ticket();
    if (!reader.unmaskInterruptsIfEmpty()) continue;
    if (stopRequested(side.words)) break;
    side.countSleep();
    side.own.sleep(seen);
    reader.maskInterrupts();
  }
}
