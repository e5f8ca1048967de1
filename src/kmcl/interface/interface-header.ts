/**
 * The WDM INTERFACE header every KMCL interface table starts with: Size,
 * Version, Context, InterfaceReference, InterfaceDereference. The context is
 * the device object the interface was queried on (a guest's for the client
 * interface, a host device object for the server interface); references are
 * counted on it.
 */
import { KmclDeviceObject } from '../device-object.js';
import { KmclHostDeviceObject } from '../server/host-device-object.js';

/** PINTERFACE_REFERENCE / PINTERFACE_DEREFERENCE. */
export type PINTERFACE_REFERENCE = (Context: unknown) => void;

export interface INTERFACE<Context = KmclDeviceObject> {
  readonly Size: number;
  readonly Version: number;
  readonly Context: Context;
  readonly InterfaceReference: PINTERFACE_REFERENCE;
  readonly InterfaceDereference: PINTERFACE_REFERENCE;
}

/** sizeof(INTERFACE) on x64: USHORT Size, USHORT Version, padding to 8, PVOID Context, two function pointers. */
export const INTERFACE_SIZE = 2 + 2 + 4 + 8 + 8 + 8;
/** sizeof a function pointer on x64: every table member takes this much. */
export const FUNCTION_POINTER_SIZE = 8;

function isDeviceObject(Context: unknown): Context is KmclDeviceObject | KmclHostDeviceObject {
  return Context instanceof KmclDeviceObject || Context instanceof KmclHostDeviceObject;
}

/** Takes a reference on the device object the interface belongs to (anything else is ignored). */
export function interfaceReference(Context: unknown): void {
  if (isDeviceObject(Context)) Context.interfaceReferenceCount++;
}

/** Drops a reference taken by the query or by InterfaceReference (never below zero). */
export function interfaceDereference(Context: unknown): void {
  if (isDeviceObject(Context) && Context.interfaceReferenceCount > 0) Context.interfaceReferenceCount--;
}

/**
 * A frozen table: the header for `context`, then each of `members` from
 * `functions`, in order. The caller takes the query's interface reference.
 */
export function interfaceTable(
  context: KmclDeviceObject | KmclHostDeviceObject,
  version: number,
  members: readonly string[],
  functions: Readonly<Record<string, unknown>>,
): Readonly<Record<string, unknown>> {
  const header: [string, unknown][] = [
    ['Size', INTERFACE_SIZE + FUNCTION_POINTER_SIZE * members.length],
    ['Version', version],
    ['Context', context],
    ['InterfaceReference', interfaceReference],
    ['InterfaceDereference', interfaceDereference],
  ];
  // Built in one go: members added one by one by computed name turn V8's object into a slow dictionary,
  // and every `table.VmbPacketSend(…)` of a driver's hot path would then pay a hash lookup.
  return Object.freeze(Object.fromEntries([...header, ...members.map((name): [string, unknown] => [name, functions[name]])]));
}
