import type { SubBenchmark } from './sub-benchmark.js';

/** The outcome of choosing sub-benchmarks by name. */
export type BenchSelection =
  | { readonly ok: true; readonly selected: readonly SubBenchmark[] }
  | { readonly ok: false; readonly unknown: readonly string[] };

/** The named sub-benchmarks `npm run bench` can run, in registration order. */
export class BenchRegistry {
  readonly #entries = new Map<string, SubBenchmark>();

  /** Adds a sub-benchmark; two with one name would make selection ambiguous. */
  register(benchmark: SubBenchmark): this {
    if (this.#entries.has(benchmark.name)) throw new Error(`sub-benchmark "${benchmark.name}" is registered twice`);
    this.#entries.set(benchmark.name, benchmark);
    return this;
  }

  /** Every registered sub-benchmark, in registration order. */
  all(): readonly SubBenchmark[] {
    return [...this.#entries.values()];
  }

  /** The named sub-benchmarks in the order asked (duplicates dropped); none named means all. */
  select(names: readonly string[]): BenchSelection {
    if (names.length === 0) return { ok: true, selected: this.all() };
    const unknown = names.filter((name) => !this.#entries.has(name));
    if (unknown.length > 0) return { ok: false, unknown };
    const selected = [...new Set(names)].map((name) => this.#entries.get(name) as SubBenchmark);
    return { ok: true, selected };
  }
}
