import type { ProgressSink } from '../harness/sub-benchmark.js';
import type { RingBenchPlan } from './ring-bench-plan.js';
import type {
  LatencyMeasurement,
  RingImplementation,
  RingMeasurement,
  ThroughputMeasurement,
} from './ring-measurement.js';

/** One ring implementation, able to run one throughput trial or one latency run of a plan. */
export interface RingRunner {
  readonly implementation: RingImplementation;
  throughput(payloadBytes: number): Promise<ThroughputMeasurement>;
  latency(): Promise<LatencyMeasurement>;
}

/** Progress steps {@link measureRings} reports for `runners` implementations. */
export function ringRunSteps(plan: RingBenchPlan, runners: number): number {
  return runners * (plan.trials * plan.payloadSizes.length + 1);
}

/**
 * Runs `plan` on every runner, one run at a time (they would steal each
 * other's cores), alternating implementations trial by trial and size by
 * size so that load from elsewhere on the machine is shared fairly. Latency
 * runs come last, one per implementation.
 */
export async function measureRings(
  plan: RingBenchPlan,
  runners: readonly RingRunner[],
  progress: ProgressSink,
): Promise<RingMeasurement[]> {
  const trials = runners.map(() => plan.payloadSizes.map((): ThroughputMeasurement[] => []));
  for (let trial = 1; trial <= plan.trials; trial++) {
    for (const [sizeIndex, payloadBytes] of plan.payloadSizes.entries()) {
      for (const [runnerIndex, runner] of runners.entries()) {
        trials[runnerIndex]?.[sizeIndex]?.push(await runner.throughput(payloadBytes));
        progress.step(`${runner.implementation} ${payloadBytes} B, trial ${trial}/${plan.trials}`);
      }
    }
  }
  const measurements: RingMeasurement[] = [];
  for (const [runnerIndex, runner] of runners.entries()) {
    const latency = await runner.latency();
    progress.step(`${runner.implementation} latency`);
    measurements.push({
      implementation: runner.implementation,
      ringDataBytes: plan.dataBytes,
      throughput: plan.payloadSizes.map((payloadBytes, sizeIndex) => ({
        payloadBytes,
        trials: trials[runnerIndex]?.[sizeIndex] ?? [],
      })),
      latency,
    });
  }
  return measurements;
}
