/**
 * The measured window of the `idle` benchmark, seen from every thread: the
 * owner moves one shared word from "before" to "measuring" to "done", and
 * each guest's meter, asleep in Atomics.waitAsync in between (no CPU), takes
 * its thread's CPU sample at each move and emits its span.
 */
import type { GuestContext } from '../../src/vm/index.js';
import { setWord, wordChange } from '../scale/word-wait.js';
import { cpuSince, sampleCpu } from './thread-cpu.js';

/** The event a guest's meter emits at the end of the window; its detail is a CpuSpan. */
export const IDLE_CPU = 'idle-cpu';

const PHASE = 0;
const BEFORE = 0;
const MEASURING = 1;
const DONE = 2;

/** A zeroed meter word (before the window). */
export function allocateIdleMeter(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

/** Owner side: the window starts now. */
export function beginIdleWindow(meter: Int32Array): void {
  setWord(meter, PHASE, MEASURING);
}

/** Owner side: the window ends now. */
export function endIdleWindow(meter: Int32Array): void {
  setWord(meter, PHASE, DONE);
}

/** Guest side: samples this thread at the window's start and end, then emits IDLE_CPU. */
export async function meterIdleWindow(context: GuestContext, meter: Int32Array): Promise<void> {
  await wordChange(meter, PHASE, BEFORE);
  const start = sampleCpu();
  await wordChange(meter, PHASE, MEASURING);
  context.emit(IDLE_CPU, cpuSince(start));
}
