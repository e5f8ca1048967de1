/**
 * The host side: a calculator VSP written only against the KMCL server
 * interface table, as a C VSP would be, run as a createVm host module (one
 * instance per guest, on that guest's host device object).
 */
import {
  KMCL_SERVER_INTERFACE_TYPE,
  KMCL_SERVER_INTERFACE_VERSION_V5,
  NTSTATUS,
  SIZEOF_KMCL_SERVER_INTERFACE_V5,
  VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT,
  ntStatusName,
  queryInterface,
  type HANDLE,
  type KMCL_SERVER_INTERFACE,
  type KMCL_SERVER_INTERFACE_V5,
  type Out,
  type VMBCHANNEL,
} from '../../src/index.js';
import type { HostContext, HostModule } from '../../src/vm/index.js';
import { CALCULATOR_INSTANCE, CALCULATOR_INTERFACE, answer, decodeRequest } from './protocol.js';

/** What one guest's VSP saw. */
export interface VspRecord {
  /** State-change callbacks, in order. */
  readonly events: string[];
  /** Requests answered, and those refused as malformed. */
  answered: number;
  refused: number;
  /** What VmbChannelDisable (the rescind) completed with; null before stop. */
  disableStatus: number | null;
}

function check(what: string, status: number): void {
  if (status !== NTSTATUS.STATUS_SUCCESS) throw new Error(`${what} failed: ${ntStatusName(status)}`);
}

/** The host module: each guest's record lands in `records` under the guest's name. */
export function calculatorVsp(records: Map<string, VspRecord>): HostModule {
  return (context: HostContext) => {
    const record: VspRecord = { events: [], answered: 0, refused: 0, disableStatus: null };
    records.set(context.guestName, record);
    // Query the server interface table (V5) on the host device object.
    const table: Out<KMCL_SERVER_INTERFACE | null> = { value: null };
    check('queryInterface', queryInterface(context.device, KMCL_SERVER_INTERFACE_TYPE, table, SIZEOF_KMCL_SERVER_INTERFACE_V5, KMCL_SERVER_INTERFACE_VERSION_V5));
    const kmcl = table.value as KMCL_SERVER_INTERFACE_V5;
    // Allocate a server channel (IsServer = TRUE).
    const box: Out<VMBCHANNEL | null> = { value: null };
    check('VmbChannelAllocate', kmcl.VmbChannelAllocate(context.device, true, box));
    const channel = box.value!;
    // Name the guest: the VM worker's user-mode VMBus handle, converted to a kernel handle; both are closed once set.
    const userHandle = context.device.openVmbusHandle();
    const kernelHandle: Out<HANDLE | null> = { value: null };
    check('VmbConvertVmbusHandleToKernelHandle', kmcl.VmbConvertVmbusHandleToKernelHandle(userHandle, kernelHandle));
    check('VmbServerChannelInitSetVmbusHandle', kmcl.VmbServerChannelInitSetVmbusHandle(channel, kernelHandle.value!));
    kernelHandle.value!.close();
    userHandle.close();
    // The interface (device class) and instance GUIDs the offer carries.
    check('VmbServerChannelInitSetTargetInterfaceId', kmcl.VmbServerChannelInitSetTargetInterfaceId(channel, CALCULATOR_INTERFACE, CALCULATOR_INSTANCE));
    // State-change callbacks: record each one.
    const callbacks = VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT();
    callbacks.EvtChannelOpened = () => (record.events.push('opened'), NTSTATUS.STATUS_SUCCESS);
    callbacks.EvtChannelStarted = () => void record.events.push('started');
    callbacks.EvtChannelPostStarted = () => void record.events.push('post-started');
    callbacks.EvtChannelSuspend = () => void record.events.push('suspend');
    callbacks.EvtChannelClosed = () => void record.events.push('closed');
    check('VmbChannelInitSetStateChangeCallbacks', kmcl.VmbChannelInitSetStateChangeCallbacks(channel, callbacks));
    // Process packet: decode (the guest's bytes are untrusted), compute, and complete the packet carrying the response.
    const processPacket = kmcl.VmbChannelInitSetProcessPacketCallbacks(
      channel,
      (_channel, packet, buffer, length) => {
        const request = decodeRequest(buffer, length);
        if (request === null) record.refused++;
        else record.answered++;
        const response = answer(request);
        kmcl.VmbChannelPacketComplete(packet, response, response.length);
      },
      null,
    );
    check('VmbChannelInitSetProcessPacketCallbacks', processPacket);
    // Enable: the channel is offered to the guest.
    check('VmbChannelEnable', kmcl.VmbChannelEnable(channel));
    // On the host, VmbChannelStart is called by the VSP itself.
    check('VmbChannelStart', kmcl.VmbChannelStart(channel));
    return async () => {
      // Stop: disable (rescind the offer), clean the channel up, release the table.
      record.disableStatus = await kmcl.VmbChannelDisable(channel);
      check('VmbChannelCleanup', kmcl.VmbChannelCleanup(channel));
      kmcl.InterfaceDereference(kmcl.Context);
    };
  };
}
