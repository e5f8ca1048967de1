/**
 * What `npm run bench -- scale` measures: the kmcl benchmark's request and
 * completion sizes, a window of requests in flight on every echo channel,
 * and the VM shapes (channels on one guest; guests with a few channels each).
 */
import { KMCL_BENCH_PLAN } from '../kmcl/kmcl-bench-plan.js';

export interface ScalePlan {
  readonly payloadBytes: number;
  readonly completionBytes: number;
  /** Requests in flight per channel: aggregate load grows with the channel count. */
  readonly window: number;
  /** Channel counts on one guest (figure a). */
  readonly channelCounts: readonly number[];
  /** Guest counts, each guest a worker with `channelsPerGuest` channels (figure b). */
  readonly guestCounts: readonly number[];
  readonly channelsPerGuest: number;
  readonly warmupMs: number;
  /** Consecutive measured windows per VM; the median stands for the VM (a cheap trial without a new boot). */
  readonly windows: number;
  readonly windowMs: number;
}

export const SCALE_PLAN: ScalePlan = {
  payloadBytes: KMCL_BENCH_PLAN.payloadBytes,
  completionBytes: KMCL_BENCH_PLAN.completionBytes,
  window: 32,
  channelCounts: [1, 16, 256],
  guestCounts: [1, 2, 4],
  channelsPerGuest: 4,
  warmupMs: 1000,
  windows: 3,
  windowMs: 1000,
};
