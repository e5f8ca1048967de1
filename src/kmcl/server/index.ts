/**
 * The KMCL server interface V1 and V5: its query type, versions and tables,
 * every server-only member function under its reference name, the host
 * device object server channels are allocated on, VMBus handles, flags and
 * callback types. The client members of the server tables are the client
 * interface's own functions (src/kmcl/index.ts).
 */
export {
  KMCL_SERVER_INTERFACE_TYPE,
  SIZEOF_KMCL_SERVER_INTERFACE_V1,
  SIZEOF_KMCL_SERVER_INTERFACE_V5,
  sizeofServerInterface,
  type KMCL_SERVER_INTERFACE,
  type KMCL_SERVER_INTERFACE_V1,
  type KMCL_SERVER_INTERFACE_V5,
  type KMCL_SERVER_ONLY_METHODS,
  type KmclServerOnlyFunctions,
} from '../interface/server-tables.js';
export {
  KMCL_SERVER_INTERFACE_VERSION_V1,
  KMCL_SERVER_INTERFACE_VERSION_V5,
  KMCL_SERVER_ONLY_METHODS_MEMBERS,
  KMCL_SERVER_ONLY_METHODS_V5_MEMBERS,
  serverInterfaceMembers,
  type KmclServerMemberName,
  type KmclServerOnlyMemberName,
} from '../interface/server-members.js';
export * from '../interface/server-functions.js';
export * from './server-flags.js';
export * from './server-types.js';
export {
  KmclHostDeviceObject,
  RESCIND_RELEASE_TIMEOUT,
  createHostDeviceObject,
  type HostDeviceObjectOptions,
} from './host-device-object.js';
export type { HostBusPort } from './host-bus-port.js';
export { KmclVmbusHandle, type HANDLE, type VmbusHandleMode } from './vmbus-handle.js';
export { MAXIMUM_TARGET_VTL } from './server-init-setters.js';
export { CHANNEL_CHUNK_FORMAT, MAXIMUM_PACKET_VSP_STATE, PACKET_STATE_FORMAT } from './channel-saved-state.js';
