/**
 * The guest side of the echo device: a VSC written only against the KMCL
 * client interface table, as a C driver would be, run as a createVm guest
 * module (in the guest's worker). It opens every echo channel the host
 * offers it, says 'echo-ready', and once the owner sets `go` keeps a window
 * of requests in flight on each channel: every completion counts and sends
 * its packet again, until the owner sets `stop`. Until `go`, the channels
 * are open and silent.
 */
import {
  KMCL_CLIENT_INTERFACE_TYPE,
  KMCL_CLIENT_INTERFACE_VERSION_V5,
  NTSTATUS,
  SIZEOF_KMCL_CLIENT_INTERFACE_V5,
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION,
  VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT,
  ntStatusName,
  queryInterface,
  type KMCL_CLIENT_INTERFACE_V5,
  type Out,
  type VMBCHANNEL,
  type VMBPACKET,
} from '../../src/index.js';
import type { GuestContext, Teardown } from '../../src/vm/index.js';
import { ECHO_INTERFACE, ECHO_WORD, echoInstance, type EchoVscData } from './echo-device.js';
import { wordChange } from './word-wait.js';

/** The event the VSC emits once every channel is open. */
export const ECHO_READY = 'echo-ready';

function check(what: string, status: number): void {
  if (status !== NTSTATUS.STATUS_SUCCESS) throw new Error(`${what} failed: ${ntStatusName(status)}`);
}

/** Allocates a client channel bound to echo instance `index`, enables it and waits until it is started. */
async function openEchoChannel(kmcl: KMCL_CLIENT_INTERFACE_V5, context: GuestContext, index: number): Promise<VMBCHANNEL> {
  const box: Out<VMBCHANNEL | null> = { value: null };
  check('VmbChannelAllocate', kmcl.VmbChannelAllocate(context.device, false, box));
  const channel = box.value!;
  const started = new Promise<void>((resolve, reject) => {
    const failed = (_c: VMBCHANNEL, status: number): void => reject(new Error(`echo channel ${index} failed to open: ${ntStatusName(status)}`));
    check('VmbClientChannelInitSetTargetPnp', kmcl.VmbClientChannelInitSetTargetPnp(channel, ECHO_INTERFACE, echoInstance(index), failed));
    const callbacks = VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT();
    callbacks.EvtChannelPostStarted = () => resolve();
    check('VmbChannelInitSetStateChangeCallbacks', kmcl.VmbChannelInitSetStateChangeCallbacks(channel, callbacks));
  });
  // The echo host sends nothing of its own; a driver must still say how it takes packets.
  const callbacksSet = kmcl.VmbChannelInitSetProcessPacketCallbacks(channel, (_c, packet) => kmcl.VmbChannelPacketComplete(packet, null, 0), null);
  check('VmbChannelInitSetProcessPacketCallbacks', callbacksSet);
  check('VmbChannelEnable', kmcl.VmbChannelEnable(channel));
  await started;
  return channel;
}

/** Starts the echo VSC of `data` on the guest of `context`; resolves once every channel is open, with its teardown. */
export async function startEchoVsc(context: GuestContext, data: EchoVscData): Promise<Teardown> {
  const table: Out<KMCL_CLIENT_INTERFACE_V5 | null> = { value: null };
  check('queryInterface', queryInterface(context.device, KMCL_CLIENT_INTERFACE_TYPE, table, SIZEOF_KMCL_CLIENT_INTERFACE_V5, KMCL_CLIENT_INTERFACE_VERSION_V5));
  const kmcl = table.value!;
  const { control, payloadBytes, window } = data;
  const channels = await Promise.all(Array.from({ length: data.channels }, (_, index) => openEchoChannel(kmcl, context, index)));
  const payload = new Uint8Array(payloadBytes);
  const WAIT = VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION;
  let stopping = false;
  const windows: VMBPACKET[][] = channels.map((channel, index) => {
    const counter = data.counterBase + index;
    // Each completion counts and sends its packet again: `window` requests stay in flight on the channel.
    const routine = (packet: VMBPACKET, status: number): void => {
      if (stopping || Atomics.load(control, ECHO_WORD.stop) !== 0) return;
      if (status !== NTSTATUS.STATUS_SUCCESS) {
        Atomics.add(control, ECHO_WORD.failures, 1);
        return;
      }
      Atomics.add(control, counter, 1);
      if (kmcl.VmbPacketSend(packet, payload, payload.length, null, WAIT) !== NTSTATUS.STATUS_SUCCESS) Atomics.add(control, ECHO_WORD.failures, 1);
    };
    return Array.from({ length: window }, () => {
      const packet = kmcl.VmbPacketAllocate(channel);
      if (packet === null) throw new Error('VmbPacketAllocate returned no packet');
      kmcl.VmbPacketSetCompletionRoutine(packet, routine);
      return packet;
    });
  });
  void wordChange(control, ECHO_WORD.go, 0).then(() => {
    if (stopping) return;
    for (const packets of windows) for (const packet of packets) check('VmbPacketSend', kmcl.VmbPacketSend(packet, payload, payload.length, null, WAIT));
  });
  context.emit(ECHO_READY, { channels: channels.length });
  return async () => {
    stopping = true;
    // Disable closes each channel; a request still in flight ends in its routine (cancelled) first.
    for (const status of await Promise.all(channels.map((channel) => kmcl.VmbChannelDisable(channel)))) check('VmbChannelDisable', status);
    for (const packet of windows.flat()) check('VmbPacketFree', kmcl.VmbPacketFree(packet));
    for (const channel of channels) check('VmbChannelCleanup', kmcl.VmbChannelCleanup(channel));
    kmcl.InterfaceDereference(kmcl.Context);
  };
}

/** The guest module: the echo VSC of `context.data` (EchoVscData). */
export default function echoVsc(context: GuestContext): Promise<Teardown> {
  return startEchoVsc(context, context.data as EchoVscData);
}
