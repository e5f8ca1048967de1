/**
 * One GPA-direct run of the `kmcl` benchmark: a guest worker keeps `window`
 * packets in flight, each VmbPacketSendWithExternalMdl of an MDL over one
 * buffer in guest memory; a host worker maps each packet's ranges with
 * VmbChannelPacketGetExternalData, copies the bytes into a host buffer and
 * completes. Both workers see the same guest memory (a SharedArrayBuffer),
 * over the ring-pair port of the other kmcl runs. Before it serves, the host
 * worker times a plain `TypedArray.set` of the same guest bytes into the
 * same host buffer: the baseline the transfers are compared with.
 */
import { GuestMemory, PAGE_SIZE } from '../../src/memory/index.js';
import { allocateBenchControl, requestStop, signalGo } from '../ring/bench-control.js';
import { allocateBenchRing } from '../ring/bench-ring.js';
import { BenchWorker, runFor } from '../ring/bench-worker.js';
import type { GpaDirectCase, KmclBenchPlan } from './kmcl-bench-plan.js';
import { countersGrowth, sampleCounters } from './kmcl-run.js';

const WORKER = new URL('./gpa-direct-worker.js', import.meta.url);

/** The guest's buffer starts at PFN 1: GPA 0 means "no page" on VMBus. */
const SOURCE_PFN = 1;
/** Guest pages past the buffer, for the sender's own allocations. */
const SPARE_PAGES = 16;

/** What both GPA-direct workers get. */
export interface GpaDirectWorkerData {
  readonly role: 'sender' | 'receiver';
  /** Guest → host ring and host → guest ring (control page + data) over SharedArrayBuffers. */
  readonly forward: Uint8Array;
  readonly backward: Uint8Array;
  readonly control: Int32Array;
  /** Guest memory, shared by both workers. */
  readonly guestMemory: SharedArrayBuffer;
  /** Where the guest's buffer lies; the guest's allocator starts after it. */
  readonly sourceGpa: number;
  readonly transferBytes: number;
  readonly window: number;
  /** Each host copy baseline: unmeasured, then measured time. */
  readonly copyWarmupMs: number;
  readonly copyDurationMs: number;
}

/** Copies of the whole buffer and the time they took. */
export interface CopyTiming {
  readonly copies: number;
  readonly seconds: number;
}

/**
 * The host worker's baselines: the plain `TypedArray.set`, and kmcl's
 * own bulk copy (`copyBytes`, native memcpy when built), which the transfer
 * path uses, so the second ratio compares like with like.
 */
export interface PlainCopyMeasurement {
  readonly set: CopyTiming;
  readonly copyBytes: CopyTiming;
}

/** Transfers the host copied and completed over the measured window, next to its plain-copy baseline. */
export interface GpaDirectMeasurement {
  readonly transferBytes: number;
  readonly window: number;
  readonly transfers: number;
  readonly seconds: number;
  readonly hostSleeps: number;
  readonly guestSleeps: number;
  readonly plainCopy: PlainCopyMeasurement;
}

/** Runs one GPA-direct trial of `gpaCase`. */
export async function measureGpaDirect(plan: KmclBenchPlan, gpaCase: GpaDirectCase): Promise<GpaDirectMeasurement> {
  const { transferBytes, window } = gpaCase;
  const pages = Math.ceil(transferBytes / PAGE_SIZE);
  const memory = new GuestMemory(SOURCE_PFN + pages + SPARE_PAGES);
  const sourceGpa = SOURCE_PFN * PAGE_SIZE;
  // Written, not left zero: untouched pages of a fresh buffer may all map one zero page and read faster.
  const source = memory.view(sourceGpa, transferBytes);
  for (let i = 0; i < source.length; i++) source[i] = (i * 131 + 7) & 0xff;
  const control = allocateBenchControl();
  const shared = {
    forward: allocateBenchRing(plan.dataBytes),
    backward: allocateBenchRing(plan.dataBytes),
    control,
    guestMemory: memory.buffer,
    sourceGpa,
    transferBytes,
    window,
    copyWarmupMs: plan.warmupMs,
    copyDurationMs: plan.durationMs,
  };
  const receiver = new BenchWorker<PlainCopyMeasurement>(WORKER, { ...shared, role: 'receiver' } satisfies GpaDirectWorkerData);
  const sender = new BenchWorker<void>(WORKER, { ...shared, role: 'sender' } satisfies GpaDirectWorkerData);
  const workers = [receiver, sender];
  try {
    await Promise.all(workers.map((worker) => worker.ready));
    signalGo(control);
    await runFor(plan.warmupMs, workers);
    const before = sampleCounters(control);
    await runFor(plan.durationMs, workers);
    const after = sampleCounters(control);
    requestStop(control);
    const [plainCopy] = await Promise.all([receiver.ended, sender.ended]);
    if (plainCopy === undefined) throw new Error('the GPA-direct host posted no plain-copy figures');
    const growth = countersGrowth(before, after);
    return {
      transferBytes,
      window,
      transfers: growth.packets,
      seconds: growth.seconds,
      hostSleeps: growth.readerSleeps,
      guestSleeps: growth.writerSleeps,
      plainCopy,
    };
  } finally {
    requestStop(control);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
