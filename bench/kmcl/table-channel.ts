/**
 * A KMCL channel on the interface table in a benchmark worker, opened as a
 * driver written from the reference opens it (KMCL_CLIENT_INTERFACE_V5
 * queried on the worker's VMBus device object, a channel allocated on the
 * offer's device object), and the loop that feeds it the doorbell's signals.
 */
import {
  KMCL_CLIENT_INTERFACE_TYPE,
  KMCL_CLIENT_INTERFACE_VERSION_V5,
  NTSTATUS,
  SIZEOF_KMCL_CLIENT_INTERFACE_V5,
  VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT,
  queryInterface,
  type KMCL_CLIENT_INTERFACE_V5,
  type Out,
  type PFN_VMB_CHANNEL_PROCESS_PACKET,
  type KmclDeviceObject,
  type VMBCHANNEL,
} from '../../src/index.js';
import { stopRequested } from '../ring/bench-control.js';
import type { BenchSide } from './kmcl-worker-data.js';
import { BENCH_OFFER, benchDevice, type DoorbellEndpoint } from './ring-pair-port.js';

/** Throws (ending the worker with the reason) when a KMCL call did not succeed. */
export function check(what: string, status: number): void {
  if (status !== NTSTATUS.STATUS_SUCCESS) throw new Error(`${what} failed: 0x${status.toString(16)}`);
}

/** The interface table and the channel opened on it. */
export interface OpenTable {
  readonly kmcl: KMCL_CLIENT_INTERFACE_V5;
  readonly channel: VMBCHANNEL;
}

/**
 * Queries the table on `device` (by default one with a small private guest
 * memory), opens the channel on `endpoint` with `processPacket`, and waits
 * for EvtChannelPostStarted.
 */
export async function openOnTable(
  endpoint: DoorbellEndpoint,
  processPacket: PFN_VMB_CHANNEL_PROCESS_PACKET,
  device: KmclDeviceObject = benchDevice(endpoint),
): Promise<OpenTable> {
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
export function serve(endpoint: DoorbellEndpoint, side: BenchSide, done: () => boolean, counted: (() => number) | null): void {
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
