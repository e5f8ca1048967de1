import { HV_STATUS, type HvStatus } from './hv-status.js';
import {
  MONITOR_GROUP_COUNT,
  MONITOR_ID_COUNT,
  MONITOR_IDS_PER_GROUP,
  MONITOR_LATENCY_MAX,
  groupOf,
  type MonitorPage,
  type MonitorParameter,
} from './monitor-page.js';
import type { HvScheduler } from './scheduler.js';

/** Signals `parameter` from the page's partition (an HvSignalEvent). */
export type MonitorSignal = (parameter: MonitorParameter) => HvStatus;

/**
 * Monitored notifications of one partition: the ids it may trigger on its
 * monitor page, and the hypervisor's side that turns a pending bit into the
 * event signal of the id's parameter after the id's latency.
 *
 * The hypervisor learns of a pending bit when `trigger` sets it, as OpenVMM
 * emulates guest writes to the page (vm/vmcore/src/monitor.rs `check_write`);
 * a scan then arms every pending bit of an enabled group and schedules its
 * signal `latency` (100 ns units) later. Triggers of an armed id before its
 * signal coalesce into that one signal, which is what the latency is for
 * (linux-vmbus.md §B: DPDK lowers it to 50 µs for throughput).
 *
 * The scan and its timers run on the scheduler of the thread that triggers.
 */
export class MonitoredNotifications {
  private scanScheduled = false;
  private failures = 0;

  constructor(
    /** The partition's monitor page, as the bus programs it and the partition triggers it. */
    readonly page: MonitorPage,
    private readonly allocation: Int32Array,
    private readonly allocationIndex: number,
    private readonly scheduler: HvScheduler,
    private readonly signal: MonitorSignal,
  ) {}

  /**
   * Takes the lowest free monitor id for `parameter` with `latency100ns`
   * (0..65535), enables its trigger group and returns it; undefined if all 128
   * ids are taken.
   */
  allocate(parameter: MonitorParameter, latency100ns: number): number | undefined {
    checkLatency(latency100ns);
    for (let group = 0; group < MONITOR_GROUP_COUNT; group++) {
      for (;;) {
        const taken = Atomics.load(this.allocation, this.allocationIndex + group);
        if (taken === -1) break;
        const monitorId = group * MONITOR_IDS_PER_GROUP + (31 - Math.clz32(~taken & (taken + 1)));
        // Another thread may take the same id first: then look again.
        if (this.claim(monitorId, parameter, latency100ns)) return monitorId;
      }
    }
    return undefined;
  }

  /**
   * Takes one given monitor id, as a VMBus server does when the id was chosen
   * at offer time; false if it is out of range or already taken.
   */
  claim(monitorId: number, parameter: MonitorParameter, latency100ns: number): boolean {
    checkLatency(latency100ns);
    if (!Number.isInteger(monitorId) || monitorId < 0 || monitorId >= MONITOR_ID_COUNT) return false;
    const group = groupOf(monitorId);
    const bit = 1 << monitorId % MONITOR_IDS_PER_GROUP;
    const previous = Atomics.or(this.allocation, this.allocationIndex + group, bit);
    if ((previous & bit) !== 0) return false;
    this.page.disarm(monitorId);
    this.page.setParameter(monitorId, parameter);
    this.page.setLatency(monitorId, latency100ns);
    this.page.setGroupEnabled(group, true);
    return true;
  }

  /** Frees an allocated id; false if it was not allocated. */
  release(monitorId: number): boolean {
    if (!this.isAllocated(monitorId)) return false;
    this.page.disarm(monitorId);
    this.page.setParameter(monitorId, { connectionId: 0, flagNumber: 0 });
    this.page.setLatency(monitorId, 0);
    Atomics.and(this.allocation, this.allocationIndex + groupOf(monitorId), ~(1 << monitorId % MONITOR_IDS_PER_GROUP));
    return true;
  }

  isAllocated(monitorId: number): boolean {
    if (!Number.isInteger(monitorId) || monitorId < 0 || monitorId >= MONITOR_ID_COUNT) return false;
    const bit = 1 << monitorId % MONITOR_IDS_PER_GROUP;
    return (Atomics.load(this.allocation, this.allocationIndex + groupOf(monitorId)) & bit) !== 0;
  }

  /** Changes the latency of an allocated id (the bus's "program latency"); false if the id is not allocated. */
  setLatency(monitorId: number, latency100ns: number): boolean {
    checkLatency(latency100ns);
    if (!this.isAllocated(monitorId)) return false;
    this.page.setLatency(monitorId, latency100ns);
    return true;
  }

  /**
   * The partition's side: set the pending bit of `monitorId` instead of
   * signalling. False if the id is outside 0..127 (nothing is set).
   */
  trigger(monitorId: number): boolean {
    if (!Number.isInteger(monitorId) || monitorId < 0 || monitorId >= MONITOR_ID_COUNT) return false;
    if (this.page.setPending(monitorId) && !this.scanScheduled) {
      this.scanScheduled = true;
      this.scheduler.schedule(() => this.scan(), 0);
    }
    return true;
  }

  /** Signals that failed (the parameter's connection was gone, for example). */
  get failedSignals(): number {
    return this.failures;
  }

  private scan(): void {
    this.scanScheduled = false;
    for (let group = 0; group < MONITOR_GROUP_COUNT; group++) {
      if (!this.page.groupEnabled(group)) continue;
      let fresh = this.page.pending(group) & ~this.page.armed(group);
      while (fresh !== 0) {
        const bit = 31 - Math.clz32(fresh & -fresh);
        fresh &= fresh - 1;
        const monitorId = group * MONITOR_IDS_PER_GROUP + bit;
        const latency = this.page.latency(monitorId);
        this.page.arm(monitorId);
        this.page.setNextCheckTime(monitorId, this.scheduler.now() + latency);
        this.scheduler.schedule(() => this.fire(monitorId), latency);
      }
    }
  }

  private fire(monitorId: number): void {
    // Clear first: a trigger from now on starts a new round instead of being absorbed by this one.
    this.page.disarm(monitorId);
    if (!this.isAllocated(monitorId)) return;
    if (this.signal(this.page.parameter(monitorId)) !== HV_STATUS.SUCCESS) this.failures++;
  }
}

function checkLatency(latency100ns: number): void {
  if (!Number.isInteger(latency100ns) || latency100ns < 0 || latency100ns > MONITOR_LATENCY_MAX) {
    throw new RangeError(`monitor latency must be 0..${MONITOR_LATENCY_MAX} (100 ns units), got ${latency100ns}`);
  }
}
