/**
 * `kmcl`: the KMCL data path across two worker threads, next to the raw ring
 * engine measured the same way in the same run (trials interleaved):
 * - send + complete throughput, 64 B requests with a window in flight:
 *   VmbPacketSend → EvtVmbChannelProcessPacket → VmbChannelPacketComplete →
 *   completion routine (interface table), `Channel.send` ↔ `for await` +
 *   `packet.complete()` (idiomatic API), and the same exchange on the raw rings;
 * - one-way (stream) throughput, 64 B, no completion requested: the raw
 *   figure is the ring benchmark's own run (bench/ring/throughput-run.ts);
 * - round-trip latency, one request at a time: the raw figure is the ring
 *   benchmark's latency run (bench/ring/latency-run.ts);
 * - GPA-direct transfers of 64 KiB and 1 MiB (bench/kmcl/gpa-direct-run.ts):
 *   payload GB/s next to a plain TypedArray.set of the same bytes.
 * Targets: KMCL send + complete ≥ 0.67 × the raw ring's, 64 B; GPA-direct
 * 1 MiB ≥ 0.7 × the plain copy.
 */
import { describeTarget, targetFor, type BenchResult } from './harness/bench-result.js';
import { formatCount, formatDecimal } from './harness/number-format.js';
import { medianPairedRatio } from './harness/percentile.js';
import type { SubBenchmark } from './harness/sub-benchmark.js';
import type { Table } from './harness/table.js';
import { gpaDirectResults, gpaDirectTable, type GpaDirectSeries } from './kmcl/gpa-direct-report.js';
import { measureGpaDirect, type GpaDirectMeasurement } from './kmcl/gpa-direct-run.js';
import { KMCL_BENCH_PLAN, type KmclBenchPlan } from './kmcl/kmcl-bench-plan.js';
import { measureKmclLatency, measureKmclThroughput } from './kmcl/kmcl-run.js';
import type { BenchApi } from './kmcl/kmcl-worker-data.js';
import { measureLatency } from './ring/latency-run.js';
import { RING_BENCH_PLAN, type RingBenchPlan } from './ring/ring-bench-plan.js';
import { latencyFigures, medianTrial, throughputFigures } from './ring/ring-figures.js';
import type { LatencyMeasurement, ThroughputMeasurement } from './ring/ring-measurement.js';
import { measureThroughput } from './ring/throughput-run.js';

/** The goal: KMCL send + complete throughput as a fraction of the raw ring's, 64 B packets. */
export const KMCL_THROUGHPUT_TARGET = 0.67;

const APIS: readonly BenchApi[] = ['raw', 'kmcl', 'idiomatic'];
const MODES = ['transactions', 'stream'] as const;
type ThroughputMode = (typeof MODES)[number];

const MODE_TITLES: Record<ThroughputMode, string> = {
  transactions: 'send + complete',
  stream: 'one-way stream',
};

/** The ring benchmark's plan reduced to this benchmark's payload, so its raw runs are the same work. */
function ringPlanOf(plan: KmclBenchPlan): RingBenchPlan {
  return {
    ...RING_BENCH_PLAN,
    dataBytes: plan.dataBytes,
    payloadSizes: [plan.payloadBytes],
    warmupMs: plan.warmupMs,
    durationMs: plan.durationMs,
    latencyRequestBytes: plan.payloadBytes,
    latencyWarmup: plan.latencyWarmup,
    latencySamples: plan.latencySamples,
  };
}

function throughputRun(plan: KmclBenchPlan, api: BenchApi, mode: ThroughputMode): Promise<ThroughputMeasurement> {
  if (api === 'raw' && mode === 'stream') return measureThroughput(ringPlanOf(plan), plan.payloadBytes);
  return measureKmclThroughput(plan, api, mode);
}

function latencyRun(plan: KmclBenchPlan, api: BenchApi): Promise<LatencyMeasurement> {
  return api === 'raw' ? measureLatency(ringPlanOf(plan)) : measureKmclLatency(plan, api);
}

type Series = Record<ThroughputMode, Record<BenchApi, ThroughputMeasurement[]>>;

function rate(trials: readonly ThroughputMeasurement[], payloadBytes: number): number {
  return throughputFigures(medianTrial({ payloadBytes, trials })).packetsPerSecond;
}

function rates(trials: readonly ThroughputMeasurement[]): number[] {
  return trials.map((trial) => throughputFigures(trial).packetsPerSecond);
}

export const kmclSuite: SubBenchmark = {
  name: 'kmcl',
  description: 'KMCL send + complete (interface table, idiomatic API) vs the raw ring across threads: 64 B throughput, latency; GPA-direct GB/s vs a plain copy',
  async run(context) {
    const plan = KMCL_BENCH_PLAN;
    context.progress.begin(plan.trials * (MODES.length * APIS.length + plan.gpaDirect.length) + APIS.length);
    const gpaTrials = plan.gpaDirect.map((): GpaDirectMeasurement[] => []);
    const series = Object.fromEntries(MODES.map((mode) => [mode, Object.fromEntries(APIS.map((api) => [api, []]))])) as unknown as Series;
    for (let trial = 1; trial <= plan.trials; trial++) {
      for (const mode of MODES) {
        for (const api of APIS) {
          series[mode][api].push(await throughputRun(plan, api, mode));
          context.progress.step(`${api} ${MODE_TITLES[mode]}, trial ${trial}/${plan.trials}`);
        }
      }
      for (const [index, gpaCase] of plan.gpaDirect.entries()) {
        gpaTrials[index]?.push(await measureGpaDirect(plan, gpaCase));
        context.progress.step(`GPA-direct ${gpaCase.transferBytes / 1024} KiB, trial ${trial}/${plan.trials}`);
      }
    }
    const gpaSeries: GpaDirectSeries[] = plan.gpaDirect.map((gpaCase, index) => ({ ...gpaCase, trials: gpaTrials[index] ?? [] }));
    const latency = new Map<BenchApi, LatencyMeasurement>();
    for (const api of APIS) {
      latency.set(api, await latencyRun(plan, api));
      context.progress.step(`${api} latency`);
    }

    const results: BenchResult[] = [];
    const throughputRows: string[][] = [];
    const trialRows: string[][] = [];
    for (const mode of MODES) {
      for (const api of APIS) {
        const trials = series[mode][api];
        const value = rate(trials, plan.payloadBytes);
        const name = `kmcl.${mode}.${plan.payloadBytes}B.${api}`;
        results.push({ name, unit: 'packets/s', value });
        let ratioCell = '-';
        let targetCell = '-';
        if (api !== 'raw') {
          // Trial by trial: each api's trial runs right after raw's in the same round.
          const ratio = medianPairedRatio(rates(trials), rates(series[mode].raw));
          // The goal is set for send + complete through the interface table; the other ratios are context.
          const target = api === 'kmcl' && mode === 'transactions' ? targetFor(ratio, KMCL_THROUGHPUT_TARGET) : undefined;
          results.push(target === undefined ? { name: `${name}.ratio`, unit: `${api}/raw`, value: ratio } : { name: `${name}.ratio`, unit: `${api}/raw`, value: ratio, target });
          ratioCell = formatDecimal(ratio, 2);
          if (target !== undefined) targetCell = describeTarget(target, 2);
        }
        throughputRows.push([MODE_TITLES[mode], api, formatCount(value), ratioCell, targetCell]);
        const median = medianTrial({ payloadBytes: plan.payloadBytes, trials });
        const perThousand = (count: number): string => formatDecimal(median.packets > 0 ? (count * 1000) / median.packets : 0, 2);
        trialRows.push([
          MODE_TITLES[mode],
          api,
          trials.map((t) => formatDecimal(throughputFigures(t).packetsPerSecond / 1e6, 3)).join(' '),
          perThousand(median.signalsToReader),
          perThousand(median.signalsToWriter),
          perThousand(median.readerSleeps),
          perThousand(median.writerSleeps),
        ]);
      }
    }
    const latencyRows = APIS.map((api) => {
      const summary = latencyFigures(latency.get(api)!);
      for (const [label, value] of [['p50', summary.p50], ['p99', summary.p99], ['p999', summary.p999]] as const) {
        results.push({ name: `kmcl.latency.${api}.${label}`, unit: 'us', value });
      }
      return [api, formatCount(summary.samples), formatDecimal(summary.p50, 1), formatDecimal(summary.p99, 1), formatDecimal(summary.p999, 1)];
    });

    const tables: Table[] = [
      {
        title: `kmcl: throughput across two threads, ${plan.payloadBytes} B, ${plan.dataBytes / 1024} KiB rings, window ${plan.window}, median of ${plan.trials}`,
        columns: [
          { header: 'run', align: 'left' },
          { header: 'api', align: 'left' },
          { header: 'packets/s', align: 'right' },
          { header: 'vs raw', align: 'right' },
          { header: 'target', align: 'left' },
        ],
        rows: throughputRows,
      },
      {
        title: `kmcl: round-trip latency, ${plan.payloadBytes} B request, ${plan.completionBytes} B completion, one in flight`,
        columns: [
          { header: 'api', align: 'left' },
          { header: 'samples', align: 'right' },
          { header: 'p50 µs', align: 'right' },
          { header: 'p99 µs', align: 'right' },
          { header: 'p999 µs', align: 'right' },
        ],
        rows: latencyRows,
      },
      {
        title: 'kmcl: trials (M packets/s) and the median trial\'s doorbells and sleeps per 1000 packets',
        columns: [
          { header: 'run', align: 'left' },
          { header: 'api', align: 'left' },
          { header: 'trials', align: 'left' },
          { header: 'to receiver', align: 'right' },
          { header: 'to sender', align: 'right' },
          { header: 'receiver sleeps', align: 'right' },
          { header: 'sender sleeps', align: 'right' },
        ],
        rows: trialRows,
      },
      gpaDirectTable(gpaSeries, plan.trials),
    ];
    results.push(...gpaDirectResults(gpaSeries));
    return {
      results,
      tables,
      notes: [
        'raw and kmcl workers sleep in Atomics.wait; the idiomatic API needs the event loop, so its workers wait with Atomics.waitAsync (as a guest in a worker does).',
        'GPA-direct: every transfer in flight describes the same guest buffer (contiguous pages; the host only reads it) and the host copies into the same host buffer, ' +
          'exactly what its plain-copy baseline copies; window = transfers in flight. Each trial times the plain copy, then the transfers, in the same host worker; ratio = median of the per-trial ratios.',
      ],
    };
  },
};
