/**
 * The init-time setters only a server endpoint has (VmbServerChannelInit*).
 * As every Init function, each is valid only while the channel is disabled
 * and not changing state; otherwise, as for a bad handle or a client
 * channel, STATUS_INVALID_PARAMETER_1 ("invalid or in an invalid state, such
 * as Disabled" on each page). A bad value is the status of its parameter
 * number and changes nothing.
 */
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import type { Guid } from '../../wire/guid.js';
import { hasOnlyFlags, isU16 } from '../arguments.js';
import { guidOf } from '../channel/client-init-setters.js';
import type { VMBCHANNEL } from '../types.js';
import { configurableServer } from './server-endpoint.js';
import { VMBUS_SERVER_CHANNEL_INIT_FLAGS } from './server-flags.js';
import { deviceOfHandle, type HANDLE } from './vmbus-handle.js';
import type {
  PFN_VMB_CHANNEL_RESTORE_PACKET,
  PFN_VMB_CHANNEL_RESTORE_PACKET_EX,
  PFN_VMB_CHANNEL_SAVE_PACKET,
  PFN_VMB_CHANNEL_SAVE_PACKET_EX,
} from './server-types.js';

/** The VTLs a partition can have (VTL 0, 1 and 2 exist on Hyper-V; linux-vmbus.md §A.3.1). */
export const MAXIMUM_TARGET_VTL = 2;

/**
 * VmbServerChannelInitSetVmbusHandle: the channel will be offered to the
 * guest whose VMBus `VmbusHandle` names. The handle must be an open
 * kernel-mode handle from VmbConvertVmbusHandleToKernelHandle, else
 * STATUS_INVALID_HANDLE (what ObReferenceObjectByHandle reports); the
 * channel keeps the guest, not the handle, so the handle may be closed after.
 */
export function VmbServerChannelInitSetVmbusHandle(Channel: VMBCHANNEL, VmbusHandle: HANDLE): NtStatus {
  const endpoint = configurableServer(Channel);
  if (endpoint === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  const device = deviceOfHandle(VmbusHandle, 'kernel');
  if (device === null) return NTSTATUS.STATUS_INVALID_HANDLE;
  endpoint.server.device = device;
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbServerChannelInitSetTargetInterfaceId: the interface type (the
 * protocol; the guest's PDO hardware id) and instance GUIDs the channel is
 * offered with. Decision: both are required (STATUS_INVALID_PARAMETER_2 / _3
 * for a value that is no GUID); VmbChannelEnable refuses a channel without them.
 */
export function VmbServerChannelInitSetTargetInterfaceId(Channel: VMBCHANNEL, InterfaceType: Guid, InterfaceInstance: Guid): NtStatus {
  const endpoint = configurableServer(Channel);
  if (endpoint === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  const interfaceId = guidOf(InterfaceType);
  if (interfaceId === null) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  const instanceId = guidOf(InterfaceInstance);
  if (instanceId === null) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  endpoint.server.interfaceId = interfaceId;
  endpoint.server.instanceId = instanceId;
  return NTSTATUS.STATUS_SUCCESS;
}

/** VmbServerChannelInitSetFlags: VMBUS_SERVER_CHANNEL_INIT_FLAGS bits only; any other bit is STATUS_INVALID_PARAMETER_2. */
export function VmbServerChannelInitSetFlags(Channel: VMBCHANNEL, Flags: number): NtStatus {
  const endpoint = configurableServer(Channel);
  if (endpoint === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!hasOnlyFlags(Flags, VMBUS_SERVER_CHANNEL_INIT_FLAGS)) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  endpoint.server.flags = Flags;
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbServerChannelInitSetMmioMegabytes: MMIO space the guest is to reserve
 * for the device, and extra optional space. The page: both zero is
 * STATUS_INVALID_PARAMETER. Decision: a value that is no UINT16 is
 * STATUS_INVALID_PARAMETER_2 / _3.
 */
export function VmbServerChannelInitSetMmioMegabytes(Channel: VMBCHANNEL, MmioMegabytes: number, MmioMegabytesOptional: number): NtStatus {
  const endpoint = configurableServer(Channel);
  if (endpoint === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isU16(MmioMegabytes)) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  if (!isU16(MmioMegabytesOptional)) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  if (MmioMegabytes === 0 && MmioMegabytesOptional === 0) return NTSTATUS.STATUS_INVALID_PARAMETER;
  endpoint.server.mmioMegabytes = MmioMegabytes;
  endpoint.server.mmioMegabytesOptional = MmioMegabytesOptional;
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbServerChannelInitSetTargetVtl: the VTL whose clients see the offer (and
 * no others). A UINT8 above MAXIMUM_TARGET_VTL is STATUS_INVALID_PARAMETER_2.
 */
export function VmbServerChannelInitSetTargetVtl(Channel: VMBCHANNEL, TargetVtl: number): NtStatus {
  const endpoint = configurableServer(Channel);
  if (endpoint === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!Number.isInteger(TargetVtl) || TargetVtl < 0 || TargetVtl > MAXIMUM_TARGET_VTL) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  endpoint.server.targetVtl = TargetVtl;
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbServerChannelInitSetSaveRestorePacketCallbacks: the callbacks called
 * for each packet object in use at VmbChannelSaveBegin, and for each saved
 * packet at VmbChannelRestoreFromBuffer. Decision: both are required
 * (STATUS_INVALID_PARAMETER_2 / _3 for one that is not a function); they
 * replace callbacks set with the Ex form.
 */
export function VmbServerChannelInitSetSaveRestorePacketCallbacks(
  Channel: VMBCHANNEL,
  SavePacketCallback: PFN_VMB_CHANNEL_SAVE_PACKET,
  RestorePacketCallback: PFN_VMB_CHANNEL_RESTORE_PACKET,
): NtStatus {
  const endpoint = configurableServer(Channel);
  if (endpoint === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (typeof SavePacketCallback !== 'function') return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  if (typeof RestorePacketCallback !== 'function') return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  endpoint.server.packetCallbacks = { ex: false, save: SavePacketCallback, restore: RestorePacketCallback };
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbServerChannelInitSetSaveRestorePacketCallbacksEx (V5, no DDI page).
 * Decision: as the V1 form with the Ex callback types, which also receive
 * `CallbackContext` (any value); replaces callbacks set with the V1 form.
 */
export function VmbServerChannelInitSetSaveRestorePacketCallbacksEx(
  Channel: VMBCHANNEL,
  SavePacketCallback: PFN_VMB_CHANNEL_SAVE_PACKET_EX,
  RestorePacketCallback: PFN_VMB_CHANNEL_RESTORE_PACKET_EX,
  CallbackContext: unknown,
): NtStatus {
  const endpoint = configurableServer(Channel);
  if (endpoint === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (typeof SavePacketCallback !== 'function') return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  if (typeof RestorePacketCallback !== 'function') return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  endpoint.server.packetCallbacks = { ex: true, save: SavePacketCallback, restore: RestorePacketCallback, context: CallbackContext };
  return NTSTATUS.STATUS_SUCCESS;
}
