/**
 * Every client interface function under its member name: what the tables of
 * KMCL_CLIENT_INTERFACE_V1..V5 point to (query.ts takes them from this
 * module's namespace), and what callers may import directly.
 */
export { VmbChannelAllocate, VmbChannelInitialize, VmbSizeofChannel } from '../channel/channel-allocate.js';
export {
  VmbChannelAllocateBounceBuffer,
  VmbChannelGetInterfaceInstance,
  VmbChannelGetMmioSpace,
  VmbChannelGetParentDeviceObject,
  VmbChannelGetPointer,
  VmbChannelGetTargetDeviceObject,
  VmbChannelSetInterruptLatency,
  VmbChannelSetPointer,
} from '../channel/channel-queries.js';
export {
  VmbChannelInitSetPrimaryChannel,
  VmbClientChannelInitSetRingBufferPageCount,
  VmbClientChannelInitSetTargetPnp,
  VmbClientChannelInitSetTargetProcessorIndex,
} from '../channel/client-init-setters.js';
export {
  VmbChannelInitSetBounceBufferSizes,
  VmbChannelInitSetClientContextSize,
  VmbChannelInitSetFlags,
  VmbChannelInitSetFriendlyName,
  VmbChannelInitSetInlinePacketContextSize,
  VmbChannelInitSetMaximumExternalData,
  VmbChannelInitSetMaximumPacketCount,
  VmbChannelInitSetMaximumPacketSize,
  VmbChannelInitSetProcessPacketCallbacks,
  VmbChannelInitSetProcessPacketCallbacksEx,
  VmbChannelInitSetStateChangeCallbacks,
} from '../channel/init-setters.js';
export { VmbChannelCleanup, VmbChannelDisable, VmbChannelEnable } from '../channel/lifecycle.js';
export { VmbChannelPause, VmbChannelStart } from '../channel/pause-start.js';
export {
  VmbChannelCreateGpadlFromBuffer,
  VmbChannelCreateGpadlFromMdl,
  VmbChannelCreateGpadlFromPfnList,
  VmbChannelDeleteGpadl,
} from '../gpadl.js';
export {
  VmbChannelSizeofPacket,
  VmbPacketAllocate,
  VmbPacketFree,
  VmbPacketGetChannel,
  VmbPacketGetInlinePacketContextPointer,
  VmbPacketGetPointer,
  VmbPacketInitialize,
  VmbPacketSetCompletionRoutine,
  VmbPacketSetCompletionRoutineEx,
  VmbPacketSetPointer,
} from '../packet/packet-functions.js';
export { VmbPacketSend, VmbPacketSendWithExternalMdl, VmbPacketSendWithExternalPfns } from '../packet/send.js';
export {
  VmbChannelPacketComplete,
  VmbChannelPacketDeferToPassive,
  VmbChannelPacketFail,
  VmbChannelPacketGetClientContext,
  VmbChannelPacketGetExternalData,
  VmbChannelSetAllowableDpcCpuUsage,
  VmbChannelSetIncomingProcessingAtPassive,
  VmbChannelSetTransactionQuota,
} from '../receive/incoming-functions.js';
export { VmbChannelSendSynchronousRequest } from '../sync-request.js';
