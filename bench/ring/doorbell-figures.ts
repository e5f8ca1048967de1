/**
 * What doorbells cost the two threads of a throughput run, derived from the
 * median trial's time totals: the mean time of one ring (the notify or
 * futex-wake call alone), ringing time per 1000 packets, the mean time from
 * deciding to sleep until awake again, and the share of the measured window
 * each took. Both implementations time the same calls, so the figures compare.
 */
import type { BenchResult } from '../harness/bench-result.js';
import { formatDecimal } from '../harness/number-format.js';
import type { Table } from '../harness/table.js';
import { modeLabel, runResultName } from './ring-figures.js';
import { sideSeries, sideTable, type SideFigures, type SideSeries } from './side-figures.js';
import type { RingMeasurement, ThroughputMeasurement } from './ring-measurement.js';

/** One thread's doorbell cost; a mean over zero events is 0. */
export interface DoorbellSideFigures {
  readonly rings: number;
  readonly sleeps: number;
  readonly microsPerRing: number;
  readonly ringingMicrosPerThousandPackets: number;
  /** Percent of the measured window spent ringing. */
  readonly ringingPercent: number;
  readonly microsPerSleep: number;
  /** Percent of the measured window spent asleep. */
  readonly asleepPercent: number;
}

/** The writer's and the reader's doorbell cost in one throughput run. */
export type DoorbellFigures = SideFigures<DoorbellSideFigures>;

function sideFigures(
  measurement: ThroughputMeasurement,
  rings: number,
  ringingNs: number,
  sleeps: number,
  asleepNs: number,
): DoorbellSideFigures {
  const perEvent = (ns: number, events: number): number => (events > 0 ? ns / events / 1000 : 0);
  const windowNs = measurement.seconds * 1e9;
  const percentOfWindow = (ns: number): number => (windowNs > 0 ? (ns / windowNs) * 100 : 0);
  return {
    rings,
    sleeps,
    microsPerRing: perEvent(ringingNs, rings),
    // ns per packet = µs per 1000 packets.
    ringingMicrosPerThousandPackets: measurement.packets > 0 ? ringingNs / measurement.packets : 0,
    ringingPercent: percentOfWindow(ringingNs),
    microsPerSleep: perEvent(asleepNs, sleeps),
    asleepPercent: percentOfWindow(asleepNs),
  };
}

/** Doorbell cost of one run, or undefined if the run did not time its doorbells. */
export function doorbellFigures(measurement: ThroughputMeasurement): DoorbellFigures | undefined {
  const nanos = measurement.doorbellNanos;
  if (nanos === undefined) return undefined;
  return {
    // The writer rings the reader and sleeps waiting for space; the reader the other way round.
    writer: sideFigures(measurement, measurement.signalsToReader, nanos.writerRinging, measurement.writerSleeps, nanos.writerAsleep),
    reader: sideFigures(measurement, measurement.signalsToWriter, nanos.readerRinging, measurement.readerSleeps, nanos.readerAsleep),
  };
}

function timedSeries(measurement: RingMeasurement): SideSeries<DoorbellSideFigures>[] {
  return sideSeries(measurement, doorbellFigures);
}

/**
 * Machine-readable doorbell cost of the median trials, named like
 * `ring.kmcl.doorbell.writer.64B` (with the mode's suffixes, see `runResultName`).
 */
export function doorbellResults(prefix: string, measurement: RingMeasurement): BenchResult[] {
  const results: BenchResult[] = [];
  for (const { mode, payloadBytes, figures } of timedSeries(measurement)) {
    for (const side of ['writer', 'reader'] as const) {
      const name = runResultName(prefix, `doorbell.${side}`, payloadBytes, mode);
      const f = figures[side];
      results.push(
        { name, unit: 'us/ring', value: f.microsPerRing },
        { name, unit: 'us ringing/1000 packets', value: f.ringingMicrosPerThousandPackets },
        { name, unit: '% of time ringing', value: f.ringingPercent },
        { name, unit: 'us/sleep', value: f.microsPerSleep },
        { name, unit: '% of time asleep', value: f.asleepPercent },
      );
    }
  }
  return results;
}

/** Per implementation and run, the median trial's doorbell cost on both sides. */
export function doorbellTable(title: string, measurements: readonly RingMeasurement[]): Table {
  const cells = (f: DoorbellSideFigures): string[] => [
    formatDecimal(f.microsPerRing, 2),
    formatDecimal(f.ringingMicrosPerThousandPackets, 1),
    formatDecimal(f.ringingPercent, 1),
    formatDecimal(f.microsPerSleep, 1),
  ];
  return sideTable(
    `${title}: doorbell cost, median trial (W writer, R reader; µs/ring: the notify or futex-wake call alone; ` +
      'µs/1k: ringing per 1000 packets; ring %: of the window; µs/sleep: deciding to sleep until awake)',
    ['µs/ring', 'µs/1k', 'ring %', 'µs/sleep'],
    measurements.map((measurement) => ({ implementation: measurement.implementation, series: timedSeries(measurement) })),
    cells,
  );
}

/** "a–b" over the values (one value alone when all agree at the shown precision). */
function span(values: readonly number[], decimals: number): string {
  if (values.length === 0) return 'none';
  const low = formatDecimal(Math.min(...values), decimals);
  const high = formatDecimal(Math.max(...values), decimals);
  return low === high ? low : `${low}–${high}`;
}

/**
 * What share of each thread's measured time went to doorbells across the
 * median trials (ringing, and asleep), with the first run (the smallest
 * batched packets) called out; undefined if no run was timed.
 */
export function doorbellNote(measurement: RingMeasurement): string | undefined {
  const timed = timedSeries(measurement);
  const first = timed[0];
  if (first === undefined) return undefined;
  const all = (pick: (f: DoorbellFigures) => number): number[] => timed.map((t) => pick(t.figures));
  // Means only over runs where the side rang (slept) at all.
  const sides = timed.flatMap((t) => [t.figures.writer, t.figures.reader]);
  const perRing = sides.filter((f) => f.rings > 0).map((f) => f.microsPerRing);
  const perSleep = sides.filter((f) => f.sleeps > 0).map((f) => f.microsPerSleep);
  const at = `at ${first.payloadBytes} B ${modeLabel(first.mode)}`;
  const { writer, reader } = first.figures;
  return (
    `${measurement.implementation} doorbells, share of each thread's measured time (median trials): ` +
    `ringing took the writer ${span(all((f) => f.writer.ringingPercent), 1)}% (${formatDecimal(writer.ringingPercent, 1)}% ${at}) ` +
    `and the reader ${span(all((f) => f.reader.ringingPercent), 1)}% (${formatDecimal(reader.ringingPercent, 1)}% ${at}); ` +
    `asleep, the writer ${span(all((f) => f.writer.asleepPercent), 0)}% and the reader ${span(all((f) => f.reader.asleepPercent), 0)}% ` +
    `(${formatDecimal(writer.asleepPercent, 0)}% and ${formatDecimal(reader.asleepPercent, 0)}% ${at}). ` +
    `A ring cost ${span(perRing, 1)} µs ` +
    `(writer ${formatDecimal(writer.microsPerRing, 1)}, reader ${formatDecimal(reader.microsPerRing, 1)} ${at}); ` +
    `a sleep lasted ${span(perSleep, 0)} µs ` +
    `(writer ${formatDecimal(writer.microsPerSleep, 0)}, reader ${formatDecimal(reader.microsPerSleep, 0)} ${at}).`
  );
}
