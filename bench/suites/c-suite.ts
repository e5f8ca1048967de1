import { cReferenceKey } from '../c/c-reference.js';
import type { CReferenceOutcome } from '../c/c-reference.js';
import { buildRingRef } from '../c/ring-ref-build.js';
import { cRingRunner } from '../c/ring-ref-run.js';
import type { BenchContext, SubBenchmark } from '../harness/sub-benchmark.js';
import { doorbellNote, doorbellResults, doorbellTable } from '../ring/doorbell-figures.js';
import { RING_BENCH_PLAN } from '../ring/ring-bench-plan.js';
import type { RingBenchPlan } from '../ring/ring-bench-plan.js';
import { modesNote, ringResults, ringTables } from '../ring/ring-figures.js';
import { measureRings, ringRunSteps } from '../ring/ring-runner.js';
import { spinNote, spinResults, spinTable } from '../ring/spin-figures.js';

/** The C reference's figures for `plan`: shared by an earlier sub-benchmark, or built and measured now. */
async function cReference(context: BenchContext, plan: RingBenchPlan): Promise<CReferenceOutcome> {
  const key = cReferenceKey(plan);
  const known = context.findShared(key);
  if (known !== undefined) return known;
  const build = buildRingRef();
  if (build.kind === 'skipped') {
    context.share(key, build);
    return build;
  }
  context.progress.begin(ringRunSteps(plan, 1));
  const [measurement] = await measureRings(plan, [cRingRunner(build.binary, plan)], context.progress);
  if (measurement === undefined) throw new Error('the C reference produced no measurement');
  const outcome: CReferenceOutcome = { kind: 'measured', measurement, compiler: build.compiler };
  context.share(key, outcome);
  return outcome;
}

/** `c`: the C reference ring alone, the yardstick the `ring` ratios divide by. */
export const cSuite: SubBenchmark = {
  name: 'c',
  description: 'the C reference ring (bench/c/ring-ref.c, cc -O2): throughput and round-trip latency',
  async run(context) {
    const outcome = await cReference(context, RING_BENCH_PLAN);
    if (outcome.kind === 'skipped') return { results: [], tables: [], notes: [outcome.note] };
    const doorbells = doorbellNote(outcome.measurement);
    return {
      results: [
        ...ringResults('c', outcome.measurement),
        ...doorbellResults('c', outcome.measurement),
        ...spinResults('c', outcome.measurement),
      ],
      tables: [
        ...ringTables('c', outcome.measurement),
        doorbellTable('c', [outcome.measurement]),
        ...(RING_BENCH_PLAN.spinBeforeSleepUs > 0 ? [spinTable('c', [outcome.measurement])] : []),
      ],
      notes: [
        modesNote(RING_BENCH_PLAN),
        ...(RING_BENCH_PLAN.spinBeforeSleepUs > 0 ? [spinNote()] : []),
        ...(doorbells === undefined ? [] : [doorbells]),
        `C reference built with ${outcome.compiler}`,
      ],
    };
  },
};
