/**
 * What polling before sleep did in the spinning throughput runs, derived from
 * the median trial: how often each thread spun, how long a spin lasted on
 * average (the gap it bridged, or the whole budget), how many spins saw what
 * they waited for before the deadline (and so saved a sleep and the peer's
 * ring), and the share of the window spent polling. Both implementations poll and
 * count the same way, so the figures compare.
 */
import type { BenchResult } from '../harness/bench-result.js';
import { formatDecimal } from '../harness/number-format.js';
import type { Table } from '../harness/table.js';
import { runResultName } from './ring-figures.js';
import { sideSeries, sideTable, type SideFigures, type SideSeries } from './side-figures.js';
import type { RingMeasurement, ThroughputMeasurement } from './ring-measurement.js';

/** One thread's spinning in one run; shares over zero events are 0. */
export interface SpinSideFigures {
  readonly spins: number;
  readonly spinsPerThousandPackets: number;
  readonly microsPerSpin: number;
  /** Percent of spins that ended with the condition cleared, not by the deadline. */
  readonly caughtPercent: number;
  /** Percent of the measured window spent polling. */
  readonly spinningPercent: number;
}

/** The writer's and the reader's spinning in one run. */
export type SpinFigures = SideFigures<SpinSideFigures>;

function sideFigures(measurement: ThroughputMeasurement, spins: number, timedOut: number, spinningNs: number): SpinSideFigures {
  const windowNs = measurement.seconds * 1e9;
  return {
    spins,
    spinsPerThousandPackets: measurement.packets > 0 ? (spins * 1000) / measurement.packets : 0,
    microsPerSpin: spins > 0 ? spinningNs / spins / 1000 : 0,
    caughtPercent: spins > 0 ? ((spins - timedOut) / spins) * 100 : 0,
    spinningPercent: windowNs > 0 ? (spinningNs / windowNs) * 100 : 0,
  };
}

/** Spinning of one run, or undefined if the run did not count or time it. */
export function spinFigures(measurement: ThroughputMeasurement): SpinFigures | undefined {
  const { spins, doorbellNanos: nanos } = measurement;
  if (spins === undefined || nanos === undefined) return undefined;
  return {
    writer: sideFigures(measurement, spins.writer, spins.writerTimedOut, nanos.writerSpinning),
    reader: sideFigures(measurement, spins.reader, spins.readerTimedOut, nanos.readerSpinning),
  };
}

function spinningSeries(measurement: RingMeasurement): SideSeries<SpinSideFigures>[] {
  return sideSeries(measurement, (trial, mode) => (mode.spinBeforeSleepUs > 0 ? spinFigures(trial) : undefined));
}

/** Machine-readable spinning of the spinning runs' median trials, named like `ring.kmcl.spin.reader.64B.spin50us`. */
export function spinResults(prefix: string, measurement: RingMeasurement): BenchResult[] {
  return spinningSeries(measurement).flatMap(({ mode, payloadBytes, figures }) =>
    (['writer', 'reader'] as const).flatMap((side) => {
      const name = runResultName(prefix, `spin.${side}`, payloadBytes, mode);
      const f = figures[side];
      return [
        { name, unit: 'spins/1000 packets', value: f.spinsPerThousandPackets },
        { name, unit: 'us/spin', value: f.microsPerSpin },
        { name, unit: '% of spins caught', value: f.caughtPercent },
        { name, unit: '% of time spinning', value: f.spinningPercent },
      ];
    }),
  );
}

/** Per implementation and spinning run, the median trial's spinning on both sides. */
export function spinTable(title: string, measurements: readonly RingMeasurement[]): Table {
  const cells = (f: SpinSideFigures): string[] => [
    formatDecimal(f.spinsPerThousandPackets, 2),
    formatDecimal(f.microsPerSpin, 1),
    formatDecimal(f.caughtPercent, 1),
    formatDecimal(f.spinningPercent, 1),
  ];
  return sideTable(
    `${title}: polling before sleep, median trial (W writer, R reader; spins/1k: per 1000 packets; µs/spin: mean length; ` +
      'caught %: spins that saw a packet (reader) or room (writer) in time, saving a sleep; spin %: of the window)',
    ['spins/1k', 'µs/spin', 'caught %', 'spin %'],
    measurements.map((measurement) => ({ implementation: measurement.implementation, series: spinningSeries(measurement) })),
    cells,
  );
}

/** How to read a low caught share, for the reader of {@link spinTable}. */
export function spinNote(): string {
  return (
    'polling before sleep: a spin that is rarely caught waited out its whole budget, then slept anyway: ' +
    'the peer was asleep itself (waking a sleeping thread takes longer than the spin), or the two threads ' +
    'shared one core because something else ran on the machine, and a thread that polls then keeps its peer off the core.'
  );
}
