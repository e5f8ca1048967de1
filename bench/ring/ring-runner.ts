import type { ProgressSink } from '../harness/sub-benchmark.js';
import type { RingBenchPlan, RingPublishing } from './ring-bench-plan.js';
import type {
  LatencyMeasurement,
  RingImplementation,
  RingMeasurement,
  ThroughputMeasurement,
  ThroughputSeries,
} from './ring-measurement.js';

/** One ring implementation, able to run one throughput trial or one latency run of a plan. */
export interface RingRunner {
  readonly implementation: RingImplementation;
  /** One throughput trial of `payloadBytes` packets; batched unless told otherwise. */
  throughput(payloadBytes: number, publishing?: RingPublishing): Promise<ThroughputMeasurement>;
  latency(): Promise<LatencyMeasurement>;
}

/** One throughput configuration of a plan: a payload size and how often the sides publish. */
interface ThroughputCase {
  readonly payloadBytes: number;
  readonly publishing: RingPublishing;
}

function throughputCases(plan: RingBenchPlan): ThroughputCase[] {
  return [
    ...plan.payloadSizes.map((payloadBytes) => ({ payloadBytes, publishing: 'batched' as const })),
    ...(plan.oneAtATimeSizes ?? []).map((payloadBytes) => ({ payloadBytes, publishing: 'one-at-a-time' as const })),
  ];
}

/** Progress steps {@link measureRings} reports for `runners` implementations. */
export function ringRunSteps(plan: RingBenchPlan, runners: number): number {
  return runners * (plan.trials * throughputCases(plan).length + 1);
}

/**
 * Runs `plan` on every runner, one run at a time (they would steal each
 * other's cores), alternating implementations trial by trial and case by
 * case so that load from elsewhere on the machine is shared fairly. Latency
 * runs come last, one per implementation.
 */
export async function measureRings(
  plan: RingBenchPlan,
  runners: readonly RingRunner[],
  progress: ProgressSink,
): Promise<RingMeasurement[]> {
  const cases = throughputCases(plan);
  const trials = runners.map(() => cases.map((): ThroughputMeasurement[] => []));
  for (let trial = 1; trial <= plan.trials; trial++) {
    for (const [caseIndex, { payloadBytes, publishing }] of cases.entries()) {
      for (const [runnerIndex, runner] of runners.entries()) {
        trials[runnerIndex]?.[caseIndex]?.push(await runner.throughput(payloadBytes, publishing));
        progress.step(`${runner.implementation} ${payloadBytes} B ${publishing}, trial ${trial}/${plan.trials}`);
      }
    }
  }
  const measurements: RingMeasurement[] = [];
  for (const [runnerIndex, runner] of runners.entries()) {
    const latency = await runner.latency();
    progress.step(`${runner.implementation} latency`);
    const series = (publishing: RingPublishing): ThroughputSeries[] =>
      cases.flatMap((c, caseIndex) =>
        c.publishing === publishing ? [{ payloadBytes: c.payloadBytes, trials: trials[runnerIndex]?.[caseIndex] ?? [] }] : [],
      );
    const oneAtATime = series('one-at-a-time');
    measurements.push({
      implementation: runner.implementation,
      ringDataBytes: plan.dataBytes,
      throughput: series('batched'),
      ...(oneAtATime.length > 0 ? { oneAtATime } : {}),
      latency,
    });
  }
  return measurements;
}
