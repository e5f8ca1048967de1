import { measureLatency } from './latency-run.js';
import type { RingBenchPlan } from './ring-bench-plan.js';
import type { RingRunner } from './ring-runner.js';
import { measureThroughput } from './throughput-run.js';

/** kmcl's ring engine across worker threads, as a {@link RingRunner}. */
export function kmclRingRunner(plan: RingBenchPlan): RingRunner {
  return {
    implementation: 'kmcl',
    throughput: (payloadBytes, mode) => measureThroughput(plan, payloadBytes, mode),
    latency: () => measureLatency(plan),
  };
}
