/**
 * Getting the KMCL client interface, as a driver does with
 * WdfFdoQueryForInterface(Fdo, KMCL_CLIENT_INTERFACE_TYPE, Interface, Size,
 * Version, NULL): a table of the version's functions after an INTERFACE
 * header, the members named and ordered as in the reference. The same query
 * with KMCL_SERVER_INTERFACE_TYPE on a host device object gives the server
 * interface (server-tables.ts).
 */
import type { Guid } from '../../wire/guid.js';
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import { isOut, isU16 } from '../arguments.js';
import { KmclDeviceObject } from '../device-object.js';
import { KmclHostDeviceObject } from '../server/host-device-object.js';
import type { Out } from '../types.js';
import * as KMCL_CLIENT_FUNCTIONS from './client-functions.js';
import { FUNCTION_POINTER_SIZE, INTERFACE_SIZE, interfaceTable, type INTERFACE } from './interface-header.js';
import {
  KMCL_CLIENT_INTERFACE_V1_MEMBERS,
  KMCL_CLIENT_INTERFACE_V2_MEMBERS,
  KMCL_CLIENT_INTERFACE_V3_MEMBERS,
  KMCL_CLIENT_INTERFACE_V4_MEMBERS,
  KMCL_CLIENT_INTERFACE_V5_MEMBERS,
  clientInterfaceMembers,
  type KmclClientMemberName,
} from './members.js';
import { serverInterfaceMembers } from './server-members.js';
import { KMCL_SERVER_INTERFACE_TYPE, buildServerTable, sizeofServerInterface, type KMCL_SERVER_INTERFACE } from './server-tables.js';

/** The functions behind the members: exactly the exports of client-functions.ts. */
export type KmclClientFunctions = typeof KMCL_CLIENT_FUNCTIONS;
// Compile-time check that every member has a function.
const everyMemberImplemented: Record<KmclClientMemberName, (...args: never[]) => unknown> = KMCL_CLIENT_FUNCTIONS;
void everyMemberImplemented;

/**
 * KMCL_CLIENT_INTERFACE_TYPE. The value Windows uses is not public (the DDI
 * pages name the GUID but never print it), so this project defines its own.
 */
export const KMCL_CLIENT_INTERFACE_TYPE: Guid = '909a7d52-1a58-463f-87f3-215e61afeb16';

export const KMCL_CLIENT_INTERFACE_VERSION_V1 = 1;
export const KMCL_CLIENT_INTERFACE_VERSION_V2 = 2;
export const KMCL_CLIENT_INTERFACE_VERSION_V3 = 3;
export const KMCL_CLIENT_INTERFACE_VERSION_V4 = 4;
export const KMCL_CLIENT_INTERFACE_VERSION_V5 = 5;
export const KMCL_CLIENT_INTERFACE_VERSION_LATEST = KMCL_CLIENT_INTERFACE_VERSION_V5;

type Members<T extends readonly (keyof KmclClientFunctions)[]> = Pick<KmclClientFunctions, T[number]>;

export type KMCL_CLIENT_INTERFACE_V1 = INTERFACE & Members<typeof KMCL_CLIENT_INTERFACE_V1_MEMBERS>;
export type KMCL_CLIENT_INTERFACE_V2 = KMCL_CLIENT_INTERFACE_V1 & Members<typeof KMCL_CLIENT_INTERFACE_V2_MEMBERS>;
export type KMCL_CLIENT_INTERFACE_V3 = KMCL_CLIENT_INTERFACE_V2 & Members<typeof KMCL_CLIENT_INTERFACE_V3_MEMBERS>;
export type KMCL_CLIENT_INTERFACE_V4 = KMCL_CLIENT_INTERFACE_V3 & Members<typeof KMCL_CLIENT_INTERFACE_V4_MEMBERS>;
export type KMCL_CLIENT_INTERFACE_V5 = KMCL_CLIENT_INTERFACE_V4 & Members<typeof KMCL_CLIENT_INTERFACE_V5_MEMBERS>;
/** Any version of the table. */
export type KMCL_CLIENT_INTERFACE = KMCL_CLIENT_INTERFACE_V1;

/** sizeof(KMCL_CLIENT_INTERFACE_Vn) on x64: the INTERFACE header and one function pointer per member. */
export function sizeofClientInterface(version: number): number {
  return INTERFACE_SIZE + FUNCTION_POINTER_SIZE * clientInterfaceMembers(version).length;
}

export const SIZEOF_KMCL_CLIENT_INTERFACE_V1 = sizeofClientInterface(1);
export const SIZEOF_KMCL_CLIENT_INTERFACE_V2 = sizeofClientInterface(2);
export const SIZEOF_KMCL_CLIENT_INTERFACE_V3 = sizeofClientInterface(3);
export const SIZEOF_KMCL_CLIENT_INTERFACE_V4 = sizeofClientInterface(4);
export const SIZEOF_KMCL_CLIENT_INTERFACE_V5 = sizeofClientInterface(5);

/** The table of `version` for `device`: header first, then the members in reference order. */
function buildTable(device: KmclDeviceObject, version: number): KMCL_CLIENT_INTERFACE {
  return interfaceTable(device, version, clientInterfaceMembers(version), KMCL_CLIENT_FUNCTIONS) as unknown as KMCL_CLIENT_INTERFACE;
}

/** The table `InterfaceType` and `Version` name for this device object, or why there is none. */
function tableFor(
  device: KmclDeviceObject | KmclHostDeviceObject,
  interfaceType: string,
  size: number,
  version: number,
): KMCL_CLIENT_INTERFACE | KMCL_SERVER_INTERFACE | NtStatus {
  const type = interfaceType.toLowerCase();
  if (type === KMCL_CLIENT_INTERFACE_TYPE && device instanceof KmclDeviceObject) {
    if (version < KMCL_CLIENT_INTERFACE_VERSION_V1 || version > KMCL_CLIENT_INTERFACE_VERSION_LATEST) return NTSTATUS.STATUS_NOT_SUPPORTED;
    return size < sizeofClientInterface(version) ? NTSTATUS.STATUS_BUFFER_TOO_SMALL : buildTable(device, version);
  }
  if (type === KMCL_SERVER_INTERFACE_TYPE && device instanceof KmclHostDeviceObject) {
    if (serverInterfaceMembers(version).length === 0) return NTSTATUS.STATUS_NOT_SUPPORTED;
    return size < sizeofServerInterface(version) ? NTSTATUS.STATUS_BUFFER_TOO_SMALL : buildServerTable(device, version);
  }
  return NTSTATUS.STATUS_NOT_SUPPORTED;
}

/**
 * The query. `Interface.value` receives the table of `Version`, with one
 * interface reference taken on `DeviceObject` (drop it with
 * InterfaceDereference): the client interface (versions 1..5) on a guest's
 * device object, the server interface (versions 1 and 5) on a host device
 * object. Statuses, as a WDM bus driver answers IRP_MN_QUERY_INTERFACE:
 * STATUS_NOT_SUPPORTED for another interface type, an interface the device
 * object does not export (the server interface on a guest, the client
 * interface on the host) or an unknown version; STATUS_BUFFER_TOO_SMALL when
 * `Size` is below the version's sizeof (decision: the DDI pages do not say);
 * STATUS_INVALID_PARAMETER_1 / _3 / _4 / _5 for a value that is no device
 * object, out-parameter, USHORT size or USHORT version.
 */
export function queryInterface(
  DeviceObject: KmclDeviceObject,
  InterfaceType: Guid,
  Interface: Out<KMCL_CLIENT_INTERFACE | null>,
  Size: number,
  Version: number,
): NtStatus;
export function queryInterface(
  DeviceObject: KmclHostDeviceObject,
  InterfaceType: Guid,
  Interface: Out<KMCL_SERVER_INTERFACE | null>,
  Size: number,
  Version: number,
): NtStatus;
export function queryInterface(
  DeviceObject: KmclDeviceObject | KmclHostDeviceObject,
  InterfaceType: Guid,
  Interface: Out<KMCL_CLIENT_INTERFACE | KMCL_SERVER_INTERFACE | null>,
  Size: number,
  Version: number,
): NtStatus {
  if (!(DeviceObject instanceof KmclDeviceObject) && !(DeviceObject instanceof KmclHostDeviceObject)) {
    return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  }
  if (!isOut(Interface)) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  if (!isU16(Size)) return NTSTATUS.STATUS_INVALID_PARAMETER_4;
  if (!isU16(Version)) return NTSTATUS.STATUS_INVALID_PARAMETER_5;
  if (typeof InterfaceType !== 'string') return NTSTATUS.STATUS_NOT_SUPPORTED;
  const table = tableFor(DeviceObject, InterfaceType, Size, Version);
  if (typeof table === 'number') return table;
  table.InterfaceReference(table.Context);
  Interface.value = table;
  return NTSTATUS.STATUS_SUCCESS;
}
