import { cReferenceKey } from '../c/c-reference.js';
import type { CReferenceOutcome } from '../c/c-reference.js';
import { buildRingRef } from '../c/ring-ref-build.js';
import { cRingRunner } from '../c/ring-ref-run.js';
import { describeTarget, targetFor } from '../harness/bench-result.js';
import type { BenchResult } from '../harness/bench-result.js';
import { formatCount, formatDecimal } from '../harness/number-format.js';
import { medianPairedRatio } from '../harness/percentile.js';
import type { SubBenchmark } from '../harness/sub-benchmark.js';
import type { Table } from '../harness/table.js';
import { doorbellNote, doorbellResults, doorbellTable } from '../ring/doorbell-figures.js';
import { kmclRingRunner } from '../ring/kmcl-ring-run.js';
import { BATCHED_SLEEP_AT_ONCE, RING_BENCH_PLAN, type ThroughputMode } from '../ring/ring-bench-plan.js';
import {
  latencyTable,
  medianTrial,
  modesNote,
  ringResults,
  throughputFigures,
  throughputResultName,
  trialsTable,
  waitLabel,
} from '../ring/ring-figures.js';
import type { RingMeasurement, ThroughputModeSeries, ThroughputSeries } from '../ring/ring-measurement.js';
import { measureRings, ringRunSteps } from '../ring/ring-runner.js';
import type { RingRunner } from '../ring/ring-runner.js';
import { spinNote, spinResults, spinTable } from '../ring/spin-figures.js';

/** The goals for kmcl's batched throughput as a fraction of the C reference's, per payload size. */
export const RING_THROUGHPUT_TARGETS: ReadonlyMap<number, number> = new Map([
  [64, 0.5],
  [16384, 0.8],
]);

/**
 * ours/C packet rate for one payload size and mode: the median of the
 * trial-by-trial ratios (each kmcl trial runs right before its C trial), with
 * its target when the issue sets one: batched runs, sleeping at once or
 * spinning first (both implementations wait the same way in a run).
 */
export function throughputRatio(ours: ThroughputSeries, c: ThroughputSeries, mode: ThroughputMode = BATCHED_SLEEP_AT_ONCE): BenchResult {
  const rates = (series: ThroughputSeries): number[] => series.trials.map((trial) => throughputFigures(trial).packetsPerSecond);
  const value = medianPairedRatio(rates(ours), rates(c));
  const goal = mode.publishing === 'batched' ? RING_THROUGHPUT_TARGETS.get(ours.payloadBytes) : undefined;
  const name = throughputResultName('ring.ratio', ours.payloadBytes, mode);
  return goal === undefined
    ? { name, unit: 'ours/C', value }
    : { name, unit: 'ours/C', value, target: targetFor(value, goal) };
}

/** C's series of the same size and mode as `ours`, if C ran. */
function matchingSeries(c: RingMeasurement | undefined, ours: ThroughputModeSeries): ThroughputSeries | undefined {
  return c?.throughput.find(
    (theirs) =>
      theirs.payloadBytes === ours.payloadBytes &&
      theirs.mode.publishing === ours.mode.publishing &&
      theirs.mode.spinBeforeSleepUs === ours.mode.spinBeforeSleepUs,
  );
}

function comparisonTable(kmcl: RingMeasurement, c: RingMeasurement | undefined): Table {
  const rows = kmcl.throughput.map((ours) => {
    const theirs = matchingSeries(c, ours);
    const f = throughputFigures(medianTrial(ours));
    const cells = [
      ours.mode.publishing,
      waitLabel(ours.mode),
      `${ours.payloadBytes} B`,
      formatCount(f.packetsPerSecond),
      formatDecimal(f.megabytesPerSecond, 1),
    ];
    if (theirs === undefined) return [...cells, '-', '-', '-', '-'];
    const g = throughputFigures(medianTrial(theirs));
    const ratio = throughputRatio(ours, theirs, ours.mode);
    const goal = ratio.target;
    const target = describeTarget(goal, 2);
    return [
      ...cells,
      formatCount(g.packetsPerSecond),
      formatDecimal(g.megabytesPerSecond, 1),
      formatDecimal(ratio.value, 2),
      target,
    ];
  });
  return {
    title: `ring: cross-thread throughput, ${kmcl.ringDataBytes / 1024} KiB ring, in-band packets, median trial`,
    columns: [
      { header: 'publishing', align: 'left' },
      { header: 'wait', align: 'left' },
      { header: 'payload', align: 'right' },
      { header: 'kmcl packets/s', align: 'right' },
      { header: 'kmcl MB/s', align: 'right' },
      { header: 'C packets/s', align: 'right' },
      { header: 'C MB/s', align: 'right' },
      { header: 'ours/C', align: 'right' },
      { header: 'target', align: 'left' },
    ],
    rows,
  };
}

/**
 * `ring`: kmcl's ring engine across worker threads (throughput for 64 B,
 * 256 B, 1 KiB and 16 KiB in-band packets, batched and one at a time, each
 * sleeping at once and spinning before sleep; round-trip latency), next to
 * the C reference on the same plan, trials interleaved, with ours/C ratios
 * against the targets.
 */
export const ringSuite: SubBenchmark = {
  name: 'ring',
  description: 'kmcl ring engine across worker threads vs the C reference: throughput, latency, ours/C',
  async run(context) {
    const plan = RING_BENCH_PLAN;
    const key = cReferenceKey(plan);
    const known = context.findShared(key);
    const build = known === undefined ? buildRingRef() : undefined;
    const runners: RingRunner[] = [kmclRingRunner(plan)];
    if (build?.kind === 'built') runners.push(cRingRunner(build.binary, plan));
    context.progress.begin(ringRunSteps(plan, runners.length));
    const [kmcl, measuredC] = await measureRings(plan, runners, context.progress);
    if (kmcl === undefined) throw new Error('the kmcl ring produced no measurement');
    let reference: CReferenceOutcome | undefined = known;
    if (build?.kind === 'skipped') reference = build;
    if (build?.kind === 'built' && measuredC !== undefined) {
      reference = { kind: 'measured', measurement: measuredC, compiler: build.compiler };
    }
    if (reference !== undefined) context.share(key, reference);

    const c = reference?.kind === 'measured' ? reference.measurement : undefined;
    // The C figures are repeated under ring.c.* so `ring --json` stands alone.
    const results = [
      ...ringResults('ring.kmcl', kmcl),
      ...doorbellResults('ring.kmcl', kmcl),
      ...spinResults('ring.kmcl', kmcl),
      ...(c === undefined ? [] : [...ringResults('ring.c', c), ...doorbellResults('ring.c', c), ...spinResults('ring.c', c)]),
    ];
    for (const ours of kmcl.throughput) {
      const theirs = matchingSeries(c, ours);
      if (theirs !== undefined) results.push(throughputRatio(ours, theirs, ours.mode));
    }
    const measurements = c === undefined ? [kmcl] : [kmcl, c];
    return {
      results,
      tables: [
        comparisonTable(kmcl, c),
        latencyTable('ring', measurements),
        trialsTable('ring', measurements),
        doorbellTable('ring', measurements),
        ...(plan.spinBeforeSleepUs > 0 ? [spinTable('ring', measurements)] : []),
      ],
      notes: [
        modesNote(plan),
        ...(plan.spinBeforeSleepUs > 0 ? [spinNote()] : []),
        ...measurements.flatMap((m) => doorbellNote(m) ?? []),
        ...(reference?.kind === 'skipped' ? [reference.note] : []),
      ],
    };
  },
};
