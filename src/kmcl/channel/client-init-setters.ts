/**
 * The init-time setters only a client endpoint has: ring sizes, the target
 * offer (by PnP interface, by primary channel) and the target processor.
 * Same rules as init-setters.ts: disabled channels only, else (or for a
 * server endpoint) STATUS_INVALID_PARAMETER_1. VmbChannelInitSetPrimaryChannel
 * is a V5 member of both ends and lives here beside the client's targets.
 */
import { MAX_VPS } from '../../hv/index.js';
import { parseGuid, type Guid } from '../../wire/guid.js';
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import { RING_PAGE_SIZE } from '../../wire/ring-control.js';
import { WireError } from '../../wire/wire-error.js';
import { isOptionalFunction, isU32 } from '../arguments.js';
import { channelFrom } from '../handles.js';
import type { PFN_VMB_CHANNEL_PNP_FAILURE, VMBCHANNEL } from '../types.js';
import type { KmclChannel } from './channel.js';
import { configurableChannel } from './init-setters.js';

/** A ring is a control page and at least one data page. */
export const MINIMUM_RING_PAGE_COUNT = 2;
/** Ring indices are u32 byte offsets into the data pages. */
export const MAXIMUM_RING_PAGE_COUNT = 1 + Math.floor(0xffff_ffff / RING_PAGE_SIZE);

function clientChannel(handle: unknown): KmclChannel | null {
  const channel = configurableChannel(handle);
  return channel !== null && !channel.isServer ? channel : null;
}

function isRingPageCount(value: unknown): boolean {
  return isU32(value) && value >= MINIMUM_RING_PAGE_COUNT && value <= MAXIMUM_RING_PAGE_COUNT;
}

/**
 * VmbClientChannelInitSetRingBufferPageCount: pages (control page included)
 * of each ring the guest donates. Fewer than 2 is STATUS_INVALID_PARAMETER_2 /
 * _3. The channel opens with bigger rings if the maximum packet size or
 * external data limits need them (the header: the KMCL sees to it).
 */
export function VmbClientChannelInitSetRingBufferPageCount(
  Channel: VMBCHANNEL,
  IncomingPageCount: number,
  OutgoingPageCount: number,
): NtStatus {
  const channel = clientChannel(Channel);
  if (channel === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isRingPageCount(IncomingPageCount)) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  if (!isRingPageCount(OutgoingPageCount)) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  channel.config.incomingRingPages = IncomingPageCount;
  channel.config.outgoingRingPages = OutgoingPageCount;
  return NTSTATUS.STATUS_SUCCESS;
}

/** A GUID argument in canonical form (any case accepted), or null when it is none. */
export function guidOf(value: unknown): Guid | null {
  if (typeof value !== 'string') return null;
  const guid = parseGuid(value);
  return guid instanceof WireError ? null : guid;
}

/**
 * VmbClientChannelInitSetTargetPnp: open the first offer of `InterfaceType`
 * (and `InterfaceInstance`, when given) instead of the parent device's offer;
 * VmbChannelEnable waits for it to be offered. `PnpFailureCallback` hears of
 * an open that fails after the offer was found. Bad GUIDs are
 * STATUS_INVALID_PARAMETER_2 / _3, a callback that is not a function _4.
 */
export function VmbClientChannelInitSetTargetPnp(
  Channel: VMBCHANNEL,
  InterfaceType: Guid,
  InterfaceInstance: Guid | null,
  PnpFailureCallback: PFN_VMB_CHANNEL_PNP_FAILURE | null,
): NtStatus {
  const channel = clientChannel(Channel);
  if (channel === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  const interfaceId = guidOf(InterfaceType);
  if (interfaceId === null) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  const instanceId = InterfaceInstance === null || InterfaceInstance === undefined ? undefined : guidOf(InterfaceInstance);
  if (instanceId === null) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  if (!isOptionalFunction(PnpFailureCallback)) return NTSTATUS.STATUS_INVALID_PARAMETER_4;
  channel.config.target = { interfaceId, instanceId, pnpFailure: PnpFailureCallback ?? null };
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbChannelInitSetPrimaryChannel (V5, no DDI page). Decision: makes this
 * channel a subchannel of `PrimaryChannel`. A client channel opens the next
 * unclaimed subchannel offer (same interface and instance, subchannel index
 * ≥ 1) once the primary is bound to its offer; a server channel is offered as
 * the primary's next subchannel (src/kmcl/server/server-offer.ts).
 * STATUS_INVALID_PARAMETER_2 for a primary that is not a live channel of the
 * same VMBus device and endpoint kind, is this channel, or is itself a subchannel.
 */
export function VmbChannelInitSetPrimaryChannel(Channel: VMBCHANNEL, PrimaryChannel: VMBCHANNEL): NtStatus {
  const channel = configurableChannel(Channel);
  if (channel === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  const primary = channelFrom(PrimaryChannel);
  if (
    primary === null ||
    primary === channel ||
    primary.isServer !== channel.isServer ||
    primary.config.primaryChannel !== null ||
    primary.parentDevice.vmbusDevice !== channel.parentDevice.vmbusDevice
  ) {
    return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  }
  channel.config.primaryChannel = primary;
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbClientChannelInitSetTargetProcessorIndex (V5, no DDI page). Decision:
 * the virtual processor the host signals for this channel (OPEN_CHANNEL's
 * target VP); an index at or beyond the hypervisor's VP limit is STATUS_INVALID_PARAMETER_2.
 */
export function VmbClientChannelInitSetTargetProcessorIndex(Channel: VMBCHANNEL, ProcessorIndex: number): NtStatus {
  const channel = clientChannel(Channel);
  if (channel === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isU32(ProcessorIndex) || ProcessorIndex >= MAX_VPS) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  channel.config.targetProcessorIndex = ProcessorIndex;
  return NTSTATUS.STATUS_SUCCESS;
}
