/**
 * Both ends of the KMCL runs on the interface table, as a driver written from
 * the reference would do it: KMCL_CLIENT_INTERFACE_V5 queried on the worker's
 * VMBus device object, a channel allocated on the offer's device object, and
 * per packet VmbPacketSend → (peer) EvtVmbChannelProcessPacket →
 * VmbChannelPacketComplete → (here) the completion routine. The worker thread
 * sleeps on its doorbell and, when rung, delivers the signal to the channel
 * (the hypervisor's event dispatch); every KMCL step in between is synchronous.
 */
import {
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION,
  type KMCL_CLIENT_INTERFACE_V5,
  type VMBPACKET,
} from '../../src/index.js';
import { stopRequested, waitForGo } from '../ring/bench-control.js';
import { announceReady, postResult } from '../ring/bench-worker.js';
import type { BenchSide, KmclWorkerData } from './kmcl-worker-data.js';
import { DoorbellEndpoint } from './ring-pair-port.js';
import { check, openOnTable, serve } from './table-channel.js';

export async function tableReceiver(data: KmclWorkerData, side: BenchSide): Promise<void> {
  const endpoint = new DoorbellEndpoint(data.forward, data.backward, side.peer, side.ringPeer);
  const completion = new Uint8Array(data.plan.completionBytes);
  let received = 0;
  let kmcl: KMCL_CLIENT_INTERFACE_V5 | null = null;
  ({ kmcl } = await openOnTable(endpoint, (_channel, packet) => {
    received++;
    kmcl!.VmbChannelPacketComplete(packet, completion, completion.length);
  }));
  announceReady();
  waitForGo(side.words);
  // Only a stream run counts at the receiver; the sender counts completed transactions.
  serve(endpoint, side, () => false, data.mode === 'stream' ? () => received : null);
}

export async function tableSender(data: KmclWorkerData, side: BenchSide): Promise<void> {
  const { plan, mode } = data;
  const endpoint = new DoorbellEndpoint(data.backward, data.forward, side.peer, side.ringPeer);
  const { kmcl, channel } = await openOnTable(endpoint, (_channel, packet) => kmcl.VmbChannelPacketComplete(packet, null, 0));
  const payload = new Uint8Array(plan.payloadBytes);
  const WAIT = VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION;
  const allocate = (count: number): VMBPACKET[] =>
    Array.from({ length: count }, () => {
      const packet = kmcl.VmbPacketAllocate(channel);
      if (packet === null) throw new Error('VmbPacketAllocate returned no packet');
      return packet;
    });

  if (mode === 'transactions') {
    let completed = 0;
    const packets = allocate(plan.window);
    // Each completion sends its packet again: `window` transactions stay in flight.
    const routine = (packet: VMBPACKET): void => {
      completed++;
      kmcl.VmbPacketSend(packet, payload, payload.length, null, WAIT);
    };
    for (const packet of packets) kmcl.VmbPacketSetCompletionRoutine(packet, routine);
    announceReady();
    waitForGo(side.words);
    for (const packet of packets) check('VmbPacketSend', kmcl.VmbPacketSend(packet, payload, payload.length, null, WAIT));
    serve(endpoint, side, () => false, () => completed);
    return;
  }

  if (mode === 'stream') {
    // A packet is back in `free` once it is in the ring (its routine runs then); the rest wait in the send queue.
    const free = allocate(plan.streamPackets);
    const routine = (packet: VMBPACKET): void => void free.push(packet);
    for (const packet of free) kmcl.VmbPacketSetCompletionRoutine(packet, routine);
    const fill = (): void => {
      for (let packet = free.pop(); packet !== undefined; packet = free.pop()) kmcl.VmbPacketSend(packet, payload, payload.length, null, 0);
    };
    announceReady();
    waitForGo(side.words);
    while (!stopRequested(side.words)) {
      const seen = side.own.ticket();
      endpoint.deliverSignal();
      fill();
      if (stopRequested(side.words)) break;
      if (side.own.ticket() === seen) side.countSleep();
      side.own.sleep(seen);
    }
    return;
  }

  const samples = new Float64Array(plan.latencySamples);
  const [packet] = allocate(1);
  let round = 0;
  let started = 0n;
  const send = (): void => {
    started = process.hrtime.bigint();
    check('VmbPacketSend', kmcl.VmbPacketSend(packet!, payload, payload.length, null, WAIT));
  };
  kmcl.VmbPacketSetCompletionRoutine(packet!, () => {
    const finished = process.hrtime.bigint();
    if (round >= plan.latencyWarmup) samples[round - plan.latencyWarmup] = Number(finished - started);
    round++;
    if (round < plan.latencyWarmup + plan.latencySamples) send();
  });
  announceReady();
  waitForGo(side.words);
  send();
  serve(endpoint, side, () => round >= plan.latencyWarmup + plan.latencySamples, null);
  postResult(samples, [samples.buffer]);
}
