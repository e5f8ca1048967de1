/**
 * The nearest-rank percentile of ascending-sorted values: the smallest value
 * such that at least `p` percent of the values are less than or equal to it.
 * Nearest-rank reports a value that was really observed (no interpolation).
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no values');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside (0, 100]`);
  // The epsilon keeps float noise (99.9 / 100 * 1000 = 999.0000000000001) from bumping the rank.
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100 - 1e-9));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** The latency percentiles every latency benchmark reports. */
export interface LatencySummary {
  readonly samples: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
}

/** Summarizes unsorted samples (any unit; the result keeps it). */
export function summarizeLatency(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
  };
}

/** The lower middle value of unsorted values (a value really observed); 0 for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length / 2) - 1] ?? 0;
}

/**
 * The median of trial-by-trial ratios `ours[i] / theirs[i]`. Trials of the two
 * sides run back to back, so each pair shares the machine's state at that
 * moment (another process, where the scheduler put the threads); a ratio of
 * the two medians could pair a lucky trial of one side with an unlucky one of
 * the other. Pairs whose denominator is 0 are left out; 0 when none is left.
 */
export function medianPairedRatio(ours: readonly number[], theirs: readonly number[]): number {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(ours.length, theirs.length); i++) {
    if (theirs[i]! > 0) ratios.push(ours[i]! / theirs[i]!);
  }
  return median(ratios);
}
