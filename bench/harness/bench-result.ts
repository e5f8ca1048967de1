/** A goal attached to a result: a floor (`atLeast`, speeds and ratios) or a ceiling (`below`, costs). */
export type BenchTarget =
  | { readonly atLeast: number; readonly met: boolean }
  | { readonly below: number; readonly met: boolean };

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

/** Builds a floor target from a goal and the measured value. */
export function targetFor(value: number, atLeast: number): BenchTarget {
  return { atLeast, met: value >= atLeast };
}

/** Builds a ceiling target: the value must stay below `below`. */
export function targetBelow(value: number, below: number): BenchTarget {
  return { below, met: value < below };
}

/** The target as a table cell: "≥ 0.50 ✔", "< 1 ✘", or "-" when there is none. */
export function describeTarget(target: BenchTarget | undefined, digits: number): string {
  if (target === undefined) return '-';
  const goal = 'atLeast' in target ? `≥ ${target.atLeast.toFixed(digits)}` : `< ${target.below.toFixed(digits)}`;
  return `${goal} ${target.met ? '✔' : '✘'}`;
}
