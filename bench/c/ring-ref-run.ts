import { spawn } from 'node:child_process';

import { BATCHED_SLEEP_AT_ONCE, batchesOf, type RingBenchPlan, type ThroughputMode } from '../ring/ring-bench-plan.js';
import type { RingRunner } from '../ring/ring-runner.js';
import { parseLatencyLine, parseThroughputLine } from './ring-ref-output.js';
import type { RingRefOutputError } from './ring-ref-output.js';

/** The command line of one `ring-ref throughput` trial of `plan` (batched, sleeping at once, unless told otherwise). */
export function ringRefThroughputArguments(
  plan: RingBenchPlan,
  payloadBytes: number,
  mode: ThroughputMode = BATCHED_SLEEP_AT_ONCE,
): string[] {
  const { writeBatch, readBatch } = batchesOf(plan, mode.publishing);
  return [
    'throughput',
    '--data-bytes', String(plan.dataBytes),
    '--payload-bytes', String(payloadBytes),
    '--warmup-ms', String(plan.warmupMs),
    '--duration-ms', String(plan.durationMs),
    '--write-batch', String(writeBatch),
    '--read-batch', String(readBatch),
    '--pending-floor', String(plan.pendingFloor),
    '--spin-before-sleep-us', String(mode.spinBeforeSleepUs),
  ];
}

/** The command line of the `ring-ref latency` run of `plan`. */
export function ringRefLatencyArguments(plan: RingBenchPlan): string[] {
  return [
    'latency',
    '--data-bytes', String(plan.dataBytes),
    '--request-bytes', String(plan.latencyRequestBytes),
    '--warmup', String(plan.latencyWarmup),
    '--samples', String(plan.latencySamples),
  ];
}

/** Runs `ring-ref` once and parses its one JSON line; a crash or bad line rejects with ring-ref's own words. */
function runRingRef<T>(
  binary: string,
  args: readonly string[],
  parse: (line: string) => T | RingRefOutputError,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) {
        const why = Buffer.concat(stderr).toString('utf8').trim();
        reject(new Error(`ring-ref ${args[0]} ended with ${signal ?? `exit code ${code}`}: ${why}`));
        return;
      }
      const parsed = parse(Buffer.concat(stdout).toString('utf8').trim());
      if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) reject(new Error(parsed.error));
      else resolve(parsed as T);
    });
  });
}

/** The compiled C reference as a {@link RingRunner}: one process per trial. */
export function cRingRunner(binary: string, plan: RingBenchPlan): RingRunner {
  return {
    implementation: 'c',
    throughput: (payloadBytes, mode) =>
      runRingRef(binary, ringRefThroughputArguments(plan, payloadBytes, mode), parseThroughputLine),
    latency: () => runRingRef(binary, ringRefLatencyArguments(plan), parseLatencyLine),
  };
}
