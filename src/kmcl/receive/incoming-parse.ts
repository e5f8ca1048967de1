/**
 * Reads one data packet the peer sent (already copied out of the ring by the
 * reader, so nothing here can change under us) into an incoming packet
 * object: the payload, its GPA ranges, its pipe framing. Peer input: every
 * count and length is checked; a problem is returned, never thrown.
 */
import { WireError } from '../../wire/wire-error.js';
import { GPA_DIRECT_HEADER_SIZE } from '../../wire/packet.js';
import { PACKET_DESCRIPTOR_SIZE } from '../../wire/packet-descriptor.js';
import { PACKET_TYPE } from '../../wire/packet-types.js';
import { gpaRangesFromBytes } from '../../memory/index.js';
import type { RingPacketView } from '../../ring/index.js';
import { VMBUS_CHANNEL_PROCESS_PACKET_FLAG_EXTERNAL_DATA } from '../flags.js';
import { PIPE_HEADER_SIZE } from '../channel/channel-config.js';
import type { KmclIncomingPacket } from './incoming-packet.js';

/** Pipe packet type of a whole message (openvmm-vmbus.md §6.3, `PipeHeader`: 1 DATA). */
export const PIPE_PACKET_TYPE_DATA = 1;

/**
 * Fills `incoming` from `view`; returns what is wrong with the packet, or null.
 * External data and pipe framing are parsed out of line: the in-band packet's
 * path stays under V8's inlining size, so it inlines into the drain.
 */
export function parseIncoming(view: RingPacketView, incoming: KmclIncomingPacket, pipeMode: boolean): string | null {
  const type = view.packetType;
  let flags = 0;
  incoming.ranges = null;
  if (type !== PACKET_TYPE.VM_PKT_DATA_INBAND) {
    const external = externalDataFlags(view, incoming);
    if (typeof external === 'string') return external;
    flags = external;
  }
  incoming.packetType = type;
  incoming.flags = flags;
  incoming.transactionIdLo = view.transactionIdLo;
  incoming.transactionIdHi = view.transactionIdHi;
  incoming.completionRequested = view.completionRequested;
  if (pipeMode) return setPipePayload(view, incoming);
  incoming.setPayload(view.bytes, view.units, view.payloadOffset, view.payloadLength);
  return null;
}

/** A data packet that is not in-band: its GPA ranges into `incoming`, and its process-packet flags; or its problem. */
function externalDataFlags(view: RingPacketView, incoming: KmclIncomingPacket): number | string {
  const type = view.packetType;
  if (type === PACKET_TYPE.VM_PKT_DATA_USING_GPA_DIRECT) {
    const bytes = view.bytes;
    const packetStart = view.start;
    const words = new DataView(bytes.buffer, bytes.byteOffset + packetStart, view.payloadOffset - packetStart);
    const rangeCount = words.getUint32(PACKET_DESCRIPTOR_SIZE + 4, true);
    if (rangeCount === 0) return 'GPA-direct packet with no ranges';
    const start = packetStart + PACKET_DESCRIPTOR_SIZE + GPA_DIRECT_HEADER_SIZE;
    // Page numbers as plain numbers: no BigInt per page on the GPA-direct receive path.
    const ranges = gpaRangesFromBytes(bytes.subarray(start, view.payloadOffset), rangeCount);
    if (ranges instanceof WireError) return ranges.message;
    incoming.ranges = ranges;
    return VMBUS_CHANNEL_PROCESS_PACKET_FLAG_EXTERNAL_DATA;
  }
  if (type === PACKET_TYPE.VM_PKT_DATA_USING_XFER_PAGES) return VMBUS_CHANNEL_PROCESS_PACKET_FLAG_EXTERNAL_DATA;
  return `packet type ${type} is not a data packet`;
}

/** The message inside a pipe packet's framing (openvmm-vmbus.md §6.3 PipeHeader: type u32, len u32) as the payload; or its problem. */
function setPipePayload(view: RingPacketView, incoming: KmclIncomingPacket): string | null {
  const bytes = view.bytes;
  const offset = view.payloadOffset;
  const length = view.payloadLength;
  if (view.packetType !== PACKET_TYPE.VM_PKT_DATA_INBAND) return 'pipe-mode channels carry in-band packets only';
  if (length < PIPE_HEADER_SIZE) return `pipe packet of ${length} bytes has no pipe header`;
  const header = new DataView(bytes.buffer, bytes.byteOffset + offset, PIPE_HEADER_SIZE);
  const pipeType = header.getUint32(0, true);
  const pipeLength = header.getUint32(4, true);
  if (pipeType !== PIPE_PACKET_TYPE_DATA) return `pipe packet type ${pipeType} is not DATA`;
  if (pipeLength > length - PIPE_HEADER_SIZE) return `pipe header claims ${pipeLength} bytes, ${length - PIPE_HEADER_SIZE} follow`;
  incoming.setPayload(bytes, view.units, offset + PIPE_HEADER_SIZE, pipeLength);
  return null;
}
