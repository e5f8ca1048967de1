/**
 * Turning a handle the driver passed back into the object behind it, or null
 * for anything else: a wrong type, a freed or cleaned-up object, storage that
 * holds no object. The interface functions answer null with
 * STATUS_INVALID_PARAMETER_1 (or the C function's "nothing" value).
 */
import { KmclChannel } from './channel/channel.js';
import { KmclPacket } from './packet/packet.js';
import { INCOMING_DELIVERED, KmclIncomingPacket } from './receive/incoming-packet.js';
import type { VMBCHANNEL, VMBPACKET, VMBPACKETCOMPLETION } from './types.js';

/** Storage given to VmbChannelInitialize → the channel initialized in it. */
export const channelsInStorage = new WeakMap<Uint8Array, KmclChannel>();
/** Storage given to VmbPacketInitialize → the packet initialized in it. */
export const packetsInStorage = new WeakMap<Uint8Array, KmclPacket>();

export function channelFrom(handle: VMBCHANNEL | unknown): KmclChannel | null {
  if (handle instanceof KmclChannel) return handle.live ? handle : null;
  if (handle instanceof Uint8Array) {
    const channel = channelsInStorage.get(handle);
    return channel !== undefined && channel.live ? channel : null;
  }
  return null;
}

export function packetFrom(handle: VMBPACKET | unknown): KmclPacket | null {
  if (handle instanceof KmclPacket) return handle.live && handle.pooled ? handle : null;
  if (handle instanceof Uint8Array) {
    const packet = packetsInStorage.get(handle);
    return packet !== undefined && packet.live ? packet : null;
  }
  return null;
}

/** An incoming packet the driver still owns (delivered and not yet completed). */
export function incomingFrom(handle: VMBPACKETCOMPLETION | unknown): KmclIncomingPacket | null {
  return handle instanceof KmclIncomingPacket && handle.ownedByDriver ? handle : null;
}

/** An incoming packet as its process-packet call handed it to the driver: delivered, not deferred and not finished. */
export function deliveredIncomingFrom(handle: VMBPACKETCOMPLETION | unknown): KmclIncomingPacket | null {
  return handle instanceof KmclIncomingPacket && handle.state === INCOMING_DELIVERED ? handle : null;
}
