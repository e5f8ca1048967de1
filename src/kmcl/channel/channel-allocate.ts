/**
 * Making channel objects: VmbChannelAllocate, and the V5 pair VmbSizeofChannel /
 * VmbChannelInitialize for a channel in caller-supplied storage.
 */
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import { asBoolean, isBytes, isOut, isU32 } from '../arguments.js';
import { KmclDeviceObject } from '../device-object.js';
import { channelsInStorage } from '../handles.js';
import type { Out, VMBCHANNEL } from '../types.js';
import { KmclChannel } from './channel.js';

/**
 * Decision: what VmbSizeofChannel reports. The channel object lives on the
 * JavaScript heap; the caller's storage is its identity (the handle), and its
 * size is checked as a C driver's would be.
 */
export const VMB_CHANNEL_OBJECT_SIZE = 512;

/** Checks the arguments VmbChannelAllocate and VmbChannelInitialize share; null when good. */
function checkParent(ParentDeviceObject: unknown, IsServer: unknown): NtStatus | null {
  if (!(ParentDeviceObject instanceof KmclDeviceObject)) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  const isServer = asBoolean(IsServer);
  // Decision: a server endpoint needs a host-side device (the server interface); these device objects are the guest's.
  if (isServer === null || isServer) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  return null;
}

/**
 * VmbChannelAllocate: a new disabled client channel with default settings,
 * in `Channel.value`. `ParentDeviceObject` is the VMBus device object or a
 * child (offer) device object; a channel allocated on a child opens that offer
 * unless VmbClientChannelInitSetTargetPnp names another target.
 */
export function VmbChannelAllocate(
  ParentDeviceObject: KmclDeviceObject,
  IsServer: boolean,
  Channel: Out<VMBCHANNEL | null>,
): NtStatus {
  const problem = checkParent(ParentDeviceObject, IsServer);
  if (problem !== null) return problem;
  if (!isOut(Channel)) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  Channel.value = new KmclChannel(ParentDeviceObject, false, null).handle;
  return NTSTATUS.STATUS_SUCCESS;
}

/** VmbSizeofChannel (V5, no DDI page). Decision: takes no argument and returns VMB_CHANNEL_OBJECT_SIZE, the storage VmbChannelInitialize needs. */
export function VmbSizeofChannel(): number {
  return VMB_CHANNEL_OBJECT_SIZE;
}

/**
 * VmbChannelInitialize (V5, no DDI page). Decision: the same arguments as
 * VmbChannelAllocate with the caller's storage (and its size) in place of the
 * out-parameter; the storage is the channel's handle until VmbChannelCleanup,
 * after which it may be initialized again. STATUS_INVALID_PARAMETER_3 for
 * storage that is not a Uint8Array or holds a channel not cleaned up yet,
 * STATUS_INVALID_PARAMETER_4 for a size below VmbSizeofChannel or beyond the storage.
 */
export function VmbChannelInitialize(
  ParentDeviceObject: KmclDeviceObject,
  IsServer: boolean,
  Channel: Uint8Array,
  ByteCount: number,
): NtStatus {
  const problem = checkParent(ParentDeviceObject, IsServer);
  if (problem !== null) return problem;
  if (!isBytes(Channel) || channelsInStorage.get(Channel)?.live === true) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  if (!isU32(ByteCount) || ByteCount < VMB_CHANNEL_OBJECT_SIZE || ByteCount > Channel.length) {
    return NTSTATUS.STATUS_INVALID_PARAMETER_4;
  }
  Channel.fill(0, 0, ByteCount);
  channelsInStorage.set(Channel, new KmclChannel(ParentDeviceObject, false, Channel));
  return NTSTATUS.STATUS_SUCCESS;
}
