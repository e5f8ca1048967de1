/** A speed goal attached to a result: the value must be at least `atLeast`. */
export interface BenchTarget {
  readonly atLeast: number;
  readonly met: boolean;
}

/** One machine-readable figure: what was measured, in which unit, and its value. */
export interface BenchResult {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly target?: BenchTarget;
}

/** Where the figures were taken, so results from different machines are not mixed up. */
export interface BenchEnvironment {
  readonly node: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly platform: string;
  readonly arch: string;
}

/** Builds a target from a goal and the measured value. */
export function targetFor(value: number, atLeast: number): BenchTarget {
  return { atLeast, met: value >= atLeast };
}
