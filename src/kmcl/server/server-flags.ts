/**
 * Flag values of the server-only functions, from vmbuskernelmodeclientlibapi.h
 * (its "VMBus Channel Initialization Flags - Server Endpoint" section; the
 * VmbServerChannelInitSetFlags page names the function, the header gives the bits).
 */

/** The offer is made to the host's own VMBus (a loopback channel). */
export const VMBUS_SERVER_CHANNEL_INIT_FLAG_LOOPBACK_OFFER = 0x1;
/** The guest's PnP manager offers a device interface with the channel type's GUID (a file handle to the channel). */
export const VMBUS_SERVER_CHANNEL_INIT_FLAG_ENUMERATE_DEVICE_INTERFACE = 0x2;
/** The channel is offered in pipe mode (ReadFile / WriteFile move packets). */
export const VMBUS_SERVER_CHANNEL_INIT_FLAG_OFFER_AS_PIPE = 0x4;
/** After a save and restore the channel is offered anew and the old instance abandoned. */
export const VMBUS_SERVER_CHANNEL_INIT_FLAG_FORCE_NEW_CHANNEL = 0x8;
/** The channel provides a socket interface (an hvsocket offer). */
export const VMBUS_SERVER_CHANNEL_INIT_FLAG_TLNPI_PROVIDER_OFFER = 0x10;
/** Every server init flag. */
export const VMBUS_SERVER_CHANNEL_INIT_FLAGS =
  VMBUS_SERVER_CHANNEL_INIT_FLAG_LOOPBACK_OFFER |
  VMBUS_SERVER_CHANNEL_INIT_FLAG_ENUMERATE_DEVICE_INTERFACE |
  VMBUS_SERVER_CHANNEL_INIT_FLAG_OFFER_AS_PIPE |
  VMBUS_SERVER_CHANNEL_INIT_FLAG_FORCE_NEW_CHANNEL |
  VMBUS_SERVER_CHANNEL_INIT_FLAG_TLNPI_PROVIDER_OFFER;

