/**
 * Rates and fairness derived from `scale` runs, in one place: the aggregate
 * completion rate of a window, the median window of a run, and how evenly
 * the completions spread over channels (or guests).
 */
import type { ScaleRun, ScaleWindow } from './scale-run.js';

/** Completed requests per second over every channel of the window. */
export function windowRate(window: ScaleWindow): number {
  const total = window.completions.reduce((sum, count) => sum + count, 0);
  return window.seconds > 0 ? total / window.seconds : 0;
}

/** The window that stands for a run: the median by aggregate rate (the lower middle one for an even count). */
export function medianRate(run: ScaleRun): number {
  const ranked = run.windows.map(windowRate).sort((a, b) => a - b);
  const median = ranked[Math.ceil(ranked.length / 2) - 1];
  if (median === undefined) throw new RangeError('a scale run without measured windows');
  return median;
}

/** Process CPU per completed request over every measured window, in µs. */
export function cpuPerPacket(run: ScaleRun): number {
  const packets = run.windows.reduce((sum, window) => sum + window.completions.reduce((a, b) => a + b, 0), 0);
  return packets > 0 ? (run.cpuSeconds * 1e6) / packets : 0;
}

/** Each channel's completions over every measured window of the run, guest by guest. */
export function channelTotals(run: ScaleRun): number[] {
  const totals = new Array<number>(run.shape.guests * run.shape.channelsPerGuest).fill(0);
  for (const window of run.windows) window.completions.forEach((count, i) => (totals[i] = (totals[i] ?? 0) + count));
  return totals;
}

/** Each guest's completions over every measured window (the sum of its channels). */
export function guestTotals(run: ScaleRun): number[] {
  const perGuest = run.shape.channelsPerGuest;
  const totals = channelTotals(run);
  return Array.from({ length: run.shape.guests }, (_, g) => totals.slice(g * perGuest, (g + 1) * perGuest).reduce((a, b) => a + b, 0));
}

/** The smallest and largest share, as a multiple of an equal share (1 = perfectly even). */
export interface ShareSpread {
  readonly min: number;
  readonly max: number;
}

export function shareSpread(totals: readonly number[]): ShareSpread {
  const sum = totals.reduce((a, b) => a + b, 0);
  if (totals.length === 0 || sum === 0) return { min: 0, max: 0 };
  const fair = sum / totals.length;
  return { min: Math.min(...totals) / fair, max: Math.max(...totals) / fair };
}
