import type { BenchResult } from './bench-result.js';
import type { Table } from './table.js';

/** Where a sub-benchmark reports how far it got (drawn as a progress bar on stderr). */
export interface ProgressSink {
  /** Announces how many steps the sub-benchmark will take. */
  begin(totalSteps: number): void;
  /** Marks one step done; `label` names the step that finished. */
  step(label: string): void;
}

/** Names a value sub-benchmarks share (equal names, same value); `T` is the value's type. */
export interface SharedKey<T> {
  readonly name: string;
  /** Phantom field: ties the key to its value type at compile time only. */
  readonly valueType?: T;
}

/** Creates a key for {@link BenchContext.share} and {@link BenchContext.findShared}. */
export function sharedKey<T>(name: string): SharedKey<T> {
  return { name };
}

/** What the harness hands to each sub-benchmark. */
export interface BenchContext {
  readonly progress: ProgressSink;
  /**
   * What an earlier sub-benchmark of this invocation shared under `key`, so
   * an expensive run (the C reference) is not repeated by the next one.
   */
  findShared<T>(key: SharedKey<T>): T | undefined;
  /** Shares `value` with the sub-benchmarks that run later; the first value shared under a key stays. */
  share<T>(key: SharedKey<T>, value: T): void;
}

/** What a sub-benchmark produces: figures for machines, tables and notes for humans. */
export interface SubBenchmarkOutcome {
  readonly results: readonly BenchResult[];
  readonly tables: readonly Table[];
  readonly notes: readonly string[];
}

/** A named, selectable benchmark (`npm run bench -- <name>`). */
export interface SubBenchmark {
  readonly name: string;
  readonly description: string;
  run(context: BenchContext): Promise<SubBenchmarkOutcome>;
}
