/**
 * HV_STATUS results of the simulated hypercalls.
 *
 * Values: Linux `include/hyperv/hvgdk_mini.h` (the HV_STATUS_* list), which
 * agrees with QEMU `include/hw/hyperv/hyperv-proto.h`. Which call returns which
 * code for what: the Hyper-V TLFS pages of HvCallPostMessage, HvCallSignalEvent,
 * HvCreatePort, HvConnectPort and HvDeletePort.
 */
export const HV_STATUS = {
  SUCCESS: 0x0000,
  /**
   * Bad message type or payload size (post), flag number ≥ the port's flag
   * count (signal), bad SINT or flag range (create port).
   */
  INVALID_PARAMETER: 0x0005,
  /** No room left in the hypervisor's port or connection table. */
  INSUFFICIENT_MEMORY: 0x000b,
  /** A partition id that names no partition of this hypervisor. */
  INVALID_PARTITION_ID: 0x000d,
  /** A VP index outside the target partition. */
  INVALID_VP_INDEX: 0x000e,
  /** Port unknown, already in use, deleted since the connection was made, or of the wrong type for the call. */
  INVALID_PORT_ID: 0x0011,
  /** Connection id unknown to the calling partition, or already in use. */
  INVALID_CONNECTION_ID: 0x0012,
  /** The port's message buffers (or the SINT's queue) are all in use: retry after the receiver drains. */
  INSUFFICIENT_BUFFERS: 0x0013,
} as const;

/** One of the HV_STATUS values above. */
export type HvStatus = (typeof HV_STATUS)[keyof typeof HV_STATUS];

const NAMES = new Map<number, string>(
  Object.entries(HV_STATUS).map(([name, value]) => [value, `HV_STATUS_${name}`]),
);

/** `HV_STATUS_INVALID_CONNECTION_ID` for 0x12; unknown values print as hex. */
export function hvStatusName(status: number): string {
  return NAMES.get(status) ?? `0x${status.toString(16).padStart(4, '0').toUpperCase()}`;
}
