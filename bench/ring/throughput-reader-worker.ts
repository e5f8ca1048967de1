/**
 * Worker: the reading end of the throughput run. Drains packets with the
 * interrupt mask set, checks each sequence number, publishes once per batch
 * (ringing the writer when kmcl's RingReader says so), and when the ring is
 * empty polls it for a while if the run spins (mask still set), then
 * unmasks, re-checks and sleeps until the writer rings. Each ring, spin and
 * sleep is timed (doorbell-stopwatch.ts, spin-before-sleep.ts).
 */
import { workerData } from 'node:worker_threads';

import { FlatRingMemory, RingReader } from '../../src/ring/index.js';
import { PACKET_TYPE } from '../../src/wire/packet-types.js';
import { BENCH_WORD, stopRequested, waitForGo } from './bench-control.js';
import { announceReady } from './bench-worker.js';
import { Doorbell } from './doorbell.js';
import { DoorbellStopwatch } from './doorbell-stopwatch.js';
import { SpinBeforeSleep } from './spin-before-sleep.js';
import type { ThroughputWorkerData } from './throughput-run.js';

const { ring, control, payloadBytes, batch, spinBeforeSleepUs } = workerData as ThroughputWorkerData;
const reader = new RingReader(new FlatRingMemory(ring));
const packet = reader.packet;
// The reader's private copy, as words, to check sequence numbers without allocating views.
const copyWords = new Int32Array(packet.bytes.buffer, packet.bytes.byteOffset, packet.bytes.length >>> 2);
const words = new Int32Array(control.buffer);
const fromWriter = new Doorbell(words, BENCH_WORD.forwardDoorbell);
const toWriter = new Doorbell(words, BENCH_WORD.backwardDoorbell);
const stopwatch = new DoorbellStopwatch(words, 'reader');
const spin = new SpinBeforeSleep(words, 'reader', spinBeforeSleepUs);
const packetArrived = (): boolean => !reader.isEmpty();
const paddedPayload = (payloadBytes + 7) & ~7;

announceReady();
waitForGo(words);
let expected = 0;
reader.maskInterrupts();
while (!stopRequested(words)) {
  let count = 0;
  while (count < batch && reader.tryRead()) {
    const at = packet.payloadOffset >>> 2;
    if (
      packet.packetType !== PACKET_TYPE.VM_PKT_DATA_INBAND ||
      packet.payloadLength !== paddedPayload ||
      copyWords[at] !== (expected | 0) ||
      copyWords[at + 1] !== ((expected / 0x1_0000_0000) | 0)
    ) {
      throw new Error(`packet ${expected} lost, reordered or damaged`);
    }
    expected++;
    count++;
  }
  if (count > 0) {
    Atomics.store(words, BENCH_WORD.received, expected);
    if (reader.commit()) {
      Atomics.add(words, BENCH_WORD.signalsToWriter, 1);
      stopwatch.ring(toWriter);
    }
  }
  if (count === batch) continue;
  // The mask is still set: the writer does not ring while we poll.
  if (spin.poll(packetArrived)) continue;
  const seen = fromWriter.ticket();
  if (!reader.unmaskInterruptsIfEmpty()) continue;
  if (stopRequested(words)) break;
  Atomics.add(words, BENCH_WORD.readerSleeps, 1);
  stopwatch.sleep(fromWriter, seen);
  reader.maskInterrupts();
}
