/**
 * Making channel objects: VmbChannelAllocate, and the V5 pair VmbSizeofChannel /
 * VmbChannelInitialize for a channel in caller-supplied storage.
 */
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import { asBoolean, isBytes, isOut, isU32 } from '../arguments.js';
import { KmclDeviceObject } from '../device-object.js';
import { channelsInStorage } from '../handles.js';
import { KmclHostDeviceObject } from '../server/host-device-object.js';
import { ServerChannel } from '../server/server-channel.js';
import type { Out, VMBCHANNEL } from '../types.js';
import { KmclChannel } from './channel.js';

/**
 * Decision: what VmbSizeofChannel reports. The channel object lives on the
 * JavaScript heap; the caller's storage is its identity (the handle), and its
 * size is checked as a C driver's would be.
 */
export const VMB_CHANNEL_OBJECT_SIZE = 512;

/**
 * Checks the arguments VmbChannelAllocate and VmbChannelInitialize share.
 * Decision: a client endpoint is allocated on a guest's device object, a
 * server endpoint on a host device object (KmclHostDeviceObject); the other
 * pairing is STATUS_INVALID_PARAMETER_2, as a BOOLEAN that is none is.
 */
function checkParent(ParentDeviceObject: unknown, IsServer: unknown): NtStatus | null {
  if (!(ParentDeviceObject instanceof KmclDeviceObject) && !(ParentDeviceObject instanceof KmclHostDeviceObject)) {
    return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  }
  const isServer = asBoolean(IsServer);
  if (isServer === null || isServer !== ParentDeviceObject instanceof KmclHostDeviceObject) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  return null;
}

/** A new disabled channel on a checked parent: a server endpoint when the parent is a host device object. */
function newChannel(parent: KmclDeviceObject | KmclHostDeviceObject, storage: Uint8Array | null): KmclChannel {
  if (!(parent instanceof KmclHostDeviceObject)) return new KmclChannel(parent, false, storage);
  const channel = new KmclChannel(parent, true, storage);
  channel.server = new ServerChannel(parent);
  // The header: on the host VmbChannelStart must be called manually; a server channel starts paused.
  channel.autoPause = true;
  return channel;
}

/**
 * VmbChannelAllocate: a new disabled channel with default settings, in
 * `Channel.value`: a server endpoint (IsServer TRUE) on a host device object,
 * a client endpoint otherwise. A client's `ParentDeviceObject` is the VMBus
 * device object or a child (offer) device object; a channel allocated on a
 * child opens that offer unless VmbClientChannelInitSetTargetPnp names another
 * target. A server channel starts paused (the header: on the host,
 * VmbChannelStart must be called manually).
 */
export function VmbChannelAllocate(
  ParentDeviceObject: KmclDeviceObject | KmclHostDeviceObject,
  IsServer: boolean,
  Channel: Out<VMBCHANNEL | null>,
): NtStatus {
  const problem = checkParent(ParentDeviceObject, IsServer);
  if (problem !== null) return problem;
  if (!isOut(Channel)) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  Channel.value = newChannel(ParentDeviceObject, null).handle;
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
  ParentDeviceObject: KmclDeviceObject | KmclHostDeviceObject,
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
  channelsInStorage.set(Channel, newChannel(ParentDeviceObject, Channel));
  return NTSTATUS.STATUS_SUCCESS;
}
