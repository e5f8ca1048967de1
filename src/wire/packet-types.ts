/**
 * VMBus ring packet types (`vmpacket_descriptor.type`), named as in Linux
 * `enum vmbus_packet_type` (linux-vmbus.md §A.2; openvmm-vmbus.md §6.3).
 *
 * In-band (6), transfer pages (7), GPA direct (9) and completion (0xB) are the
 * types Hyper-V and OpenVMM exchange on data channels; the others are named so
 * tools can print them, and `decodePacket` keeps their bytes unparsed.
 */
export const PACKET_TYPE = {
  VM_PKT_INVALID: 0x0,
  VM_PKT_SYNCH: 0x1,
  VM_PKT_ADD_XFER_PAGESET: 0x2,
  VM_PKT_RM_XFER_PAGESET: 0x3,
  VM_PKT_ESTABLISH_GPADL: 0x4,
  VM_PKT_TEARDOWN_GPADL: 0x5,
  VM_PKT_DATA_INBAND: 0x6,
  VM_PKT_DATA_USING_XFER_PAGES: 0x7,
  VM_PKT_DATA_USING_GPADL: 0x8,
  VM_PKT_DATA_USING_GPA_DIRECT: 0x9,
  VM_PKT_CANCEL_REQUEST: 0xa,
  VM_PKT_COMP: 0xb,
  VM_PKT_DATA_USING_ADDITIONAL_PKT: 0xc,
  VM_PKT_ADDITIONAL_DATA: 0xd,
} as const;

export type PacketTypeName = keyof typeof PACKET_TYPE;
export type PacketType = (typeof PACKET_TYPE)[PacketTypeName];

/** The highest packet type with a name; anything above is `unknown-type`. */
export const MAX_KNOWN_PACKET_TYPE = 0xd;

const NAMES: readonly PacketTypeName[] = (Object.keys(PACKET_TYPE) as PacketTypeName[]).sort(
  (a, b) => PACKET_TYPE[a] - PACKET_TYPE[b],
);

export function isKnownPacketType(value: number): value is PacketType {
  return Number.isInteger(value) && value >= 0 && value <= MAX_KNOWN_PACKET_TYPE;
}

/** The Linux name of a packet type, or `0xNNNN` for an unknown one. */
export function packetTypeName(value: number): string {
  return isKnownPacketType(value) ? NAMES[value]! : `0x${value.toString(16).padStart(4, '0')}`;
}
