/**
 * The WDM INTERFACE header every KMCL interface table starts with: Size,
 * Version, Context, InterfaceReference, InterfaceDereference. The context is
 * the device object the interface was queried on; references are counted
 * on it.
 */
import { KmclDeviceObject } from '../device-object.js';

/** PINTERFACE_REFERENCE / PINTERFACE_DEREFERENCE. */
export type PINTERFACE_REFERENCE = (Context: unknown) => void;

export interface INTERFACE {
  readonly Size: number;
  readonly Version: number;
  readonly Context: KmclDeviceObject;
  readonly InterfaceReference: PINTERFACE_REFERENCE;
  readonly InterfaceDereference: PINTERFACE_REFERENCE;
}

/** sizeof(INTERFACE) on x64: USHORT Size, USHORT Version, padding to 8, PVOID Context, two function pointers. */
export const INTERFACE_SIZE = 2 + 2 + 4 + 8 + 8 + 8;
/** sizeof a function pointer on x64: every table member takes this much. */
export const FUNCTION_POINTER_SIZE = 8;

/** Takes a reference on the device object the interface belongs to (anything else is ignored). */
export function interfaceReference(Context: unknown): void {
  if (Context instanceof KmclDeviceObject) Context.interfaceReferenceCount++;
}

/** Drops a reference taken by the query or by InterfaceReference (never below zero). */
export function interfaceDereference(Context: unknown): void {
  if (Context instanceof KmclDeviceObject && Context.interfaceReferenceCount > 0) Context.interfaceReferenceCount--;
}
