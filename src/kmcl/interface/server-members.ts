/**
 * The members the server interface adds to the client's, in the order of
 * the reference: KMCL_SERVER_ONLY_METHODS as its page lists them
 * (shared/reference/kmcl-ddi/ns-vmbuskernelmodeclientlibapi-_kmcl_server_only_methods.md,
 * the -struct-fields headings), and the one member _KMCL_SERVER_ONLY_METHODS_V5
 * adds (shared/reference/000_ceedec252aeac714.txt, its field heading).
 *
 * KMCL_SERVER_INTERFACE_V1 is KMCL_CLIENT_INTERFACE_V1 followed by
 * KMCL_SERVER_ONLY_METHODS (the server-only page's C definition).
 * KMCL_SERVER_INTERFACE_V5 (the reference names its parts
 * KMCL_CLIENT_INTERFACE_V5 and KMCL_SERVER_ONLY_METHODS; decision: the V5
 * server-only member follows them, as each client version's members follow
 * the earlier ones) is the client V1..V5 members, KMCL_SERVER_ONLY_METHODS,
 * then VmbServerChannelInitSetSaveRestorePacketCallbacksEx.
 */
import { clientInterfaceMembers, type KmclClientMemberName } from './members.js';

/** Members of KMCL_SERVER_ONLY_METHODS. */
export const KMCL_SERVER_ONLY_METHODS_MEMBERS = [
  'VmbChannelMapGpadl',
  'VmbChannelRestoreFromBuffer',
  'VmbChannelSaveBegin',
  'VmbChannelSaveContinue',
  'VmbChannelSaveEnd',
  'VmbChannelUnmapGpadl',
  'VmbConvertVmbusHandleToKernelHandle',
  'VmbPacketRestore',
  'VmbServerChannelInitSetFlags',
  'VmbServerChannelInitSetMmioMegabytes',
  'VmbServerChannelInitSetSaveRestorePacketCallbacks',
  'VmbServerChannelInitSetTargetInterfaceId',
  'VmbServerChannelInitSetTargetVtl',
  'VmbServerChannelInitSetVmbusHandle',
] as const;

/** Members _KMCL_SERVER_ONLY_METHODS_V5 adds. */
export const KMCL_SERVER_ONLY_METHODS_V5_MEMBERS = ['VmbServerChannelInitSetSaveRestorePacketCallbacksEx'] as const;

export type KmclServerOnlyMemberName =
  | (typeof KMCL_SERVER_ONLY_METHODS_MEMBERS)[number]
  | (typeof KMCL_SERVER_ONLY_METHODS_V5_MEMBERS)[number];

export type KmclServerMemberName = KmclClientMemberName | KmclServerOnlyMemberName;

/** KMCL_SERVER_INTERFACE_VERSION_V1 and _V5: the two server tables the reference defines. */
export const KMCL_SERVER_INTERFACE_VERSION_V1 = 1;
export const KMCL_SERVER_INTERFACE_VERSION_V5 = 5;

/** Every member of server interface `version` (1 or 5), in table order; empty for another version. */
export function serverInterfaceMembers(version: number): readonly KmclServerMemberName[] {
  switch (version) {
    case KMCL_SERVER_INTERFACE_VERSION_V1:
      return [...clientInterfaceMembers(1), ...KMCL_SERVER_ONLY_METHODS_MEMBERS];
    case KMCL_SERVER_INTERFACE_VERSION_V5:
      return [...clientInterfaceMembers(5), ...KMCL_SERVER_ONLY_METHODS_MEMBERS, ...KMCL_SERVER_ONLY_METHODS_V5_MEMBERS];
    default:
      return [];
  }
}
