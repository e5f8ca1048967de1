/**
 * The guest module of the VM tests, a KMCL driver written against the
 * interface table: it queries KMCL_CLIENT_INTERFACE_V5 on the VMBus device
 * object, allocates a channel targeting the echo offer, enables it, sends
 * `data.packets` requests that wait for completion, checks each echoed
 * payload, and emits 'echo-done'. Its teardown disables and cleans up the
 * channel and drops the interface reference. The same file runs in the VM's
 * thread (single-thread mode) and in a guest worker.
 */
import {
  KMCL_CLIENT_INTERFACE_TYPE,
  KMCL_CLIENT_INTERFACE_VERSION_V5,
  NTSTATUS,
  SIZEOF_KMCL_CLIENT_INTERFACE_V5,
  VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT,
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION,
  ntStatusName,
  queryInterface,
  type KMCL_CLIENT_INTERFACE_V5,
  type Out,
  type VMBCHANNEL,
  type VMBPACKET,
} from '../../src/index.js';
import type { GuestContext, Teardown } from '../../src/vm/index.js';
import { ECHO_INSTANCE, ECHO_INTERFACE } from './echo-vsp.js';

export interface EchoGuestData {
  readonly packets: number;
}

/** What the guest reports in its 'echo-done' event. */
export interface EchoDone {
  readonly completions: number;
  /** Completions whose status or payload was not the request's echo. */
  readonly mismatches: number;
  readonly version: number;
}

/** Request `n`'s payload: 8 to 1000 bytes (multiples of 8, the in-band padding, linux-vmbus.md §A.1.2). */
export function echoPayload(guestIndex: number, n: number): Uint8Array {
  const length = 8 * (1 + ((n * 29) % 125));
  return Uint8Array.from({ length }, (_, i) => (guestIndex * 53 + n * 11 + i) & 0xff);
}

function check(what: string, status: number): void {
  if (status !== NTSTATUS.STATUS_SUCCESS) throw new Error(`${what} failed: ${ntStatusName(status)}`);
}

export default async function echoGuest(context: GuestContext): Promise<Teardown> {
  const { packets } = context.data as EchoGuestData;
  const table: Out<KMCL_CLIENT_INTERFACE_V5 | null> = { value: null };
  check(
    'queryInterface',
    queryInterface(context.device, KMCL_CLIENT_INTERFACE_TYPE, table, SIZEOF_KMCL_CLIENT_INTERFACE_V5, KMCL_CLIENT_INTERFACE_VERSION_V5),
  );
  const kmcl = table.value!;
  const box: Out<VMBCHANNEL | null> = { value: null };
  check('VmbChannelAllocate', kmcl.VmbChannelAllocate(context.device, false, box));
  const channel = box.value!;
  const started = new Promise<void>((resolve, reject) => {
    const failed = (_channel: VMBCHANNEL, status: number): void => reject(new Error(`open failed: ${ntStatusName(status)}`));
    check('VmbClientChannelInitSetTargetPnp', kmcl.VmbClientChannelInitSetTargetPnp(channel, ECHO_INTERFACE, ECHO_INSTANCE, failed));
    const callbacks = VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT();
    callbacks.EvtChannelPostStarted = () => resolve();
    check('VmbChannelInitSetStateChangeCallbacks', kmcl.VmbChannelInitSetStateChangeCallbacks(channel, callbacks));
  });
  // The echo VSP sends nothing of its own; a driver must still say how it takes packets.
  const callbacksSet = kmcl.VmbChannelInitSetProcessPacketCallbacks(channel, (_c, packet) => kmcl.VmbChannelPacketComplete(packet, null, 0), null);
  check('VmbChannelInitSetProcessPacketCallbacks', callbacksSet);
  check('VmbChannelEnable', kmcl.VmbChannelEnable(channel));
  await started;

  const sent: VMBPACKET[] = [];
  const echoes = Array.from({ length: packets }, (_, n) => {
    const payload = echoPayload(context.index, n);
    const packet = kmcl.VmbPacketAllocate(channel);
    if (packet === null) throw new Error('VmbPacketAllocate returned no packet');
    sent.push(packet);
    return new Promise<boolean>((resolve) => {
      kmcl.VmbPacketSetCompletionRoutine(packet, (_p, status, buffer, length) => {
        const same = length === payload.length && buffer.subarray(0, length).every((byte, i) => byte === payload[i]);
        resolve(status === NTSTATUS.STATUS_SUCCESS && same);
      });
      check('VmbPacketSend', kmcl.VmbPacketSend(packet, payload, payload.length, null, VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION));
    });
  });
  const matched = await Promise.all(echoes);
  // A packet goes back to the lookaside list once its completion routine has returned.
  for (const packet of sent) check('VmbPacketFree', kmcl.VmbPacketFree(packet));
  const done: EchoDone = { completions: matched.length, mismatches: matched.filter((same) => !same).length, version: context.bus.version };
  context.emit('echo-done', done);

  return async () => {
    check('VmbChannelDisable', await kmcl.VmbChannelDisable(channel));
    check('VmbChannelCleanup', kmcl.VmbChannelCleanup(channel));
    kmcl.InterfaceDereference(kmcl.Context);
    context.emit('echo-torn-down', { references: context.device.interfaceReferenceCount });
  };
}
