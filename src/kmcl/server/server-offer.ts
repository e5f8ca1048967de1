/**
 * What a server channel offers: the checks VmbChannelEnable makes of its
 * settings, and the offer they become on the guest's bus: interface and
 * instance (a subchannel's come from its primary), the channel type its
 * VMBUS_SERVER_CHANNEL_INIT_FLAGS select, the MMIO space it asks the guest to
 * reserve.
 */
import type { ChannelType } from '../../bus/index.js';
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import type { KmclChannel } from '../channel/channel.js';
import type { HostOfferOptions } from './host-bus-port.js';
import type { ServerChannel } from './server-channel.js';
import type { KmclHostDeviceObject } from './host-device-object.js';
import {
  VMBUS_SERVER_CHANNEL_INIT_FLAG_ENUMERATE_DEVICE_INTERFACE,
  VMBUS_SERVER_CHANNEL_INIT_FLAG_LOOPBACK_OFFER,
  VMBUS_SERVER_CHANNEL_INIT_FLAG_OFFER_AS_PIPE,
  VMBUS_SERVER_CHANNEL_INIT_FLAG_TLNPI_PROVIDER_OFFER,
} from './server-flags.js';

/** A checked offer: where it goes and what it is. */
export interface PlannedOffer {
  readonly device: KmclHostDeviceObject;
  readonly options: HostOfferOptions;
  /** The primary channel of a subchannel, else null. */
  readonly primary: ServerChannel | null;
}

/**
 * The channel type the server init flags select, as OFFER_CHANNEL's flags
 * and user-defined bytes carry it (the bus's ChannelType, after OpenVMM's
 * mapping): a socket provider is an hvsocket offer the guest accepts; pipe
 * mode with a device interface is a message-mode named pipe (KMCL pipes move
 * datagrams); pipe mode alone a plain device with pipe packets; a device
 * interface alone an interface offer.
 */
export function channelTypeOf(flags: number): ChannelType {
  if ((flags & VMBUS_SERVER_CHANNEL_INIT_FLAG_TLNPI_PROVIDER_OFFER) !== 0) {
    return { kind: 'hvsocket', isConnect: true, isForContainer: false };
  }
  const pipe = (flags & VMBUS_SERVER_CHANNEL_INIT_FLAG_OFFER_AS_PIPE) !== 0;
  const deviceInterface = (flags & VMBUS_SERVER_CHANNEL_INIT_FLAG_ENUMERATE_DEVICE_INTERFACE) !== 0;
  if (pipe && deviceInterface) return { kind: 'pipe', messageMode: true };
  if (pipe) return { kind: 'device', pipePackets: true };
  if (deviceInterface) return { kind: 'interface' };
  return { kind: 'device' };
}

/**
 * Checks that a disabled server channel can be offered and plans its offer,
 * or returns why not. Decisions:
 * - STATUS_INVALID_DEVICE_STATE: no target interface (VmbServerChannelInitSetTargetInterfaceId),
 *   a target VTL the guest's bus does not serve, or a subchannel whose primary is not offered;
 * - STATUS_NOT_SUPPORTED: a loopback offer (this host has no VMBus of its own to offer to), or
 *   bounce buffers (they are guest pages a client reserves; the host has none to give);
 * - a subchannel is offered to its primary's guest with its primary's interface and instance,
 *   under the lowest subchannel index (from 1) none of the primary's enabled subchannels holds.
 */
export function planOffer(channel: KmclChannel, server: ServerChannel): PlannedOffer | NtStatus {
  if ((server.flags & VMBUS_SERVER_CHANNEL_INIT_FLAG_LOOPBACK_OFFER) !== 0) return NTSTATUS.STATUS_NOT_SUPPORTED;
  if (channel.config.bounceBuffers !== null) return NTSTATUS.STATUS_NOT_SUPPORTED;
  const primaryChannel = channel.config.primaryChannel;
  const primary = primaryChannel?.server ?? null;
  if (primaryChannel !== null && (primary === null || primary.offer === null || primaryChannel.lifecycle === 'closing')) {
    return NTSTATUS.STATUS_INVALID_DEVICE_STATE;
  }
  const device = primary?.device ?? server.device;
  const interfaceId = primary?.interfaceId ?? server.interfaceId;
  const instanceId = primary?.instanceId ?? server.instanceId;
  if (interfaceId === null || instanceId === null || server.targetVtl !== device.vtl) return NTSTATUS.STATUS_INVALID_DEVICE_STATE;
  const options: HostOfferOptions = {
    interfaceId,
    instanceId,
    channelType: channelTypeOf(server.flags),
    subchannelIndex: primary === null ? 0 : freeSubchannelIndex(primary),
    mmioMegabytes: server.mmioMegabytes,
    mmioMegabytesOptional: server.mmioMegabytesOptional,
  };
  return { device, options, primary };
}

function freeSubchannelIndex(primary: ServerChannel): number {
  const taken = new Set([...primary.subchannels].map((sub) => sub.server?.subchannelIndex));
  let index = 1;
  while (taken.has(index)) index++;
  return index;
}
