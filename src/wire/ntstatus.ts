/**
 * NTSTATUS values used by the KMCL (the DDI pages in shared/reference/kmcl-ddi)
 * and by the VMBus channel-management protocol, with their names.
 *
 * NTSTATUS is a 32-bit value; we keep it as an unsigned number (`0xC0000001`,
 * not `-1073741823`). Severity is the top two bits: 0 success, 1 informational,
 * 2 warning, 3 error.
 */
export const NTSTATUS = {
  STATUS_SUCCESS: 0x0000_0000,
  STATUS_TIMEOUT: 0x0000_0102,
  STATUS_PENDING: 0x0000_0103,
  STATUS_BUFFER_OVERFLOW: 0x8000_0005,
  STATUS_NO_MORE_ENTRIES: 0x8000_001a,
  /**
   * What Hyper-V's VMBus puts in GPADL_CREATED / OPEN_RESULT / MODIFY_CHANNEL_RESPONSE
   * on failure (OpenVMM vmbus_core/src/protocol.rs:31-33: `STATUS_UNSUCCESSFUL = 0x8000FFFF`).
   * It is not the NT `STATUS_UNSUCCESSFUL` (0xC0000001); we name it for what it is on the bus.
   */
  VMBUS_STATUS_UNSUCCESSFUL: 0x8000_ffff,
  STATUS_UNSUCCESSFUL: 0xc000_0001,
  STATUS_NOT_IMPLEMENTED: 0xc000_0002,
  STATUS_INVALID_HANDLE: 0xc000_0008,
  STATUS_INVALID_PARAMETER: 0xc000_000d,
  STATUS_NO_SUCH_DEVICE: 0xc000_000e,
  STATUS_INVALID_DEVICE_REQUEST: 0xc000_0010,
  STATUS_MORE_PROCESSING_REQUIRED: 0xc000_0016,
  STATUS_NO_MEMORY: 0xc000_0017,
  STATUS_ACCESS_DENIED: 0xc000_0022,
  STATUS_BUFFER_TOO_SMALL: 0xc000_0023,
  STATUS_OBJECT_NAME_NOT_FOUND: 0xc000_0034,
  STATUS_DATA_ERROR: 0xc000_003e,
  STATUS_DELETE_PENDING: 0xc000_0056,
  STATUS_REVISION_MISMATCH: 0xc000_0059,
  STATUS_INSUFFICIENT_RESOURCES: 0xc000_009a,
  STATUS_DEVICE_NOT_READY: 0xc000_00a3,
  STATUS_IO_TIMEOUT: 0xc000_00b5,
  STATUS_NOT_SUPPORTED: 0xc000_00bb,
  STATUS_INVALID_PARAMETER_1: 0xc000_00ef,
  STATUS_INVALID_PARAMETER_2: 0xc000_00f0,
  STATUS_INVALID_PARAMETER_3: 0xc000_00f1,
  STATUS_INVALID_PARAMETER_4: 0xc000_00f2,
  STATUS_INVALID_PARAMETER_5: 0xc000_00f3,
  STATUS_INVALID_PARAMETER_6: 0xc000_00f4,
  STATUS_INVALID_PARAMETER_7: 0xc000_00f5,
  STATUS_INVALID_PARAMETER_8: 0xc000_00f6,
  STATUS_CANCELLED: 0xc000_0120,
  STATUS_INVALID_DEVICE_STATE: 0xc000_0184,
  STATUS_INVALID_BUFFER_SIZE: 0xc000_0206,
  STATUS_NOT_FOUND: 0xc000_0225,
  STATUS_CONNECTION_REFUSED: 0xc000_0236,
  STATUS_INVALID_CONNECTION_ID: 0xc000_0237,
  STATUS_DEVICE_REMOVED: 0xc000_02b6,
} as const;

export type NtStatusName = keyof typeof NTSTATUS;
/** An NTSTATUS value, unsigned 32-bit. */
export type NtStatus = number;

const NAMES = new Map<number, NtStatusName>(
  (Object.entries(NTSTATUS) as [NtStatusName, number][]).map(([name, value]) => [value, name]),
);

/** The name of a known status, or `0x` and eight upper-case hex digits for any other value. */
export function ntStatusName(status: NtStatus): string {
  const u = status >>> 0;
  return NAMES.get(u) ?? `0x${u.toString(16).toUpperCase().padStart(8, '0')}`;
}

/** NT_SUCCESS(): success and informational severities. */
export function ntSuccess(status: NtStatus): boolean {
  return (status | 0) >= 0;
}
