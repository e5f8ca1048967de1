/**
 * The KMCL server interface tables, as a VSP gets them with
 * WdfFdoQueryForInterface(Fdo, KMCL_SERVER_INTERFACE_TYPE, Interface,
 * sizeof(KMCL_SERVER_INTERFACE_Vn), KMCL_SERVER_INTERFACE_VERSION_Vn, NULL):
 * the INTERFACE header, then every member of the version (server-members.ts)
 * in reference order. The query itself is `queryInterface` (query.ts), which
 * answers both interface types.
 */
import type { Guid } from '../../wire/guid.js';
import type { KmclHostDeviceObject } from '../server/host-device-object.js';
import * as KMCL_CLIENT_FUNCTIONS from './client-functions.js';
import * as KMCL_SERVER_FUNCTIONS from './server-functions.js';
import { FUNCTION_POINTER_SIZE, INTERFACE_SIZE, interfaceTable, type INTERFACE } from './interface-header.js';
import type {
  KMCL_CLIENT_INTERFACE_V1_MEMBERS,
  KMCL_CLIENT_INTERFACE_V2_MEMBERS,
  KMCL_CLIENT_INTERFACE_V3_MEMBERS,
  KMCL_CLIENT_INTERFACE_V4_MEMBERS,
  KMCL_CLIENT_INTERFACE_V5_MEMBERS,
} from './members.js';
import {
  KMCL_SERVER_INTERFACE_VERSION_V1,
  KMCL_SERVER_INTERFACE_VERSION_V5,
  serverInterfaceMembers,
  type KMCL_SERVER_ONLY_METHODS_MEMBERS,
  type KMCL_SERVER_ONLY_METHODS_V5_MEMBERS,
  type KmclServerOnlyMemberName,
} from './server-members.js';

/** The server-only functions behind the members: exactly the exports of server-functions.ts. */
export type KmclServerOnlyFunctions = typeof KMCL_SERVER_FUNCTIONS;
// Compile-time check that every server-only member has a function.
const everyMemberImplemented: Record<KmclServerOnlyMemberName, (...args: never[]) => unknown> = KMCL_SERVER_FUNCTIONS;
void everyMemberImplemented;

/**
 * KMCL_SERVER_INTERFACE_TYPE. As for the client interface, the value Windows
 * uses is not public (the reference names the GUID but never prints it), so
 * this project defines its own.
 */
export const KMCL_SERVER_INTERFACE_TYPE: Guid = '4588d32e-51de-4abd-b91d-4dfb12ba2252';

type ClientMembers<T extends readonly (keyof typeof KMCL_CLIENT_FUNCTIONS)[]> = Pick<typeof KMCL_CLIENT_FUNCTIONS, T[number]>;
type ServerMembers<T extends readonly (keyof KmclServerOnlyFunctions)[]> = Pick<KmclServerOnlyFunctions, T[number]>;

/** KMCL_SERVER_ONLY_METHODS. */
export type KMCL_SERVER_ONLY_METHODS = ServerMembers<typeof KMCL_SERVER_ONLY_METHODS_MEMBERS>;
/** KMCL_SERVER_INTERFACE_V1: the INTERFACE header, KMCL_CLIENT_INTERFACE_V1's members, KMCL_SERVER_ONLY_METHODS. */
export type KMCL_SERVER_INTERFACE_V1 = INTERFACE<KmclHostDeviceObject> &
  ClientMembers<typeof KMCL_CLIENT_INTERFACE_V1_MEMBERS> &
  KMCL_SERVER_ONLY_METHODS;
/** KMCL_SERVER_INTERFACE_V5: the client V1..V5 members, KMCL_SERVER_ONLY_METHODS and the V5 server-only member. */
export type KMCL_SERVER_INTERFACE_V5 = KMCL_SERVER_INTERFACE_V1 &
  ClientMembers<typeof KMCL_CLIENT_INTERFACE_V2_MEMBERS> &
  ClientMembers<typeof KMCL_CLIENT_INTERFACE_V3_MEMBERS> &
  ClientMembers<typeof KMCL_CLIENT_INTERFACE_V4_MEMBERS> &
  ClientMembers<typeof KMCL_CLIENT_INTERFACE_V5_MEMBERS> &
  ServerMembers<typeof KMCL_SERVER_ONLY_METHODS_V5_MEMBERS>;
/** Either version of the table. */
export type KMCL_SERVER_INTERFACE = KMCL_SERVER_INTERFACE_V1;

/** sizeof(KMCL_SERVER_INTERFACE_Vn) on x64: the INTERFACE header and one function pointer per member. */
export function sizeofServerInterface(version: number): number {
  return INTERFACE_SIZE + FUNCTION_POINTER_SIZE * serverInterfaceMembers(version).length;
}

export const SIZEOF_KMCL_SERVER_INTERFACE_V1 = sizeofServerInterface(KMCL_SERVER_INTERFACE_VERSION_V1);
export const SIZEOF_KMCL_SERVER_INTERFACE_V5 = sizeofServerInterface(KMCL_SERVER_INTERFACE_VERSION_V5);

const FUNCTIONS: Readonly<Record<string, unknown>> = { ...KMCL_CLIENT_FUNCTIONS, ...KMCL_SERVER_FUNCTIONS };

/** The server table of `version` (1 or 5) for `device`: header first, then the members in reference order. */
export function buildServerTable(device: KmclHostDeviceObject, version: number): KMCL_SERVER_INTERFACE {
  return interfaceTable(device, version, serverInterfaceMembers(version), FUNCTIONS) as unknown as KMCL_SERVER_INTERFACE;
}
