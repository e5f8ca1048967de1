/**
 * One `scale` measurement: a VM from `createVm` with every guest in a worker,
 * the echo VSP on the host (this thread) and the echo VSC in each guest;
 * once every guest has its channels open, all windows start at once, and the
 * completions of every channel are counted over consecutive measured windows.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_RING_PAGE_COUNT } from '../../src/index.js';
import { createVm, type GuestSpec, type Vm } from '../../src/vm/index.js';
import { ECHO_WORD, allocateEchoControl, counterBase, type EchoVscData } from './echo-device.js';
import { ECHO_READY } from './echo-vsc.js';
import { echoVsp } from './echo-vsp.js';
import type { ScalePlan } from './scale-plan.js';
import { setWord } from './word-wait.js';

const ECHO_VSC = new URL('./echo-vsc.js', import.meta.url);
/** Guest pages beyond the rings: the bus's own pages (monitor pages, message buffers). */
const SPARE_PAGES = 256;

/** How the VM is shaped: guests, each a worker with the same number of echo channels. */
export interface ScaleShape {
  readonly guests: number;
  readonly channelsPerGuest: number;
}

/** One measured window: its length and the completions of each channel during it (guest by guest). */
export interface ScaleWindow {
  readonly seconds: number;
  readonly completions: readonly number[];
}

export interface ScaleRun {
  readonly shape: ScaleShape;
  readonly windows: readonly ScaleWindow[];
  /** CPU the whole process (host thread and guest workers) used over all windows: steadier than rates on a shared machine. */
  readonly cpuSeconds: number;
}

/** Echo channels open in each guest: the guest specs, each with its share of the control block. */
function guestSpecs(plan: ScalePlan, shape: ScaleShape, control: Int32Array): GuestSpec[] {
  // Every channel takes the KMCL's default rings, both directions.
  const memoryPages = shape.channelsPerGuest * 2 * DEFAULT_RING_PAGE_COUNT + SPARE_PAGES;
  return Array.from({ length: shape.guests }, (_, index) => {
    const data: EchoVscData = {
      channels: shape.channelsPerGuest,
      window: plan.window,
      payloadBytes: plan.payloadBytes,
      control,
      counterBase: counterBase(index, shape.channelsPerGuest),
    };
    return { memoryPages, data };
  });
}

/** Every channel's completion count so far, guest by guest. */
function readCounters(control: Int32Array, shape: ScaleShape): number[] {
  const counts: number[] = [];
  for (let guest = 0; guest < shape.guests; guest++) {
    const base = counterBase(guest, shape.channelsPerGuest);
    for (let channel = 0; channel < shape.channelsPerGuest; channel++) counts.push(Atomics.load(control, base + channel));
  }
  return counts;
}

async function measureWindows(vm: Vm, plan: ScalePlan, shape: ScaleShape, control: Int32Array): Promise<ScaleWindow[]> {
  const windows: ScaleWindow[] = [];
  let before = readCounters(control, shape);
  let startNs = process.hrtime.bigint();
  for (let w = 0; w < plan.windows; w++) {
    // vm.run rejects at once if a guest worker faults meanwhile.
    await vm.run(sleep(plan.windowMs));
    const after = readCounters(control, shape);
    const endNs = process.hrtime.bigint();
    // The words are 32-bit: growth is taken modulo 2^32.
    windows.push({ seconds: Number(endNs - startNs) / 1e9, completions: after.map((count, i) => (count - (before[i] ?? 0)) >>> 0) });
    before = after;
    startNs = endNs;
  }
  return windows;
}

/** Boots the VM of `shape`, runs the echo traffic on every channel and returns the measured windows. */
export async function runScale(plan: ScalePlan, shape: ScaleShape): Promise<ScaleRun> {
  const control = allocateEchoControl(shape.guests, shape.channelsPerGuest);
  const vm = await createVm({
    guests: guestSpecs(plan, shape, control),
    mode: { kind: 'workers' },
    host: echoVsp({ channels: shape.channelsPerGuest, completionBytes: plan.completionBytes }),
    guest: ECHO_VSC,
  });
  try {
    await vm.run(Promise.all(vm.guests.map((guest) => vm.waitForEvent(ECHO_READY, guest.name))));
    setWord(control, ECHO_WORD.go, 1);
    await vm.run(sleep(plan.warmupMs));
    const cpuStart = process.cpuUsage();
    const windows = await measureWindows(vm, plan, shape, control);
    const cpu = process.cpuUsage(cpuStart);
    setWord(control, ECHO_WORD.stop, 1);
    const failures = Atomics.load(control, ECHO_WORD.failures);
    if (failures > 0) throw new Error(`${failures} echo requests completed with a failure status`);
    await vm.stop();
    return { shape, windows, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  } finally {
    await vm.stop().catch(() => undefined);
  }
}
