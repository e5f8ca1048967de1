/**
 * The KMCL client interface V1..V5: the interface query and tables, every
 * member function under its reference name, the device-object model, flags,
 * types, and the core pieces the idiomatic API builds on.
 */
export {
  KMCL_CLIENT_INTERFACE_TYPE,
  KMCL_CLIENT_INTERFACE_VERSION_LATEST,
  KMCL_CLIENT_INTERFACE_VERSION_V1,
  KMCL_CLIENT_INTERFACE_VERSION_V2,
  KMCL_CLIENT_INTERFACE_VERSION_V3,
  KMCL_CLIENT_INTERFACE_VERSION_V4,
  KMCL_CLIENT_INTERFACE_VERSION_V5,
  SIZEOF_KMCL_CLIENT_INTERFACE_V1,
  SIZEOF_KMCL_CLIENT_INTERFACE_V2,
  SIZEOF_KMCL_CLIENT_INTERFACE_V3,
  SIZEOF_KMCL_CLIENT_INTERFACE_V4,
  SIZEOF_KMCL_CLIENT_INTERFACE_V5,
  queryInterface,
  sizeofClientInterface,
  type KMCL_CLIENT_INTERFACE,
  type KMCL_CLIENT_INTERFACE_V1,
  type KMCL_CLIENT_INTERFACE_V2,
  type KMCL_CLIENT_INTERFACE_V3,
  type KMCL_CLIENT_INTERFACE_V4,
  type KMCL_CLIENT_INTERFACE_V5,
  type KmclClientFunctions,
} from './interface/query.js';
export { INTERFACE_SIZE, type INTERFACE, type PINTERFACE_REFERENCE } from './interface/interface-header.js';
export {
  KMCL_CLIENT_INTERFACE_ADDED_MEMBERS,
  KMCL_CLIENT_INTERFACE_V1_MEMBERS,
  KMCL_CLIENT_INTERFACE_V2_MEMBERS,
  KMCL_CLIENT_INTERFACE_V3_MEMBERS,
  KMCL_CLIENT_INTERFACE_V4_MEMBERS,
  KMCL_CLIENT_INTERFACE_V5_MEMBERS,
  clientInterfaceMembers,
  type KmclClientMemberName,
} from './interface/members.js';
export * from './interface/client-functions.js';
export * from './flags.js';
export * from './types.js';
export { KmclError } from './kmcl-error.js';
export {
  DEFAULT_MMIO_WINDOW,
  KmclDeviceObject,
  createVmbusDeviceObject,
  type MmioSpace,
  type MmioWindow,
  type PDEVICE_OBJECT,
  type VmbusContext,
  type VmbusDeviceObjectOptions,
} from './device-object.js';
export type {
  ChannelEndpoint,
  GuestBusPort,
  MonitorLatencyPort,
  OfferInfo,
  OpenChannelOptions,
  OpenChannelPort,
} from './bus-port.js';
export { realTimeScheduler, type KmclScheduler } from './kmcl-scheduler.js';
export { ExternalDataMapping } from './receive/external-data.js';
export { BounceBuffer } from './bounce-buffer.js';
export { VMB_CHANNEL_OBJECT_SIZE } from './channel/channel-allocate.js';
export { PACKET_OBJECT_HEADER_SIZE } from './packet/packet-functions.js';
export {
  DEFAULT_MAXIMUM_PACKET_SIZE,
  DEFAULT_RING_PAGE_COUNT,
  MAXIMUM_CLIENT_CONTEXT_SIZE,
  MAXIMUM_INLINE_PACKET_CONTEXT_SIZE,
} from './channel/channel-config.js';
export { channelFrom } from './handles.js';
export type { KmclChannel, ChannelCounters, ChannelLifecycle } from './channel/channel.js';
