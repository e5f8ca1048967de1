/**
 * Flag values of the KMCL client interface, from vmbuskernelmodeclientlibapi.h
 * (the DDI pages in shared/reference/kmcl-ddi name them; the header gives the bits).
 */

/** VmbPacketSend*: the packet is complete only when the peer sends a completion packet back. */
export const VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION = 0x1;
/** VmbPacketSendWithExternalMdl: take MdlLength even past the MDL's byte count, up to the end of its last page. */
export const VMBUS_CHANNEL_FORMAT_FLAG_FORCE_MDL_LENGTH = 0x2;
/** VmbPacketSend*: the inline buffer must be copied at once (the caller may reuse it on return). */
export const VMBUS_CHANNEL_FORMAT_FLAG_PAGED_BUFFER = 0x4;
/** Every format flag. */
export const VMBUS_CHANNEL_FORMAT_FLAGS =
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION |
  VMBUS_CHANNEL_FORMAT_FLAG_FORCE_MDL_LENGTH |
  VMBUS_CHANNEL_FORMAT_FLAG_PAGED_BUFFER;

/** VmbChannelCreateGpadlFrom*: the server may only map the GPADL read-only. */
export const VMBUS_CHANNEL_GPADL_FLAG_READ_ONLY = 0x1;
/** The DDI pages spell the same bit VMBUS_CHANNEL_GPADL_READ_ONLY. */
export const VMBUS_CHANNEL_GPADL_READ_ONLY = VMBUS_CHANNEL_GPADL_FLAG_READ_ONLY;
export const VMBUS_CHANNEL_GPADL_FLAGS = VMBUS_CHANNEL_GPADL_FLAG_READ_ONLY;

/** VmbChannelInitSetFlags: the channel runs in pipe mode (an 8-byte pipe header on every data packet). */
export const VMBUS_CHANNEL_INIT_FLAG_IS_PIPE = 0x1;
export const VMBUS_CHANNEL_INIT_FLAGS = VMBUS_CHANNEL_INIT_FLAG_IS_PIPE;

/** EvtVmbChannelProcessPacket Flags: the packet references external data (VmbChannelPacketGetExternalData). */
export const VMBUS_CHANNEL_PROCESS_PACKET_FLAG_EXTERNAL_DATA = 0x1;
export const VMBUS_CHANNEL_PROCESS_PACKET_FLAGS = VMBUS_CHANNEL_PROCESS_PACKET_FLAG_EXTERNAL_DATA;

/** VmbChannelPacketGetExternalData: map the external data read-only. */
export const VMBUS_CHANNEL_PACKET_EXTERNAL_DATA_FLAG_READ_ONLY = 0x1;
export const VMBUS_CHANNEL_PACKET_EXTERNAL_DATA_FLAGS = VMBUS_CHANNEL_PACKET_EXTERNAL_DATA_FLAG_READ_ONLY;
