/**
 * The members of KMCL_CLIENT_INTERFACE_V1..V5, in the order of the reference
 * (shared/reference/000_ceedec252aeac714.txt: the V1 structure's Syntax block,
 * then the members each nested _KMCL_CLIENT_INTERFACE_Vn adds). A version's
 * table holds its own members after those of every earlier version, as the
 * nested C structures lay them out.
 */

/** Members of KMCL_CLIENT_INTERFACE_V1, after its INTERFACE header. */
export const KMCL_CLIENT_INTERFACE_V1_MEMBERS = [
  'VmbChannelAllocate',
  'VmbChannelCleanup',
  'VmbChannelCreateGpadlFromBuffer',
  'VmbChannelCreateGpadlFromMdl',
  'VmbChannelDeleteGpadl',
  'VmbChannelDisable',
  'VmbChannelEnable',
  'VmbChannelGetInterfaceInstance',
  'VmbChannelGetMmioSpace',
  'VmbChannelGetPointer',
  'VmbChannelInitSetClientContextSize',
  'VmbChannelInitSetFlags',
  'VmbChannelInitSetFriendlyName',
  'VmbChannelInitSetMaximumExternalData',
  'VmbChannelInitSetMaximumPacketSize',
  'VmbChannelInitSetProcessPacketCallbacks',
  'VmbChannelInitSetStateChangeCallbacks',
  'VmbChannelPacketComplete',
  'VmbChannelPacketDeferToPassive',
  'VmbChannelPacketFail',
  'VmbChannelPacketGetExternalData',
  'VmbChannelPause',
  'VmbChannelSendSynchronousRequest',
  'VmbChannelSetIncomingProcessingAtPassive',
  'VmbChannelSetInterruptLatency',
  'VmbChannelSetPointer',
  'VmbChannelSetTransactionQuota',
  'VmbChannelSizeofPacket',
  'VmbChannelStart',
  'VmbClientChannelInitSetRingBufferPageCount',
  'VmbClientChannelInitSetTargetPnp',
  'VmbPacketAllocate',
  'VmbPacketFree',
  'VmbPacketGetChannel',
  'VmbPacketGetPointer',
  'VmbPacketInitialize',
  'VmbPacketSend',
  'VmbPacketSendWithExternalMdl',
  'VmbPacketSendWithExternalPfns',
  'VmbPacketSetCompletionRoutine',
  'VmbPacketSetPointer',
] as const;

/** Members _KMCL_CLIENT_INTERFACE_V2 adds. */
export const KMCL_CLIENT_INTERFACE_V2_MEMBERS = [
  'VmbChannelPacketGetClientContext',
  'VmbChannelGetTargetDeviceObject',
  'VmbChannelGetParentDeviceObject',
] as const;

/** Members _KMCL_CLIENT_INTERFACE_V3 adds. */
export const KMCL_CLIENT_INTERFACE_V3_MEMBERS = ['VmbChannelInitSetBounceBufferSizes', 'VmbChannelAllocateBounceBuffer'] as const;

/** Members _KMCL_CLIENT_INTERFACE_V4 adds. */
export const KMCL_CLIENT_INTERFACE_V4_MEMBERS = ['VmbChannelInitSetMaximumPacketCount', 'VmbChannelCreateGpadlFromPfnList'] as const;

/** Members _KMCL_CLIENT_INTERFACE_V5 adds. */
export const KMCL_CLIENT_INTERFACE_V5_MEMBERS = [
  'VmbChannelInitSetPrimaryChannel',
  'VmbChannelInitialize',
  'VmbChannelSetAllowableDpcCpuUsage',
  'VmbClientChannelInitSetTargetProcessorIndex',
  'VmbSizeofChannel',
  'VmbChannelInitSetInlinePacketContextSize',
  'VmbPacketGetInlinePacketContextPointer',
  'VmbChannelInitSetProcessPacketCallbacksEx',
  'VmbPacketSetCompletionRoutineEx',
] as const;

/** The members each version adds, index 0 for V1. */
export const KMCL_CLIENT_INTERFACE_ADDED_MEMBERS = [
  KMCL_CLIENT_INTERFACE_V1_MEMBERS,
  KMCL_CLIENT_INTERFACE_V2_MEMBERS,
  KMCL_CLIENT_INTERFACE_V3_MEMBERS,
  KMCL_CLIENT_INTERFACE_V4_MEMBERS,
  KMCL_CLIENT_INTERFACE_V5_MEMBERS,
] as const;

export type KmclClientMemberName = (typeof KMCL_CLIENT_INTERFACE_ADDED_MEMBERS)[number][number];

/** Every member of version `version` (1..5), in table order. */
export function clientInterfaceMembers(version: number): readonly KmclClientMemberName[] {
  return KMCL_CLIENT_INTERFACE_ADDED_MEMBERS.slice(0, version).flat();
}
