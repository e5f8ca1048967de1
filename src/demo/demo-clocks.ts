/**
 * The wall clocks of the demo's host and guest, in FILETIME units (100 ns
 * since 1601, what time sync carries). With workers both read the machine's
 * clock. In single-thread mode nothing may read it (a seeded run must repeat),
 * so both clocks are simulated on the VM's virtual clock: the host's starts at
 * SIMULATED_EPOCH, and the guest's real-time clock comes up
 * SIMULATED_GUEST_CLOCK_LAG_MS behind it, as a guest's RTC may, which is
 * what the guest's time sync driver then finds and corrects.
 */
import { filetimeFromUnixNs, unixNsFromFiletime, wallClockFiletime } from '../devices/index.js';
import type { KmclScheduler } from '../kmcl/index.js';

/** Where the simulated host clock starts: 2025-01-01T00:00:00Z. */
export const SIMULATED_EPOCH_MS = Date.UTC(2025, 0, 1);

/** How far behind the host's clock the simulated guest clock starts. */
export const SIMULATED_GUEST_CLOCK_LAG_MS = 1500;

/** Which clock a partition reads: the machine's, or one simulated on the VM's virtual clock. */
export type DemoClockSource = { readonly kind: 'machine' } | { readonly kind: 'simulated'; readonly lagMs: number };

const UNITS_PER_MS = 10_000n;

/** A FILETIME clock of the given source; `scheduler` is the partition's (the virtual clock in single-thread mode). */
export function demoWallClock(source: DemoClockSource, scheduler: KmclScheduler): () => bigint {
  if (source.kind === 'machine') return wallClockFiletime;
  const start = filetimeFromUnixNs(BigInt(SIMULATED_EPOCH_MS) * 1_000_000n) - BigInt(source.lagMs) * UNITS_PER_MS;
  return () => start + BigInt(Math.round(scheduler.now()));
}

/**
 * The guest's clock: a source plus the correction the guest applied. A SYNC
 * from the host sets it (Linux sets the clock on ICTIMESYNCFLAG_SYNC,
 * `drivers/hv/hv_util.c`); samples only measure it.
 */
export class GuestClock {
  #correction = 0n;

  constructor(private readonly source: () => bigint) {}

  now(): bigint {
    return this.source() + this.#correction;
  }

  /** Moves the clock by `offset` (100 ns units, positive: forward). */
  adjust(offset: bigint): void {
    this.#correction += offset;
  }
}

/** A FILETIME as an ISO 8601 instant (millisecond precision). */
export function filetimeToIso(filetime: bigint): string {
  return new Date(Number(unixNsFromFiletime(filetime) / 1_000_000n)).toISOString();
}
