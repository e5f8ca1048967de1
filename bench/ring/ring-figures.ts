import type { BenchResult } from '../harness/bench-result.js';
import { formatCount, formatDecimal } from '../harness/number-format.js';
import { summarizeLatency } from '../harness/percentile.js';
import type { LatencySummary } from '../harness/percentile.js';
import type { Table } from '../harness/table.js';
import type { RingBenchPlan, RingPublishing } from './ring-bench-plan.js';
import type {
  LatencyMeasurement,
  RingMeasurement,
  ThroughputMeasurement,
  ThroughputSeries,
} from './ring-measurement.js';

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
 * a batched run, `ring.kmcl.<what>.64B.one-at-a-time` for the other mode.
 */
export function runResultName(prefix: string, what: string, payloadBytes: number, publishing: RingPublishing = 'batched'): string {
  const name = `${prefix}.${what}.${payloadBytes}B`;
  return publishing === 'batched' ? name : `${name}.${publishing}`;
}

/** `ring.kmcl.throughput.64B`, `ring.kmcl.throughput.64B.one-at-a-time`: see {@link runResultName}. */
export function throughputResultName(prefix: string, payloadBytes: number, publishing: RingPublishing = 'batched'): string {
  return runResultName(prefix, 'throughput', payloadBytes, publishing);
}

/** A throughput series with the publishing mode it ran in. */
export interface PublishedSeries {
  readonly publishing: RingPublishing;
  readonly series: ThroughputSeries;
}

/** Every throughput series of a measurement, batched ones first. */
export function publishedSeries(measurement: RingMeasurement): PublishedSeries[] {
  return [
    ...measurement.throughput.map((series) => ({ publishing: 'batched' as const, series })),
    ...(measurement.oneAtATime ?? []).map((series) => ({ publishing: 'one-at-a-time' as const, series })),
  ];
}

/** What the two publishing modes mean under `plan`, for the reader of the tables. */
export function publishingNote(plan: RingBenchPlan): string {
  return (
    `batched: the writer publishes its index every ${plan.writeBatch} packets and the reader every ${plan.readBatch}; ` +
    'one-at-a-time: both publish and decide whether to signal after every packet.'
  );
}

/** Machine-readable results of one implementation's run (median trials), named under `prefix`. */
export function ringResults(prefix: string, measurement: RingMeasurement): BenchResult[] {
  const results: BenchResult[] = [];
  for (const { publishing, series } of publishedSeries(measurement)) {
    const figures = throughputFigures(medianTrial(series));
    const name = throughputResultName(prefix, series.payloadBytes, publishing);
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
      { header: 'payload', align: 'right' },
      { header: 'packets/s', align: 'right' },
      { header: 'MB/s', align: 'right' },
    ],
    rows: publishedSeries(measurement).map(({ publishing, series }) => {
      const f = throughputFigures(medianTrial(series));
      return [publishing, `${series.payloadBytes} B`, formatCount(f.packetsPerSecond), formatDecimal(f.megabytesPerSecond, 1)];
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
      { header: 'payload', align: 'right' },
      { header: 'trials', align: 'left' },
      { header: 'to reader', align: 'right' },
      { header: 'to writer', align: 'right' },
      { header: 'reader sleeps', align: 'right' },
      { header: 'writer sleeps', align: 'right' },
    ],
    rows: measurements.flatMap((measurement) =>
      publishedSeries(measurement).map(({ publishing, series }) => {
        const median = medianTrial(series);
        const perThousand = (count: number): string =>
          formatDecimal(median.packets > 0 ? (count * 1000) / median.packets : 0, 2);
        return [
          measurement.implementation,
          publishing,
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
