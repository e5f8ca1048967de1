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
