import { describeTarget, targetBelow, type BenchResult } from '../harness/bench-result.js';
import { formatDecimal } from '../harness/number-format.js';
import type { SubBenchmark } from '../harness/sub-benchmark.js';
import type { Table } from '../harness/table.js';
import { IDLE_PLAN, type IdlePlan } from '../idle/idle-plan.js';
import { measureIdle, type IdleMeasurement } from '../idle/idle-run.js';
import type { CpuSpan } from '../idle/thread-cpu.js';

const UNIT = '% of one core';

function percentOfCore(cpuSeconds: number, span: CpuSpan): number {
  return span.seconds > 0 ? (cpuSeconds / span.seconds) * 100 : 0;
}

/** The whole process's CPU over the main thread's window: every thread, helpers included. */
function totalPercent(measurement: IdleMeasurement): number {
  return percentOfCore(measurement.main.processCpuSeconds, measurement.main);
}

function threadResults(prefix: string, thread: string, span: CpuSpan): BenchResult[] {
  const results: BenchResult[] = [{ name: `${prefix}.eventLoop.${thread}`, unit: '% busy', value: span.eventLoopUtilization * 100 }];
  if (span.threadCpuSeconds !== null) results.unshift({ name: `${prefix}.cpu.${thread}`, unit: UNIT, value: percentOfCore(span.threadCpuSeconds, span) });
  return results;
}

function results(plan: IdlePlan, silent: IdleMeasurement, afterTraffic: IdleMeasurement): BenchResult[] {
  const total = totalPercent(silent);
  return [
    { name: 'idle.cpu.total', unit: UNIT, value: total, target: targetBelow(total, plan.budgetPercent) },
    ...threadResults('idle', 'main', silent.main),
    ...threadResults('idle', 'guest', silent.guest),
    { name: 'idle.afterTraffic.cpu.total', unit: UNIT, value: totalPercent(afterTraffic) },
    ...threadResults('idle.afterTraffic', 'main', afterTraffic.main),
    ...threadResults('idle.afterTraffic', 'guest', afterTraffic.guest),
  ];
}

function rows(title: string, measurement: IdleMeasurement, target: string): string[][] {
  const cpu = (span: CpuSpan): string => (span.threadCpuSeconds === null ? '-' : formatDecimal(percentOfCore(span.threadCpuSeconds, span), 3));
  const busy = (span: CpuSpan): string => formatDecimal(span.eventLoopUtilization * 100, 3);
  return [
    [title, 'main (host partition)', cpu(measurement.main), busy(measurement.main), ''],
    [title, 'guest worker', cpu(measurement.guest), busy(measurement.guest), ''],
    [title, 'process, every thread', formatDecimal(totalPercent(measurement), 3), '', target],
  ];
}

function table(plan: IdlePlan, silent: IdleMeasurement, afterTraffic: IdleMeasurement): Table {
  const verdict = describeTarget(targetBelow(totalPercent(silent), plan.budgetPercent), 0);
  return {
    title: `idle: one guest worker, 4 integration components + ${plan.echoChannels} echo channels open, no traffic in the ${plan.windowMs / 1000} s window`,
    columns: [
      { header: 'run', align: 'left' },
      { header: 'thread', align: 'left' },
      { header: `CPU ${UNIT}`, align: 'right' },
      { header: 'event loop busy %', align: 'right' },
      { header: 'target', align: 'left' },
    ],
    rows: [...rows('never used, IC timers silent', silent, verdict), ...rows('after traffic, IC timers on', afterTraffic, '')],
  };
}

/**
 * `idle`: what a VM with open channels and no traffic costs: one guest in a
 * worker with the integration components and the echo device's channels
 * open, every thread's CPU over 5 s, against the issue's < 1% of a core; then,
 * as context, the same right after a burst of echo traffic with the
 * heartbeat and time sync timers at Hyper-V's intervals.
 */
export const idleSuite: SubBenchmark = {
  name: 'idle',
  description: 'a VM with open channels and no traffic for 5 s: CPU of every thread (target < 1% of a core)',
  async run(context) {
    const plan = IDLE_PLAN;
    context.progress.begin(2);
    const silent = await measureIdle(plan, { timers: 'silent', burstMs: 0 });
    context.progress.step('channels open, never used, IC timers silent');
    const afterTraffic = await measureIdle(plan, { timers: 'hyper-v', burstMs: plan.burstMs });
    context.progress.step('after an echo burst, IC timers at Hyper-V defaults');
    const notes = [
      'the target counts the whole process (process.cpuUsage: every thread, V8 and libuv helpers included) with the IC heartbeat and time sync timers an hour apart, so the window holds no packet; each sends once right after negotiating, before the window. On Node 20 process.cpuUsage is per process in every thread, so each thread\'s own CPU comes from /proc/thread-self/schedstat.',
      `the "after traffic" rows are context, not the target: ${plan.burstMs} ms of echo traffic on every echo channel stops ${plan.settleMs} ms before the window (the threads must go back to sleep), and the heartbeat (every 2 s) and time sync (every 5 s) keep their real periodic traffic.`,
    ];
    if (silent.main.threadCpuSeconds === null) notes.push('/proc/thread-self/schedstat is not readable here: only the process total is shown.');
    return { results: results(plan, silent, afterTraffic), tables: [table(plan, silent, afterTraffic)], notes };
  },
};
