/**
 * Getting the KMCL client interface, as a driver does with
 * WdfFdoQueryForInterface(Fdo, KMCL_CLIENT_INTERFACE_TYPE, Interface, Size,
 * Version, NULL): a table of the version's functions after an INTERFACE
 * header, the members named and ordered as in the reference.
 */
import type { Guid } from '../../wire/guid.js';
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import { isOut, isU16 } from '../arguments.js';
import { KmclDeviceObject } from '../device-object.js';
import type { Out } from '../types.js';
import * as KMCL_CLIENT_FUNCTIONS from './client-functions.js';
import {
  FUNCTION_POINTER_SIZE,
  INTERFACE_SIZE,
  interfaceDereference,
  interfaceReference,
  type INTERFACE,
} from './interface-header.js';
import {
  KMCL_CLIENT_INTERFACE_V1_MEMBERS,
  KMCL_CLIENT_INTERFACE_V2_MEMBERS,
  KMCL_CLIENT_INTERFACE_V3_MEMBERS,
  KMCL_CLIENT_INTERFACE_V4_MEMBERS,
  KMCL_CLIENT_INTERFACE_V5_MEMBERS,
  clientInterfaceMembers,
  type KmclClientMemberName,
} from './members.js';

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
  const table: Record<string, unknown> = {
    Size: sizeofClientInterface(version),
    Version: version,
    Context: device,
    InterfaceReference: interfaceReference,
    InterfaceDereference: interfaceDereference,
  };
  for (const name of clientInterfaceMembers(version)) table[name] = KMCL_CLIENT_FUNCTIONS[name];
  return Object.freeze(table) as unknown as KMCL_CLIENT_INTERFACE;
}

/**
 * The query. `Interface.value` receives the table of `Version` (1..5), with
 * one interface reference taken on `DeviceObject` (drop it with
 * InterfaceDereference). Statuses, as a WDM bus driver answers
 * IRP_MN_QUERY_INTERFACE: STATUS_NOT_SUPPORTED for another interface type or
 * an unknown version; STATUS_BUFFER_TOO_SMALL when `Size` is below
 * sizeof(KMCL_CLIENT_INTERFACE_Vn) (decision: the DDI pages do not say);
 * STATUS_INVALID_PARAMETER_1 / _3 / _4 / _5 for a value that is no device
 * object, out-parameter, USHORT size or USHORT version.
 */
export function queryInterface(
  DeviceObject: KmclDeviceObject,
  InterfaceType: Guid,
  Interface: Out<KMCL_CLIENT_INTERFACE | null>,
  Size: number,
  Version: number,
): NtStatus {
  if (!(DeviceObject instanceof KmclDeviceObject)) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!isOut(Interface)) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  if (!isU16(Size)) return NTSTATUS.STATUS_INVALID_PARAMETER_4;
  if (!isU16(Version)) return NTSTATUS.STATUS_INVALID_PARAMETER_5;
  if (typeof InterfaceType !== 'string' || InterfaceType.toLowerCase() !== KMCL_CLIENT_INTERFACE_TYPE) {
    return NTSTATUS.STATUS_NOT_SUPPORTED;
  }
  if (Version < KMCL_CLIENT_INTERFACE_VERSION_V1 || Version > KMCL_CLIENT_INTERFACE_VERSION_LATEST) {
    return NTSTATUS.STATUS_NOT_SUPPORTED;
  }
  if (Size < sizeofClientInterface(Version)) return NTSTATUS.STATUS_BUFFER_TOO_SMALL;
  const table = buildTable(DeviceObject, Version);
  table.InterfaceReference(table.Context);
  Interface.value = table;
  return NTSTATUS.STATUS_SUCCESS;
}
