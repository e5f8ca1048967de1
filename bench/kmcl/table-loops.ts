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
  KMCL_CLIENT_INTERFACE_TYPE,
  KMCL_CLIENT_INTERFACE_VERSION_V5,
  NTSTATUS,
  SIZEOF_KMCL_CLIENT_INTERFACE_V5,
  VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT,
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION,
  queryInterface,
  type KMCL_CLIENT_INTERFACE_V5,
  type Out,
  type PFN_VMB_CHANNEL_PROCESS_PACKET,
  type VMBCHANNEL,
  type VMBPACKET,
} from '../../src/index.js';
import { stopRequested, waitForGo } from '../ring/bench-control.js';
import { announceReady, postResult } from '../ring/bench-worker.js';
import type { BenchSide, KmclWorkerData } from './kmcl-worker-data.js';
import { BENCH_OFFER, DoorbellEndpoint, benchDevice } from './ring-pair-port.js';

function check(what: string, status: number): void {
  if (status !== NTSTATUS.STATUS_SUCCESS) throw new Error(`${what} failed: 0x${status.toString(16)}`);
}

interface OpenTable {
  readonly kmcl: KMCL_CLIENT_INTERFACE_V5;
  readonly channel: VMBCHANNEL;
}

/** Queries the table, opens the channel on `endpoint` with `processPacket`, and waits for EvtChannelPostStarted. */
async function openOnTable(endpoint: DoorbellEndpoint, processPacket: PFN_VMB_CHANNEL_PROCESS_PACKET): Promise<OpenTable> {
  const device = benchDevice(endpoint);
  const table: Out<KMCL_CLIENT_INTERFACE_V5 | null> = { value: null };
  check('query', queryInterface(device, KMCL_CLIENT_INTERFACE_TYPE, table, SIZEOF_KMCL_CLIENT_INTERFACE_V5, KMCL_CLIENT_INTERFACE_VERSION_V5));
  const kmcl = table.value!;
  const box: Out<VMBCHANNEL | null> = { value: null };
  check('VmbChannelAllocate', kmcl.VmbChannelAllocate(device.childForChannel(BENCH_OFFER.channelId)!, false, box));
  const channel = box.value!;
  const started = new Promise<void>((resolve) => {
    const callbacks = VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT();
    callbacks.EvtChannelPostStarted = () => resolve();
    check('VmbChannelInitSetStateChangeCallbacks', kmcl.VmbChannelInitSetStateChangeCallbacks(channel, callbacks));
  });
  check('VmbChannelInitSetProcessPacketCallbacks', kmcl.VmbChannelInitSetProcessPacketCallbacks(channel, processPacket, null));
  check('VmbChannelEnable', kmcl.VmbChannelEnable(channel));
  await started;
  return { kmcl, channel };
}

/**
 * Sleeps on the doorbell and delivers its signals until `done` (or the main
 * thread says stop), publishing the count `counted` returns (when this side counts).
 */
function serve(endpoint: DoorbellEndpoint, side: BenchSide, done: () => boolean, counted: (() => number) | null): void {
  while (!stopRequested(side.words)) {
    // Read the ticket before delivering: a ring during the delivery then makes the sleep return at once.
    const seen = side.own.ticket();
    endpoint.deliverSignal();
    if (counted !== null) side.publish(counted());
    if (done() || stopRequested(side.words)) break;
    if (side.own.ticket() === seen) side.countSleep();
    side.own.sleep(seen);
  }
}

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
