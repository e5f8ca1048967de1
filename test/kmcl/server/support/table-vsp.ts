/**
 * A VSP written only against the KMCL server interface table, as a host
 * module of createVm: per guest it makes the host device object over the
 * guest's HostBus, queries KMCL_SERVER_INTERFACE_V5, offers a channel, starts
 * it, echoes every guest request back in its completion and, once the
 * channel is PostStarted, sends `requests` requests of its own and checks
 * the guest's echoes. Its teardown disables (rescinds) and cleans up.
 */
import {
  KMCL_SERVER_INTERFACE_TYPE,
  KMCL_SERVER_INTERFACE_VERSION_V5,
  NTSTATUS,
  SIZEOF_KMCL_SERVER_INTERFACE_V5,
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION,
  VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT,
  createHostDeviceObject,
  ntStatusName,
  queryInterface,
  type KMCL_SERVER_INTERFACE,
  type KMCL_SERVER_INTERFACE_V5,
  type Out,
  type VMBCHANNEL,
} from '../../../../src/index.js';
import type { HostContext, HostModule } from '../../../../src/vm/index.js';
import { FROM_GUEST, FROM_HOST, TABLE_INSTANCE, TABLE_INTERFACE, sameBytes, tablePayload } from './table-payloads.js';

/** What the VSP of one guest saw. */
export interface TableVspReport {
  readonly events: string[];
  /** Guest requests echoed. */
  echoed: number;
  /** Own requests whose echo came back intact / not. */
  completed: number;
  mismatches: number;
  disableStatus: number | null;
  /** Settles once every own request has its completion (intact or not). */
  readonly answered: Promise<void>;
}

function check(what: string, status: number): void {
  if (status !== NTSTATUS.STATUS_SUCCESS) throw new Error(`${what} failed: ${ntStatusName(status)}`);
}

/** The host module; each guest's report lands in `reports` under the guest's name. */
export function tableVsp(reports: Map<string, TableVspReport>, requests: number, seed: number): HostModule {
  return (context: HostContext) => {
    let allAnswered = (): void => undefined;
    const answered = new Promise<void>((resolve) => (allAnswered = resolve));
    const report: TableVspReport = { events: [], echoed: 0, completed: 0, mismatches: 0, disableStatus: null, answered };
    if (requests === 0) allAnswered();
    reports.set(context.guestName, report);
    const host = createHostDeviceObject({ bus: context.bus, guestMemory: context.guestMemory, scheduler: context.scheduler, name: `VSP of ${context.guestName}` });
    const table: Out<KMCL_SERVER_INTERFACE | null> = { value: null };
    check('queryInterface', queryInterface(host, KMCL_SERVER_INTERFACE_TYPE, table, SIZEOF_KMCL_SERVER_INTERFACE_V5, KMCL_SERVER_INTERFACE_VERSION_V5));
    const kmcl = table.value as KMCL_SERVER_INTERFACE_V5;
    const box: Out<VMBCHANNEL | null> = { value: null };
    check('VmbChannelAllocate', kmcl.VmbChannelAllocate(host, true, box));
    const channel = box.value!;
    check('VmbServerChannelInitSetTargetInterfaceId', kmcl.VmbServerChannelInitSetTargetInterfaceId(channel, TABLE_INTERFACE, TABLE_INSTANCE));
    const callbacks = VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT();
    callbacks.EvtChannelOpened = () => (report.events.push('opened'), NTSTATUS.STATUS_SUCCESS);
    callbacks.EvtChannelStarted = () => void report.events.push('started');
    callbacks.EvtChannelSuspend = () => void report.events.push('suspend');
    callbacks.EvtChannelClosed = () => void report.events.push('closed');
    callbacks.EvtChannelPostStarted = () => {
      report.events.push('post-started');
      for (let n = 0; n < requests; n++) {
        const payload = tablePayload(FROM_HOST, n, seed);
        const packet = kmcl.VmbPacketAllocate(channel)!;
        // The default completion routine frees the packet; this one checks the echo, then frees it.
        kmcl.VmbPacketSetCompletionRoutine(packet, (p, status, buffer, length) => {
          if (status === NTSTATUS.STATUS_SUCCESS && sameBytes(payload, buffer, length)) report.completed++;
          else report.mismatches++;
          if (report.completed + report.mismatches === requests) allAnswered();
          kmcl.VmbPacketFree(p);
        });
        check('VmbPacketSend', kmcl.VmbPacketSend(packet, payload, payload.length, null, VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION));
      }
    };
    check('VmbChannelInitSetStateChangeCallbacks', kmcl.VmbChannelInitSetStateChangeCallbacks(channel, callbacks));
    const echo = kmcl.VmbChannelInitSetProcessPacketCallbacks(
      channel,
      (_channel, packet, buffer, length) => {
        if (buffer[0] === FROM_GUEST) report.echoed++;
        kmcl.VmbChannelPacketComplete(packet, buffer, length);
      },
      null,
    );
    check('VmbChannelInitSetProcessPacketCallbacks', echo);
    check('VmbChannelEnable', kmcl.VmbChannelEnable(channel));
    // The header: on the host, VmbChannelStart must be called manually.
    check('VmbChannelStart', kmcl.VmbChannelStart(channel));
    return async () => {
      report.disableStatus = await kmcl.VmbChannelDisable(channel);
      check('VmbChannelCleanup', kmcl.VmbChannelCleanup(channel));
      kmcl.InterfaceDereference(kmcl.Context);
    };
  };
}
