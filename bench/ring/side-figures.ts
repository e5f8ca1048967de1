/**
 * Figures kept per side of a throughput run (the writer and the reader), for
 * the median trial of every series that has them, and the table that shows
 * them side by side: the shape the doorbell and spin figures share.
 */
import type { Table } from '../harness/table.js';
import type { ThroughputMode } from './ring-bench-plan.js';
import { medianTrial, waitLabel } from './ring-figures.js';
import type { RingMeasurement, ThroughputMeasurement } from './ring-measurement.js';

/** One figure type for each side. */
export interface SideFigures<F> {
  readonly writer: F;
  readonly reader: F;
}

/** A series' median-trial side figures, with what identifies the series. */
export interface SideSeries<F> {
  readonly mode: ThroughputMode;
  readonly payloadBytes: number;
  readonly figures: SideFigures<F>;
}

/** The series of `measurement` whose median trial `figuresOf` has figures for (undefined: skipped). */
export function sideSeries<F>(
  measurement: RingMeasurement,
  figuresOf: (trial: ThroughputMeasurement, mode: ThroughputMode) => SideFigures<F> | undefined,
): SideSeries<F>[] {
  return measurement.throughput.flatMap((series) => {
    const figures = figuresOf(medianTrial(series), series.mode);
    return figures === undefined ? [] : [{ mode: series.mode, payloadBytes: series.payloadBytes, figures }];
  });
}

/** A table with a row per series and `headers` once for the writer (W) and once for the reader (R). */
export function sideTable<F>(
  title: string,
  headers: readonly string[],
  rows: readonly { readonly implementation: string; readonly series: readonly SideSeries<F>[] }[],
  cells: (figures: F) => string[],
): Table {
  return {
    title,
    columns: [
      { header: 'implementation', align: 'left' },
      { header: 'publishing', align: 'left' },
      { header: 'wait', align: 'left' },
      { header: 'payload', align: 'right' },
      ...['W', 'R'].flatMap((side) => headers.map((header) => ({ header: `${side} ${header}`, align: 'right' as const }))),
    ],
    rows: rows.flatMap(({ implementation, series }) =>
      series.map(({ mode, payloadBytes, figures }) => [
        implementation,
        mode.publishing,
        waitLabel(mode),
        `${payloadBytes} B`,
        ...cells(figures.writer),
        ...cells(figures.reader),
      ]),
    ),
  };
}
