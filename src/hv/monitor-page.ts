import type { SharedBytes } from './shared-bytes.js';

/**
 * The Hyper-V monitor page (HvMonitorPage): a partition sets a "pending" bit
 * here instead of making an HvSignalEvent hypercall, and the hypervisor turns
 * the bit into the event signal named by that monitor id's parameter.
 *
 * Layout: Linux `drivers/hv/hyperv_vmbus.h:60-94` (struct hv_monitor_page,
 * linux-vmbus.md §A.3.1) and OpenVMM `vm/hv1/hvdef/src/lib.rs:4167-4211`
 * (openvmm-vmbus.md §6.8). Monitor id m is bit m%32 of trigger group m/32
 * (Linux `drivers/hv/channel_mgmt.c:977-978`; OpenVMM `vm/vmcore/src/monitor.rs:21`).
 */
export const MONITOR_PAGE_SIZE = 4096;

/** Byte offsets inside the monitor page. */
export const MONITOR_PAGE_LAYOUT = {
  /** u32; bits 0-3 enable trigger groups 0-3. */
  TRIGGER_STATE: 0,
  /** [4] { pending u32 @+0, armed u32 @+4 }. */
  TRIGGER_GROUP: 8,
  TRIGGER_GROUP_SIZE: 8,
  /** s32 [4][32]; this simulation writes the scan's due time there (100 ns units, low 32 bits). */
  NEXT_CHECK_TIME: 64,
  /** u16 [4][32]: delay between a pending bit and its signal, in 100 ns units. */
  LATENCY: 576,
  /** [4][32] { connection_id u32 @+0, flag_number u16 @+4, reserved u16 @+6 }. */
  PARAMETER: 1088,
  PARAMETER_SIZE: 8,
} as const;

export const MONITOR_GROUP_COUNT = 4;
export const MONITOR_IDS_PER_GROUP = 32;
/** Monitor ids 0..127. */
export const MONITOR_ID_COUNT = MONITOR_GROUP_COUNT * MONITOR_IDS_PER_GROUP;
/** Largest latency the u16 field can hold (≈ 6.5 ms). */
export const MONITOR_LATENCY_MAX = 0xffff;

/** What a monitor id signals: an HvSignalEvent of `connectionId` with `flagNumber`, from the page's partition. */
export interface MonitorParameter {
  readonly connectionId: number;
  readonly flagNumber: number;
}

/** Typed, atomic access to one monitor page in shared memory. */
export class MonitorPage {
  constructor(
    private readonly memory: SharedBytes,
    /** Byte offset of the page (4-aligned). */
    readonly offset: number,
  ) {}

  /** The page's 4096 bytes, as a view (not a copy). */
  get bytes(): Uint8Array {
    return this.memory.u8.subarray(this.offset, this.offset + MONITOR_PAGE_SIZE);
  }

  groupEnabled(group: number): boolean {
    return (Atomics.load(this.memory.i32, this.wordOf(MONITOR_PAGE_LAYOUT.TRIGGER_STATE)) & (1 << group)) !== 0;
  }

  setGroupEnabled(group: number, enabled: boolean): void {
    const index = this.wordOf(MONITOR_PAGE_LAYOUT.TRIGGER_STATE);
    if (enabled) Atomics.or(this.memory.i32, index, 1 << group);
    else Atomics.and(this.memory.i32, index, ~(1 << group));
  }

  /** The pending bits of a trigger group. */
  pending(group: number): number {
    return Atomics.load(this.memory.i32, this.pendingIndex(group)) >>> 0;
  }

  /** The armed bits of a trigger group. */
  armed(group: number): number {
    return Atomics.load(this.memory.i32, this.pendingIndex(group) + 1) >>> 0;
  }

  /** Sets the pending bit of `monitorId`; true if it was clear (the partition-side "trigger"). */
  setPending(monitorId: number): boolean {
    const bit = 1 << monitorId % MONITOR_IDS_PER_GROUP;
    return (Atomics.or(this.memory.i32, this.pendingIndex(groupOf(monitorId)), bit) & bit) === 0;
  }

  /** Marks `monitorId` as armed: its pending bit has been seen and its signal is on its way. */
  arm(monitorId: number): void {
    Atomics.or(this.memory.i32, this.pendingIndex(groupOf(monitorId)) + 1, 1 << monitorId % MONITOR_IDS_PER_GROUP);
  }

  /** Clears the pending and armed bits of `monitorId`. */
  disarm(monitorId: number): void {
    const mask = ~(1 << monitorId % MONITOR_IDS_PER_GROUP);
    const index = this.pendingIndex(groupOf(monitorId));
    Atomics.and(this.memory.i32, index, mask);
    Atomics.and(this.memory.i32, index + 1, mask);
  }

  latency(monitorId: number): number {
    return this.memory.view.getUint16(this.offset + MONITOR_PAGE_LAYOUT.LATENCY + monitorId * 2, true);
  }

  setLatency(monitorId: number, latency100ns: number): void {
    this.memory.view.setUint16(this.offset + MONITOR_PAGE_LAYOUT.LATENCY + monitorId * 2, latency100ns, true);
  }

  /** Copies the parameter of `monitorId` out of the page. */
  parameter(monitorId: number): MonitorParameter {
    const at = this.offset + MONITOR_PAGE_LAYOUT.PARAMETER + monitorId * MONITOR_PAGE_LAYOUT.PARAMETER_SIZE;
    return { connectionId: this.memory.view.getUint32(at, true), flagNumber: this.memory.view.getUint16(at + 4, true) };
  }

  setParameter(monitorId: number, parameter: MonitorParameter): void {
    const at = this.offset + MONITOR_PAGE_LAYOUT.PARAMETER + monitorId * MONITOR_PAGE_LAYOUT.PARAMETER_SIZE;
    this.memory.view.setUint32(at, parameter.connectionId, true);
    this.memory.view.setUint16(at + 4, parameter.flagNumber, true);
    this.memory.view.setUint16(at + 6, 0, true);
  }

  nextCheckTime(monitorId: number): number {
    return this.memory.view.getInt32(this.offset + MONITOR_PAGE_LAYOUT.NEXT_CHECK_TIME + monitorId * 4, true);
  }

  setNextCheckTime(monitorId: number, time100ns: number): void {
    this.memory.view.setInt32(this.offset + MONITOR_PAGE_LAYOUT.NEXT_CHECK_TIME + monitorId * 4, time100ns | 0, true);
  }

  private wordOf(field: number): number {
    return (this.offset + field) >> 2;
  }

  private pendingIndex(group: number): number {
    return this.wordOf(MONITOR_PAGE_LAYOUT.TRIGGER_GROUP + group * MONITOR_PAGE_LAYOUT.TRIGGER_GROUP_SIZE);
  }
}

/** The trigger group of a monitor id. */
export function groupOf(monitorId: number): number {
  return Math.floor(monitorId / MONITOR_IDS_PER_GROUP);
}
