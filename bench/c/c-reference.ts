import { sharedKey } from '../harness/sub-benchmark.js';
import type { SharedKey } from '../harness/sub-benchmark.js';
import type { RingBenchPlan } from '../ring/ring-bench-plan.js';
import type { RingMeasurement } from '../ring/ring-measurement.js';

/** The C reference's figures for a plan, or the note saying why it did not run. */
export type CReferenceOutcome =
  | { readonly kind: 'measured'; readonly measurement: RingMeasurement; readonly compiler: string }
  | { readonly kind: 'skipped'; readonly note: string };

/**
 * Where the `ring` and `c` sub-benchmarks share the C reference's figures, so
 * one invocation measures C once. Keyed by the plan: another plan is another run.
 */
export function cReferenceKey(plan: RingBenchPlan): SharedKey<CReferenceOutcome> {
  return sharedKey<CReferenceOutcome>(`c-reference ${JSON.stringify(plan)}`);
}
