/**
 * Reads one data packet the peer sent (already copied out of the ring by the
 * reader, so nothing here can change under us) into an incoming packet
 * object: the payload, its GPA ranges, its pipe framing. Peer input: every
 * count and length is checked; a problem is returned, never thrown.
 */
import { WireError } from '../../wire/wire-error.js';
import { decodeGpaRanges } from '../../wire/gpa-range.js';
import { GPA_DIRECT_HEADER_SIZE } from '../../wire/packet.js';
import { PACKET_DESCRIPTOR_SIZE } from '../../wire/packet-descriptor.js';
import { PACKET_TYPE } from '../../wire/packet-types.js';
import { gpaRangesFromWire } from '../../memory/index.js';
import type { RingPacketView } from '../../ring/index.js';
import { VMBUS_CHANNEL_PROCESS_PACKET_FLAG_EXTERNAL_DATA } from '../flags.js';
import { PIPE_HEADER_SIZE } from '../channel/channel-config.js';
import type { KmclIncomingPacket } from './incoming-packet.js';

/** Pipe packet type of a whole message (openvmm-vmbus.md §6.3, `PipeHeader`: 1 DATA). */
export const PIPE_PACKET_TYPE_DATA = 1;

/** Fills `incoming` from `view`; returns what is wrong with the packet, or null. */
export function parseIncoming(view: RingPacketView, incoming: KmclIncomingPacket, pipeMode: boolean): string | null {
  const type = view.packetType;
  const bytes = view.bytes;
  let flags = 0;
  incoming.ranges = null;
  if (type === PACKET_TYPE.VM_PKT_DATA_USING_GPA_DIRECT) {
    const words = new DataView(bytes.buffer, bytes.byteOffset, view.payloadOffset);
    const rangeCount = words.getUint32(PACKET_DESCRIPTOR_SIZE + 4, true);
    if (rangeCount === 0) return 'GPA-direct packet with no ranges';
    const start = PACKET_DESCRIPTOR_SIZE + GPA_DIRECT_HEADER_SIZE;
    const ranges = decodeGpaRanges(bytes.subarray(start, view.payloadOffset), rangeCount);
    if (ranges instanceof WireError) return ranges.message;
    incoming.ranges = gpaRangesFromWire(ranges);
    flags = VMBUS_CHANNEL_PROCESS_PACKET_FLAG_EXTERNAL_DATA;
  } else if (type === PACKET_TYPE.VM_PKT_DATA_USING_XFER_PAGES) {
    flags = VMBUS_CHANNEL_PROCESS_PACKET_FLAG_EXTERNAL_DATA;
  } else if (type !== PACKET_TYPE.VM_PKT_DATA_INBAND) {
    return `packet type ${type} is not a data packet`;
  }
  let offset = view.payloadOffset;
  let length = view.payloadLength;
  if (pipeMode) {
    if (type !== PACKET_TYPE.VM_PKT_DATA_INBAND) return 'pipe-mode channels carry in-band packets only';
    if (length < PIPE_HEADER_SIZE) return `pipe packet of ${length} bytes has no pipe header`;
    const header = new DataView(bytes.buffer, bytes.byteOffset + offset, PIPE_HEADER_SIZE);
    const pipeType = header.getUint32(0, true);
    const pipeLength = header.getUint32(4, true);
    if (pipeType !== PIPE_PACKET_TYPE_DATA) return `pipe packet type ${pipeType} is not DATA`;
    if (pipeLength > length - PIPE_HEADER_SIZE) return `pipe header claims ${pipeLength} bytes, ${length - PIPE_HEADER_SIZE} follow`;
    offset += PIPE_HEADER_SIZE;
    length = pipeLength;
  }
  incoming.packetType = type;
  incoming.flags = flags;
  incoming.transactionIdLo = view.transactionIdLo;
  incoming.transactionIdHi = view.transactionIdHi;
  incoming.completionRequested = view.completionRequested;
  incoming.setPayload(bytes, offset, length);
  return null;
}
