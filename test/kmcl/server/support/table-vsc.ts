/**
 * A guest driver written only against the KMCL client interface table, as a
 * createVm guest module (the same file runs in the VM's thread and in a guest
 * worker): it opens the table VSP's channel, echoes the VSP's requests back
 * in their completions, sends `data.requests` requests of its own and checks
 * the VSP's echoes, then emits 'vsc-done' once both directions are through.
 * Its teardown disables and cleans up the channel.
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
} from '../../../../src/index.js';
import type { GuestContext, Teardown } from '../../../../src/vm/index.js';
import { FROM_GUEST, FROM_HOST, TABLE_INSTANCE, TABLE_INTERFACE, sameBytes, tablePayload } from './table-payloads.js';

export interface TableVscData {
  /** Requests the guest sends. */
  readonly requests: number;
  /** Requests the VSP sends (the guest waits for them all). */
  readonly hostRequests: number;
  readonly seed: number;
}

/** What the guest reports in 'vsc-done'. */
export interface TableVscDone {
  readonly completed: number;
  readonly mismatches: number;
  /** VSP requests received and echoed. */
  readonly echoed: number;
}

function check(what: string, status: number): void {
  if (status !== NTSTATUS.STATUS_SUCCESS) throw new Error(`${what} failed: ${ntStatusName(status)}`);
}

export default async function tableVsc(context: GuestContext): Promise<Teardown> {
  const { requests, hostRequests, seed } = context.data as TableVscData;
  const table: Out<KMCL_CLIENT_INTERFACE_V5 | null> = { value: null };
  check('queryInterface', queryInterface(context.device, KMCL_CLIENT_INTERFACE_TYPE, table, SIZEOF_KMCL_CLIENT_INTERFACE_V5, KMCL_CLIENT_INTERFACE_VERSION_V5));
  const kmcl = table.value!;
  const box: Out<VMBCHANNEL | null> = { value: null };
  check('VmbChannelAllocate', kmcl.VmbChannelAllocate(context.device, false, box));
  const channel = box.value!;
  let echoed = 0;
  let allEchoed: () => void = () => undefined;
  const hostDone = new Promise<void>((resolve) => (allEchoed = resolve));
  if (hostRequests === 0) allEchoed();
  const started = new Promise<void>((resolve, reject) => {
    const failed = (_c: VMBCHANNEL, status: number): void => reject(new Error(`open failed: ${ntStatusName(status)}`));
    check('VmbClientChannelInitSetTargetPnp', kmcl.VmbClientChannelInitSetTargetPnp(channel, TABLE_INTERFACE, TABLE_INSTANCE, failed));
    const callbacks = VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT();
    callbacks.EvtChannelPostStarted = () => resolve();
    check('VmbChannelInitSetStateChangeCallbacks', kmcl.VmbChannelInitSetStateChangeCallbacks(channel, callbacks));
  });
  const callbacksSet = kmcl.VmbChannelInitSetProcessPacketCallbacks(
    channel,
    (_c, packet, buffer, length) => {
      kmcl.VmbChannelPacketComplete(packet, buffer, length);
      if (buffer[0] === FROM_HOST && ++echoed === hostRequests) allEchoed();
    },
    null,
  );
  check('VmbChannelInitSetProcessPacketCallbacks', callbacksSet);
  check('VmbChannelEnable', kmcl.VmbChannelEnable(channel));
  await started;
  const results = await Promise.all(
    Array.from({ length: requests }, (_, n) => {
      const payload = tablePayload(FROM_GUEST, n, seed);
      const packet = kmcl.VmbPacketAllocate(channel)!;
      return new Promise<boolean>((resolve) => {
        kmcl.VmbPacketSetCompletionRoutine(packet, (p, status, buffer, length) => {
          resolve(status === NTSTATUS.STATUS_SUCCESS && sameBytes(payload, buffer, length));
          kmcl.VmbPacketFree(p);
        });
        check('VmbPacketSend', kmcl.VmbPacketSend(packet, payload, payload.length, null, VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION));
      });
    }),
  );
  await hostDone;
  const done: TableVscDone = { completed: results.filter(Boolean).length, mismatches: results.filter((ok) => !ok).length, echoed };
  context.emit('vsc-done', done);
  return async () => {
    check('VmbChannelDisable', await kmcl.VmbChannelDisable(channel));
    check('VmbChannelCleanup', kmcl.VmbChannelCleanup(channel));
    kmcl.InterfaceDereference(kmcl.Context);
  };
}
