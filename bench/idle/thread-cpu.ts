/**
 * CPU time of the calling thread and of the whole process, read at two
 * instants. On Node 20, `process.cpuUsage()` is the process's (getrusage
 * RUSAGE_SELF: every thread, V8's and libuv's helpers included), whichever
 * thread calls it; a thread's own time comes from Linux's
 * /proc/thread-self/schedstat (ns on the CPU), and is null elsewhere.
 */
import { readFileSync } from 'node:fs';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** What the thread and process had used at one instant. */
export interface CpuSample {
  readonly atNs: bigint;
  readonly threadNs: number | null;
  readonly process: NodeJS.CpuUsage;
  readonly eventLoop: EventLoopUtilization;
}

/** What was used between a sample and now. */
export interface CpuSpan {
  readonly seconds: number;
  /** This thread's time on a CPU; null where the OS does not say. */
  readonly threadCpuSeconds: number | null;
  /** The whole process's user + system time, every thread. */
  readonly processCpuSeconds: number;
  /** Share of the span this thread's event loop spent running callbacks (0..1). */
  readonly eventLoopUtilization: number;
}

function threadRunNs(): number | null {
  try {
    const field = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0];
    const ns = Number(field);
    return Number.isFinite(ns) ? ns : null;
  } catch {
    return null;
  }
}

export function sampleCpu(): CpuSample {
  return { atNs: process.hrtime.bigint(), threadNs: threadRunNs(), process: process.cpuUsage(), eventLoop: performance.eventLoopUtilization() };
}

export function cpuSince(start: CpuSample): CpuSpan {
  const end = sampleCpu();
  const used = process.cpuUsage(start.process);
  return {
    seconds: Number(end.atNs - start.atNs) / 1e9,
    threadCpuSeconds: end.threadNs === null || start.threadNs === null ? null : (end.threadNs - start.threadNs) / 1e9,
    processCpuSeconds: (used.user + used.system) / 1e6,
    eventLoopUtilization: performance.eventLoopUtilization(end.eventLoop, start.eventLoop).utilization,
  };
}
