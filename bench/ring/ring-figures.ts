import type { BenchResult } from '../harness/bench-result.js';
import { formatCount, formatDecimal } from '../harness/number-format.js';
import { summarizeLatency } from '../harness/percentile.js';
import type { LatencySummary } from '../harness/percentile.js';
import type { Table } from '../harness/table.js';
import { BATCHED_SLEEP_AT_ONCE, type RingBenchPlan, type ThroughputMode } from './ring-bench-plan.js';
import type { LatencyMeasurement, RingMeasurement, ThroughputMeasurement, ThroughputSeries } from './ring-measurement.js';
import { POLLS_PER_CLOCK } from './spin-before-sleep.js';

/** Rates derived from one throughput run; MB means 10^6 payload bytes. */
export interface ThroughputFigures {
  readonly payloadBytes: number;
  readonly packetsPerSecond: number;
  readonly megabytesPerSecond: number;
}

/** Derives rates from raw counts. */
export function throughputFigures(measurement: ThroughputMeasurement): ThroughputFigures {
  const packetsPerSecond = measurement.seconds > 0 ? measurement.packets / measurement.seconds : 0;
  return {
    payloadBytes: measurement.payloadBytes,
    packetsPerSecond,
    megabytesPerSecond: (packetsPerSecond * measurement.payloadBytes) / 1e6,
  };
}

/**
 * The trial that stands for a series: the median by packet rate (the lower
 * middle one for an even count, a rate really observed). The median shrugs
 * off a trial that another process on the machine slowed down.
 */
export function medianTrial(series: ThroughputSeries): ThroughputMeasurement {
  const ranked = [...series.trials].sort(
    (a, b) => throughputFigures(a).packetsPerSecond - throughputFigures(b).packetsPerSecond,
  );
  const median = ranked[Math.ceil(ranked.length / 2) - 1];
  if (median === undefined) throw new RangeError(`no throughput trials for ${series.payloadBytes}-byte packets`);
  return median;
}

/** Round-trip percentiles in microseconds. */
export function latencyFigures(measurement: LatencyMeasurement): LatencySummary {
  return summarizeLatency(measurement.samplesNs.map((ns) => ns / 1000));
}

/**
 * Names of machine-readable ring results per run: `ring.kmcl.<what>.64B` for
 * a batched run that sleeps at once, then `.one-at-a-time` for the other
 * publishing mode and `.spin50us` for a run that polls 50 µs before sleeping.
 */
export function runResultName(prefix: string, what: string, payloadBytes: number, mode: ThroughputMode = BATCHED_SLEEP_AT_ONCE): string {
  const publishing = mode.publishing === 'batched' ? '' : `.${mode.publishing}`;
  const spin = mode.spinBeforeSleepUs > 0 ? `.spin${mode.spinBeforeSleepUs}us` : '';
  return `${prefix}.${what}.${payloadBytes}B${publishing}${spin}`;
}

/** `ring.kmcl.throughput.64B`, `ring.kmcl.throughput.64B.one-at-a-time.spin50us`: see {@link runResultName}. */
export function throughputResultName(prefix: string, payloadBytes: number, mode: ThroughputMode = BATCHED_SLEEP_AT_ONCE): string {
  return runResultName(prefix, 'throughput', payloadBytes, mode);
}

/** How a mode waits, as a table cell: `sleep at once` or `spin 50 µs`. */
export function waitLabel(mode: ThroughputMode): string {
  return mode.spinBeforeSleepUs > 0 ? `spin ${mode.spinBeforeSleepUs} µs` : 'sleep at once';
}

/** A mode in words: `batched, spin 50 µs`. */
export function modeLabel(mode: ThroughputMode): string {
  return `${mode.publishing}, ${waitLabel(mode)}`;
}

/** What the publishing and waiting modes mean under `plan`, for the reader of the tables. */
export function modesNote(plan: RingBenchPlan): string {
  const publishing =
    `batched: the writer publishes its index every ${plan.writeBatch} packets and the reader every ${plan.readBatch}; ` +
    'one-at-a-time: both publish and decide whether to signal after every packet.';
  if (plan.spinBeforeSleepUs === 0) return publishing;
  return (
    `${publishing} sleep at once: a side that must wait arms its doorbell and sleeps (Atomics.wait, futex). ` +
    `spin ${plan.spinBeforeSleepUs} µs: it first polls the ring for up to ${plan.spinBeforeSleepUs} µs ` +
    `(the clock read every ${POLLS_PER_CLOCK} polls), the reader for a packet with its interrupt mask still set, ` +
    'the writer for room before it sets a pending send size, so the peer does not ring meanwhile; ' +
    'C polls the same way, with plain loads and no pause instruction (JavaScript has none).'
  );
}

/** Machine-readable results of one implementation's run (median trials), named under `prefix`. */
export function ringResults(prefix: string, measurement: RingMeasurement): BenchResult[] {
  const results: BenchResult[] = [];
  for (const series of measurement.throughput) {
    const figures = throughputFigures(medianTrial(series));
    const name = throughputResultName(prefix, series.payloadBytes, series.mode);
    results.push({ name, unit: 'packets/s', value: figures.packetsPerSecond });
    results.push({ name, unit: 'MB/s', value: figures.megabytesPerSecond });
  }
  const latency = latencyFigures(measurement.latency);
  for (const [label, value] of [['p50', latency.p50], ['p99', latency.p99], ['p999', latency.p999]] as const) {
    results.push({ name: `${prefix}.latency.${label}`, unit: 'us', value });
  }
  return results;
}

/** The human tables of one implementation's run: throughput per size, then latency. */
export function ringTables(title: string, measurement: RingMeasurement): Table[] {
  const throughput: Table = {
    title: `${title}: throughput, ${measurement.ringDataBytes / 1024} KiB ring, writer and reader threads, median trial`,
    columns: [
      { header: 'publishing', align: 'left' },
      { header: 'wait', align: 'left' },
      { header: 'payload', align: 'right' },
      { header: 'packets/s', align: 'right' },
      { header: 'MB/s', align: 'right' },
    ],
    rows: measurement.throughput.map((series) => {
      const f = throughputFigures(medianTrial(series));
      return [
        series.mode.publishing,
        waitLabel(series.mode),
        `${series.payloadBytes} B`,
        formatCount(f.packetsPerSecond),
        formatDecimal(f.megabytesPerSecond, 1),
      ];
    }),
  };
  return [throughput, latencyTable(title, [measurement]), trialsTable(title, [measurement])];
}

/** A latency table with one row per implementation. */
export function latencyTable(title: string, measurements: readonly RingMeasurement[]): Table {
  const first = measurements[0]?.latency;
  const shape = first === undefined ? '' : `, ${first.requestBytes} B request, ${first.completionBytes} B completion`;
  return {
    title: `${title}: round-trip latency${shape}`,
    columns: [
      { header: 'implementation', align: 'left' },
      { header: 'samples', align: 'right' },
      { header: 'p50 µs', align: 'right' },
      { header: 'p99 µs', align: 'right' },
      { header: 'p999 µs', align: 'right' },
    ],
    rows: measurements.map(({ implementation, latency }) => {
      const summary = latencyFigures(latency);
      return [
        implementation,
        formatCount(summary.samples),
        formatDecimal(summary.p50, 1),
        formatDecimal(summary.p99, 1),
        formatDecimal(summary.p999, 1),
      ];
    }),
  };
}

/** Every trial's rate and the median trial's signalling, per implementation and size. */
export function trialsTable(title: string, measurements: readonly RingMeasurement[]): Table {
  return {
    title: `${title}: trials (M packets/s) and median trial's doorbells and sleeps per 1000 packets`,
    columns: [
      { header: 'implementation', align: 'left' },
      { header: 'publishing', align: 'left' },
      { header: 'wait', align: 'left' },
      { header: 'payload', align: 'right' },
      { header: 'trials', align: 'left' },
      { header: 'to reader', align: 'right' },
      { header: 'to writer', align: 'right' },
      { header: 'reader sleeps', align: 'right' },
      { header: 'writer sleeps', align: 'right' },
    ],
    rows: measurements.flatMap((measurement) =>
      measurement.throughput.map((series) => {
        const median = medianTrial(series);
        const perThousand = (count: number): string =>
          formatDecimal(median.packets > 0 ? (count * 1000) / median.packets : 0, 2);
        return [
          measurement.implementation,
          series.mode.publishing,
          waitLabel(series.mode),
          `${series.payloadBytes} B`,
          series.trials.map((t) => formatDecimal(throughputFigures(t).packetsPerSecond / 1e6, 3)).join(' '),
          perThousand(median.signalsToReader),
          perThousand(median.signalsToWriter),
          perThousand(median.readerSleeps),
          perThousand(median.writerSleeps),
        ];
      }),
    ),
  };
}
