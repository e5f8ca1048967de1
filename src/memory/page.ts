/**
 * Page arithmetic of guest physical memory. Hyper-V describes guest memory to
 * VMBus in 4 KiB pages whatever the guest's own page size is (linux-vmbus.md,
 * `gpa_range`: "PFNs in 4 KiB Hyper-V pages"), so every PFN here is a 4 KiB PFN:
 * the wire layer's GPA page.
 */
import { GPA_PAGE_SIZE } from '../wire/gpa-range.js';

/** Bytes per page (the wire's `GPA_PAGE_SIZE`). */
export const PAGE_SIZE = GPA_PAGE_SIZE;

/** The PFN holding a guest physical address. Division, not `>>`, because GPAs may exceed 2^32. */
export function pfnOf(gpa: number): number {
  return Math.floor(gpa / PAGE_SIZE);
}

/** True for a number usable as an index or a size: a safe non-negative integer (not NaN, not a fraction). */
export function isIndex(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}
