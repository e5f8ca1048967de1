/**
 * The `kmcl` benchmark's GPA-direct figures: payload GB/s through the KMCL
 * next to the plain copy of the same bytes measured in the same host worker,
 * their ratio per trial (each trial pairs a copy phase with the transfer
 * phase right after it, so load from elsewhere tends to hit both), and the
 * issue's target for 1 MiB.
 */
import { targetFor, type BenchResult } from '../harness/bench-result.js';
import { formatCount, formatDecimal } from '../harness/number-format.js';
import type { Table } from '../harness/table.js';
import type { GpaDirectMeasurement } from './gpa-direct-run.js';

/** The goal: GPA-direct 1 MiB payload throughput ≥ 0.7 × a plain TypedArray.set of the same bytes. */
export const GPA_DIRECT_TARGETS: ReadonlyMap<number, number> = new Map([[1024 * 1024, 0.7]]);

/** The trials of one transfer size. */
export interface GpaDirectSeries {
  readonly transferBytes: number;
  readonly window: number;
  readonly trials: readonly GpaDirectMeasurement[];
}

interface TrialFigures {
  readonly transfersPerSecond: number;
  /** 10^9 bytes of payload per second. */
  readonly gigabytesPerSecond: number;
  readonly plainGigabytesPerSecond: number;
  readonly ratio: number;
}

function trialFigures(m: GpaDirectMeasurement): TrialFigures {
  const transfersPerSecond = m.seconds > 0 ? m.transfers / m.seconds : 0;
  const gigabytesPerSecond = (transfersPerSecond * m.transferBytes) / 1e9;
  const plain = m.plainCopy.seconds > 0 ? (m.plainCopy.copies * m.transferBytes) / m.plainCopy.seconds / 1e9 : 0;
  return { transfersPerSecond, gigabytesPerSecond, plainGigabytesPerSecond: plain, ratio: plain > 0 ? gigabytesPerSecond / plain : 0 };
}

/** The lower middle value (a value really observed). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length / 2) - 1] ?? 0;
}

/** Median figures of a series; the ratio is the median of the per-trial ratios. */
function seriesFigures(series: GpaDirectSeries): TrialFigures {
  const trials = series.trials.map(trialFigures);
  return {
    transfersPerSecond: median(trials.map((t) => t.transfersPerSecond)),
    gigabytesPerSecond: median(trials.map((t) => t.gigabytesPerSecond)),
    plainGigabytesPerSecond: median(trials.map((t) => t.plainGigabytesPerSecond)),
    ratio: median(trials.map((t) => t.ratio)),
  };
}

/** A size as the table and result names spell it: 64KiB, 1MiB. */
function sizeName(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)}MiB` : `${bytes / 1024}KiB`;
}

/** Machine-readable GPA-direct results, e.g. `kmcl.gpaDirect.1MiB` (GB/s) and `kmcl.gpaDirect.1MiB.ratio`. */
export function gpaDirectResults(all: readonly GpaDirectSeries[]): BenchResult[] {
  return all.flatMap((series) => {
    const f = seriesFigures(series);
    const name = `kmcl.gpaDirect.${sizeName(series.transferBytes)}`;
    const goal = GPA_DIRECT_TARGETS.get(series.transferBytes);
    const ratio: BenchResult = { name: `${name}.ratio`, unit: 'gpa-direct/copy', value: f.ratio };
    return [
      { name, unit: 'GB/s', value: f.gigabytesPerSecond },
      { name, unit: 'transfers/s', value: f.transfersPerSecond },
      { name: `${name}.plainCopy`, unit: 'GB/s', value: f.plainGigabytesPerSecond },
      goal === undefined ? ratio : { ...ratio, target: targetFor(f.ratio, goal) },
    ];
  });
}

/** The human table: one row per size, with the window and every trial's ratio. */
export function gpaDirectTable(all: readonly GpaDirectSeries[], trials: number): Table {
  return {
    title:
      `kmcl: GPA-direct transfers, guest VmbPacketSendWithExternalMdl → host VmbChannelPacketGetExternalData + copy + ` +
      `VmbChannelPacketComplete, vs a plain TypedArray.set of the same bytes in the host thread, median of ${trials}`,
    columns: [
      { header: 'transfer', align: 'right' },
      { header: 'window', align: 'right' },
      { header: 'transfers/s', align: 'right' },
      { header: 'GB/s', align: 'right' },
      { header: 'plain copy GB/s', align: 'right' },
      { header: 'ratio', align: 'right' },
      { header: 'target', align: 'left' },
      { header: 'trial ratios', align: 'left' },
      { header: 'host sleeps/1000', align: 'right' },
    ],
    rows: all.map((series) => {
      const f = seriesFigures(series);
      const goal = GPA_DIRECT_TARGETS.get(series.transferBytes);
      const target = goal === undefined ? '-' : `≥ ${formatDecimal(goal, 2)} ${f.ratio >= goal ? '✔' : '✘'}`;
      const transfers = series.trials.reduce((sum, t) => sum + t.transfers, 0);
      const sleeps = series.trials.reduce((sum, t) => sum + t.hostSleeps, 0);
      return [
        sizeName(series.transferBytes).replace(/(\d)([KM])/, '$1 $2'),
        String(series.window),
        formatCount(f.transfersPerSecond),
        formatDecimal(f.gigabytesPerSecond, 2),
        formatDecimal(f.plainGigabytesPerSecond, 2),
        formatDecimal(f.ratio, 2),
        target,
        series.trials.map((t) => formatDecimal(trialFigures(t).ratio, 2)).join(' '),
        formatDecimal(transfers > 0 ? (sleeps * 1000) / transfers : 0, 1),
      ];
    }),
  };
}
