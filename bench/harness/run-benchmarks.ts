import type { BenchEnvironment, BenchResult } from './bench-result.js';
import type { BenchContext, ProgressSink, SharedKey, SubBenchmark, SubBenchmarkOutcome } from './sub-benchmark.js';

/** A note or failure, tagged with the sub-benchmark that produced it. */
export interface BenchNote {
  readonly benchmark: string;
  readonly note: string;
}

/** The machine-readable document `--json` prints. */
export interface BenchReport {
  readonly environment: BenchEnvironment;
  readonly results: readonly BenchResult[];
  readonly notes: readonly BenchNote[];
  readonly failures: readonly BenchNote[];
}

/** How the runner talks to its front end (progress bars, printing as each sub-benchmark ends). */
export interface BenchObserver {
  progressFor(benchmark: SubBenchmark): ProgressSink & { finish(): void };
  finished(benchmark: SubBenchmark, outcome: SubBenchmarkOutcome): void;
  failed(benchmark: SubBenchmark, error: unknown): void;
}

/**
 * Runs the sub-benchmarks one after another (they would disturb each other's
 * timings if run together). A failing one is recorded and the rest still run.
 */
export async function runBenchmarks(
  selected: readonly SubBenchmark[],
  environment: BenchEnvironment,
  observer: BenchObserver,
): Promise<BenchReport> {
  const sharedValues = new Map<string, unknown>();
  const results: BenchResult[] = [];
  const notes: BenchNote[] = [];
  const failures: BenchNote[] = [];
  for (const benchmark of selected) {
    const progress = observer.progressFor(benchmark);
    const context: BenchContext = {
      progress,
      findShared<T>(key: SharedKey<T>): T | undefined {
        // Only `share` with the same key (hence the same T) stores under this name.
        return sharedValues.get(key.name) as T | undefined;
      },
      share<T>(key: SharedKey<T>, value: T): void {
        if (!sharedValues.has(key.name)) sharedValues.set(key.name, value);
      },
    };
    try {
      const outcome = await benchmark.run(context);
      progress.finish();
      results.push(...outcome.results);
      notes.push(...outcome.notes.map((note) => ({ benchmark: benchmark.name, note })));
      observer.finished(benchmark, outcome);
    } catch (error) {
      progress.finish();
      failures.push({ benchmark: benchmark.name, note: error instanceof Error ? error.message : String(error) });
      observer.failed(benchmark, error);
    }
  }
  return { environment, results, notes, failures };
}
