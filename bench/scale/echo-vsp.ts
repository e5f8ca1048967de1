/**
 * The host side of the echo device: a VSP written only against the KMCL
 * server interface table, as a C VSP would be, run as a createVm host module
 * (one instance per guest, on that guest's host device object). It offers
 * `channels` echo channels and completes every request with a fixed-size
 * completion from its process-packet callback.
 */
import {
  KMCL_SERVER_INTERFACE_TYPE,
  KMCL_SERVER_INTERFACE_VERSION_V5,
  NTSTATUS,
  SIZEOF_KMCL_SERVER_INTERFACE_V5,
  ntStatusName,
  queryInterface,
  type HANDLE,
  type KMCL_SERVER_INTERFACE,
  type KMCL_SERVER_INTERFACE_V5,
  type Out,
  type VMBCHANNEL,
} from '../../src/index.js';
import type { HostContext, HostModule, Teardown } from '../../src/vm/index.js';
import { ECHO_INTERFACE, echoInstance } from './echo-device.js';

export interface EchoVspOptions {
  /** Echo channels offered to each guest. */
  readonly channels: number;
  /** Bytes of every completion's payload. */
  readonly completionBytes: number;
}

function check(what: string, status: number): void {
  if (status !== NTSTATUS.STATUS_SUCCESS) throw new Error(`${what} failed: ${ntStatusName(status)}`);
}

function offerEchoChannel(kmcl: KMCL_SERVER_INTERFACE_V5, context: HostContext, index: number, completion: Uint8Array): VMBCHANNEL {
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
  check('VmbServerChannelInitSetTargetInterfaceId', kmcl.VmbServerChannelInitSetTargetInterfaceId(channel, ECHO_INTERFACE, echoInstance(index)));
  // The request's bytes are not looked at: the echo answers every packet the same way.
  const processPacket = kmcl.VmbChannelInitSetProcessPacketCallbacks(
    channel,
    (_channel, packet) => kmcl.VmbChannelPacketComplete(packet, completion, completion.length),
    null,
  );
  check('VmbChannelInitSetProcessPacketCallbacks', processPacket);
  check('VmbChannelEnable', kmcl.VmbChannelEnable(channel));
  check('VmbChannelStart', kmcl.VmbChannelStart(channel));
  return channel;
}

/** The host module: `channels` echo channels offered to every guest. */
export function echoVsp(options: EchoVspOptions): HostModule {
  return (context: HostContext): Teardown => {
    const table: Out<KMCL_SERVER_INTERFACE | null> = { value: null };
    check('queryInterface', queryInterface(context.device, KMCL_SERVER_INTERFACE_TYPE, table, SIZEOF_KMCL_SERVER_INTERFACE_V5, KMCL_SERVER_INTERFACE_VERSION_V5));
    const kmcl = table.value as KMCL_SERVER_INTERFACE_V5;
    const completion = new Uint8Array(options.completionBytes);
    const channels = Array.from({ length: options.channels }, (_, index) => offerEchoChannel(kmcl, context, index, completion));
    return async () => {
      // Disable rescinds each offer (the guest has unloaded by now, so none waits), then clean up.
      for (const status of await Promise.all(channels.map((channel) => kmcl.VmbChannelDisable(channel)))) check('VmbChannelDisable', status);
      for (const channel of channels) check('VmbChannelCleanup', kmcl.VmbChannelCleanup(channel));
      kmcl.InterfaceDereference(kmcl.Context);
    };
  };
}
