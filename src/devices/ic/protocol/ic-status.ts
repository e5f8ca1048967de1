/**
 * The HRESULT values that travel in the `status` field of an IC message
 * header. The guest writes one into every response; the host reads it back.
 * Values: Linux `include/uapi/linux/hyperv.h` (HV_S_OK … HV_ERROR_DISK_FULL)
 * and OpenVMM `hyperv_ic_protocol/src/lib.rs` (`Status`).
 */
export const IC_STATUS = {
  /** Success. */
  HV_S_OK: 0x0000_0000,
  /** Generic failure: what a guest answers to a message it cannot parse or act on. */
  HV_E_FAIL: 0x8000_4005,
  /** "No more items" (ERROR_NO_MORE_ITEMS): ends a KVP enumeration; the Linux daemon's "no such key". */
  HV_S_CONT: 0x8007_0103,
  /** The operation is not supported (ERROR_NOT_SUPPORTED). */
  HV_ERROR_NOT_SUPPORTED: 0x8007_0032,
  /** The machine is locked (ERROR_MACHINE_LOCKED). */
  HV_ERROR_MACHINE_LOCKED: 0x8007_04f7,
  /** The device is not connected (ERROR_DEVICE_NOT_CONNECTED). */
  HV_ERROR_DEVICE_NOT_CONNECTED: 0x8007_048f,
  /** An argument is invalid (E_INVALIDARG). */
  HV_INVALIDARG: 0x8007_0057,
  /** A GUID (a KVP adapter id) was not found. */
  HV_GUID_NOTFOUND: 0x8004_1002,
  /** The item already exists (ERROR_ALREADY_EXISTS). */
  HV_ERROR_ALREADY_EXISTS: 0x8007_0050,
  /** The disk is full (ERROR_DISK_FULL). */
  HV_ERROR_DISK_FULL: 0x8007_0070,
} as const;

/** A status name from {@link IC_STATUS}. */
export type IcStatusName = keyof typeof IC_STATUS;

const NAMES = new Map<number, IcStatusName>(
  (Object.entries(IC_STATUS) as [IcStatusName, number][]).map(([name, value]) => [value, name]),
);

/** The name of a known IC status, or `0x…` hex for any other 32-bit value. */
export function icStatusName(status: number): string {
  return NAMES.get(status >>> 0) ?? `0x${(status >>> 0).toString(16).padStart(8, '0')}`;
}

