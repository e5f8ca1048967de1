import { availableParallelism } from 'node:os';
import type { BenchResult } from '../harness/bench-result.js';
import { formatCount, formatDecimal } from '../harness/number-format.js';
import type { SubBenchmark } from '../harness/sub-benchmark.js';
import type { Table } from '../harness/table.js';
import { channelTotals, cpuPerPacket, guestTotals, medianRate, shareSpread, windowRate } from '../scale/scale-figures.js';
import { SCALE_PLAN, type ScalePlan } from '../scale/scale-plan.js';
import { runScale, type ScaleRun, type ScaleShape } from '../scale/scale-run.js';

function windowsCell(run: ScaleRun): string {
  return run.windows.map((window) => formatDecimal(windowRate(window) / 1000, 1)).join(' ');
}

function ratioCell(value: number, base: number | undefined): string {
  return base === undefined || base === 0 ? '-' : formatDecimal(value / base, 2);
}

function channelTable(plan: ScalePlan, runs: readonly ScaleRun[]): Table {
  const base = runs[0] === undefined ? undefined : medianRate(runs[0]);
  return {
    title: `scale: channels on one guest worker, traffic on all at once (${plan.payloadBytes} B requests, ${plan.completionBytes} B completions, window ${plan.window} per channel), median of ${plan.windows} × ${plan.windowMs} ms`,
    columns: [
      { header: 'channels', align: 'right' },
      { header: 'packets/s', align: 'right' },
      { header: `vs ${runs[0]?.shape.channelsPerGuest ?? 1}`, align: 'right' },
      { header: 'CPU µs/packet', align: 'right' },
      { header: 'min channel share', align: 'right' },
      { header: 'max channel share', align: 'right' },
      { header: 'windows (k packets/s)', align: 'left' },
    ],
    rows: runs.map((run) => {
      const rate = medianRate(run);
      const spread = shareSpread(channelTotals(run));
      const cpu = formatDecimal(cpuPerPacket(run), 2);
      return [String(run.shape.channelsPerGuest), formatCount(rate), ratioCell(rate, base), cpu, formatDecimal(spread.min, 2), formatDecimal(spread.max, 2), windowsCell(run)];
    }),
  };
}

function guestTable(plan: ScalePlan, runs: readonly ScaleRun[]): Table {
  const base = runs[0] === undefined ? undefined : medianRate(runs[0]);
  return {
    title: `scale: guests, each a worker with ${plan.channelsPerGuest} echo channels, the host in the main thread, median of ${plan.windows} × ${plan.windowMs} ms`,
    columns: [
      { header: 'guests', align: 'right' },
      { header: 'channels', align: 'right' },
      { header: 'packets/s', align: 'right' },
      { header: `vs ${runs[0]?.shape.guests ?? 1}`, align: 'right' },
      { header: 'CPU µs/packet', align: 'right' },
      { header: 'min guest share', align: 'right' },
      { header: 'max guest share', align: 'right' },
      { header: 'min channel share', align: 'right' },
      { header: 'windows (k packets/s)', align: 'left' },
    ],
    rows: runs.map((run) => {
      const rate = medianRate(run);
      const guests = shareSpread(guestTotals(run));
      const channels = shareSpread(channelTotals(run));
      const { guests: count, channelsPerGuest } = run.shape;
      return [String(count), String(count * channelsPerGuest), formatCount(rate), ratioCell(rate, base), formatDecimal(cpuPerPacket(run), 2), formatDecimal(guests.min, 2), formatDecimal(guests.max, 2), formatDecimal(channels.min, 2), windowsCell(run)];
    }),
  };
}

function runResults(prefix: string, run: ScaleRun, spreadOf: (run: ScaleRun) => number[]): BenchResult[] {
  const spread = shareSpread(spreadOf(run));
  return [
    { name: `${prefix}.packetsPerSecond`, unit: 'packets/s', value: medianRate(run) },
    { name: `${prefix}.cpuPerPacket`, unit: 'µs', value: cpuPerPacket(run) },
    { name: `${prefix}.share.min`, unit: 'x equal share', value: spread.min },
    { name: `${prefix}.share.max`, unit: 'x equal share', value: spread.max },
  ];
}

/**
 * `scale`: end-to-end echo traffic over the whole stack (createVm, guests in
 * workers, the echo VSP on the server table, the echo VSC on the client
 * table): aggregate completions per second and how evenly they spread, as
 * channels grow on one guest and as guests grow.
 */
export const scaleSuite: SubBenchmark = {
  name: 'scale',
  description: 'echo traffic on every channel of a VM in workers: packets/s and fairness as channels (1 → 256) and guests (1 → 4) grow',
  async run(context) {
    const plan = SCALE_PLAN;
    const channelShapes: ScaleShape[] = plan.channelCounts.map((channels) => ({ guests: 1, channelsPerGuest: channels }));
    const guestShapes: ScaleShape[] = plan.guestCounts.map((guests) => ({ guests, channelsPerGuest: plan.channelsPerGuest }));
    context.progress.begin(channelShapes.length + guestShapes.length);
    const channelRuns: ScaleRun[] = [];
    for (const shape of channelShapes) {
      channelRuns.push(await runScale(plan, shape));
      context.progress.step(`${shape.channelsPerGuest} channels on one guest`);
    }
    const guestRuns: ScaleRun[] = [];
    for (const shape of guestShapes) {
      guestRuns.push(await runScale(plan, shape));
      context.progress.step(`${shape.guests} guests × ${shape.channelsPerGuest} channels`);
    }
    const results = [
      ...channelRuns.flatMap((run) => runResults(`scale.channels.${run.shape.channelsPerGuest}`, run, channelTotals)),
      ...guestRuns.flatMap((run) => runResults(`scale.guests.${run.shape.guests}`, run, guestTotals)),
    ];
    const cpus = availableParallelism();
    const guestsWithOwnCore = Math.max(1, cpus - 1);
    return {
      results,
      tables: [channelTable(plan, channelRuns), guestTable(plan, guestRuns)],
      notes: [
        `bounded by ${cpus} CPUs: the host thread and every guest worker share them, so beyond ${guestsWithOwnCore} guest${guestsWithOwnCore === 1 ? '' : 's'} more workers add no cores, only contention (and each sleeping thread's wake-up costs tens of µs).`,
        'shares are each channel\'s (or guest\'s) completions over all measured windows, as a multiple of an equal share: 1.00 is perfectly even. CPU µs/packet is the whole process\'s CPU (every thread) per completed request over the same windows: steadier than packets/s when other work shares the machine.',
      ],
    };
  },
};
