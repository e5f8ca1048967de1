/**
 * What a driver may ask of or set on a channel at any time: its pointer,
 * the offer it is bound to (instance, MMIO space, device objects), the
 * monitored-notification latency, bounce buffers.
 */
import { PAGE_SIZE } from '../../memory/index.js';
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import type { Guid } from '../../wire/guid.js';
import { isOut, isU16, isU32 } from '../arguments.js';
import type { BounceBuffer } from '../bounce-buffer.js';
import type { PDEVICE_OBJECT } from '../device-object.js';
import type { KmclHostDeviceObject } from '../server/host-device-object.js';
import { channelFrom } from '../handles.js';
import type { Out, VMBCHANNEL } from '../types.js';

/** VmbChannelSetPointer: keeps any value with the channel. Decision: C's VOID becomes an NTSTATUS. */
export function VmbChannelSetPointer(Channel: VMBCHANNEL, Pointer: unknown): NtStatus {
  const channel = channelFrom(Channel);
  if (channel === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  channel.pointer = Pointer;
  return NTSTATUS.STATUS_SUCCESS;
}

/** VmbChannelGetPointer: the value VmbChannelSetPointer kept (null initially, and for a bad handle). */
export function VmbChannelGetPointer(Channel: VMBCHANNEL): unknown {
  return channelFrom(Channel)?.pointer ?? null;
}

/**
 * VmbChannelGetInterfaceInstance: the instance GUID of the offer the channel
 * is bound to (a server channel: the instance it offers, from
 * VmbServerChannelInitSetTargetInterfaceId). Decision: C's VOID becomes an
 * NTSTATUS; a channel bound to no offer (not enabled, or still waiting for
 * one; a server channel with no target interface) is
 * STATUS_INVALID_PARAMETER_1 and the out-parameter is left alone; a bad
 * out-parameter is _2.
 */
export function VmbChannelGetInterfaceInstance(Channel: VMBCHANNEL, InterfaceInstance: Out<Guid>): NtStatus {
  const channel = channelFrom(Channel);
  const instanceId = channel?.server?.instanceId ?? channel?.offer?.instanceId ?? null;
  if (instanceId === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isOut(InterfaceInstance)) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  InterfaceInstance.value = instanceId;
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbChannelGetMmioSpace: the MMIO space the VMBus device reserved for the
 * offer (address and size in bytes; 0 and 0 when the offer asked for none);
 * on a server channel, the space its host device reserved at Enable.
 * Valid from EvtChannelOpened on (the page says so) until the channel closes,
 * else STATUS_INVALID_PARAMETER_1. Decision: C's VOID becomes an NTSTATUS.
 */
export function VmbChannelGetMmioSpace(Channel: VMBCHANNEL, MmioAddress: Out<number>, MmioSize: Out<number>): NtStatus {
  const channel = channelFrom(Channel);
  if (channel === null || !channel.inOpenWindow) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isOut(MmioAddress)) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  if (!isOut(MmioSize)) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  const mmio = channel.server?.mmio ?? channel.targetDevice?.mmio ?? null;
  MmioAddress.value = mmio?.address ?? 0;
  MmioSize.value = mmio?.size ?? 0;
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbChannelSetInterruptLatency: programs the latency (100 ns units) of the
 * channel's guest→host monitored notifications and returns the previous one.
 * Valid between EvtChannelOpened and EvtChannelClosed inclusive, else
 * STATUS_INVALID_PARAMETER_1; a latency beyond a UINT16 is _2, a bad
 * out-parameter _3. A channel the host gave no monitor id is not monitored:
 * STATUS_NOT_SUPPORTED.
 */
export function VmbChannelSetInterruptLatency(Channel: VMBCHANNEL, Latency: number, OriginalLatency: Out<number>): NtStatus {
  const channel = channelFrom(Channel);
  if (channel === null || !channel.inOpenWindow) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isU16(Latency)) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  if (!isOut(OriginalLatency)) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  const monitorId = channel.offer?.monitorId ?? null;
  const monitor = channel.context.monitor;
  if (monitorId === null || monitor === null) return NTSTATUS.STATUS_NOT_SUPPORTED;
  const previous = monitor.page.latency(monitorId);
  if (!monitor.setLatency(monitorId, Latency)) return NTSTATUS.STATUS_NOT_SUPPORTED;
  OriginalLatency.value = previous;
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbChannelGetTargetDeviceObject (V2, no DDI page). Decision: the child
 * device object of the offer the channel is bound to; null before it is
 * bound (and for a bad handle).
 */
export function VmbChannelGetTargetDeviceObject(Channel: VMBCHANNEL): PDEVICE_OBJECT | null {
  return channelFrom(Channel)?.targetDevice ?? null;
}

/**
 * VmbChannelGetParentDeviceObject (V2, no DDI page). Decision: the
 * ParentDeviceObject given to VmbChannelAllocate (a host device object for a
 * server channel); null for a bad handle.
 */
export function VmbChannelGetParentDeviceObject(Channel: VMBCHANNEL): PDEVICE_OBJECT | KmclHostDeviceObject | null {
  return channelFrom(Channel)?.parentDevice ?? null;
}

/**
 * VmbChannelAllocateBounceBuffer (V3, no DDI page). Decision: a buffer of
 * `ByteCount` bytes from the pages VmbChannelInitSetBounceBufferSizes
 * reserved, in `BounceBuffer.value`. STATUS_INVALID_PARAMETER_1 unless the
 * channel is open with a pool; _2 for a size of 0 or above the per-buffer
 * maximum; _3 for a bad out-parameter; STATUS_INSUFFICIENT_RESOURCES when the
 * pool is short.
 */
export function VmbChannelAllocateBounceBuffer(
  Channel: VMBCHANNEL,
  ByteCount: number,
  BounceBuffer: Out<BounceBuffer | null>,
): NtStatus {
  const channel = channelFrom(Channel);
  const pool = channel?.bounceBuffers ?? null;
  if (pool === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isU32(ByteCount) || ByteCount === 0 || ByteCount > pool.maximumBufferPageCount * PAGE_SIZE) {
    return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  }
  if (!isOut(BounceBuffer)) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  const buffer = pool.allocate(ByteCount);
  if (typeof buffer === 'number') return buffer;
  BounceBuffer.value = buffer;
  return NTSTATUS.STATUS_SUCCESS;
}
