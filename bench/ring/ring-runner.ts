import type { ProgressSink } from '../harness/sub-benchmark.js';
import type { RingBenchPlan, ThroughputMode } from './ring-bench-plan.js';
import type {
  LatencyMeasurement,
  RingImplementation,
  RingMeasurement,
  ThroughputMeasurement,
  ThroughputModeSeries,
} from './ring-measurement.js';
import { modeLabel } from './ring-figures.js';

/** One ring implementation, able to run one throughput trial or one latency run of a plan. */
export interface RingRunner {
  readonly implementation: RingImplementation;
  /** One throughput trial of `payloadBytes` packets; batched and sleeping at once unless told otherwise. */
  throughput(payloadBytes: number, mode?: ThroughputMode): Promise<ThroughputMeasurement>;
  latency(): Promise<LatencyMeasurement>;
}

/** One throughput configuration of a plan: a payload size and a mode. */
interface ThroughputCase {
  readonly payloadBytes: number;
  readonly mode: ThroughputMode;
}

/**
 * Every throughput configuration of `plan`: batched sizes, then one-at-a-time
 * sizes, each sleeping at once and then (if the plan spins) spinning first,
 * so the two waits of one configuration sit next to each other.
 */
export function throughputCases(plan: RingBenchPlan): ThroughputCase[] {
  const spins = plan.spinBeforeSleepUs > 0 ? [0, plan.spinBeforeSleepUs] : [0];
  const casesOf = (publishing: ThroughputMode['publishing'], sizes: readonly number[]): ThroughputCase[] =>
    sizes.flatMap((payloadBytes) => spins.map((spinBeforeSleepUs) => ({ payloadBytes, mode: { publishing, spinBeforeSleepUs } })));
  return [...casesOf('batched', plan.payloadSizes), ...casesOf('one-at-a-time', plan.oneAtATimeSizes ?? [])];
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
    for (const [caseIndex, { payloadBytes, mode }] of cases.entries()) {
      for (const [runnerIndex, runner] of runners.entries()) {
        trials[runnerIndex]?.[caseIndex]?.push(await runner.throughput(payloadBytes, mode));
        progress.step(`${runner.implementation} ${payloadBytes} B ${modeLabel(mode)}, trial ${trial}/${plan.trials}`);
      }
    }
  }
  const measurements: RingMeasurement[] = [];
  for (const [runnerIndex, runner] of runners.entries()) {
    const latency = await runner.latency();
    progress.step(`${runner.implementation} latency`);
    const throughput: ThroughputModeSeries[] = cases.map(({ payloadBytes, mode }, caseIndex) => ({
      payloadBytes,
      mode,
      trials: trials[runnerIndex]?.[caseIndex] ?? [],
    }));
    measurements.push({ implementation: runner.implementation, ringDataBytes: plan.dataBytes, throughput, latency });
  }
  return measurements;
}
