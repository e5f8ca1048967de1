/**
 * Every server-only interface function under its member name: what
 * KMCL_SERVER_ONLY_METHODS (and its V5 addition) point to (server-tables.ts
 * takes them from this module's namespace), and what callers may import directly.
 */
export { VmbChannelMapGpadl, VmbChannelUnmapGpadl } from '../server/gpadl-map.js';
export { VmbChannelRestoreFromBuffer } from '../server/channel-restore.js';
export { VmbChannelSaveBegin, VmbChannelSaveContinue, VmbChannelSaveEnd } from '../server/channel-save.js';
export { VmbConvertVmbusHandleToKernelHandle } from '../server/vmbus-handle.js';
export { VmbPacketRestore } from '../server/packet-restore.js';
export {
  VmbServerChannelInitSetFlags,
  VmbServerChannelInitSetMmioMegabytes,
  VmbServerChannelInitSetSaveRestorePacketCallbacks,
  VmbServerChannelInitSetSaveRestorePacketCallbacksEx,
  VmbServerChannelInitSetTargetInterfaceId,
  VmbServerChannelInitSetTargetVtl,
  VmbServerChannelInitSetVmbusHandle,
} from '../server/server-init-setters.js';
