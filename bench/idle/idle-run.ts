/**
 * One `idle` measurement: a VM from `createVm` with one guest in a worker,
 * the four integration components and the echo device's channels open (and
 * silent, or silent again after a burst of echo traffic); once all are up
 * and settled, every thread's CPU over the window.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { IcServiceName } from '../../src/devices/index.js';
import { createVm } from '../../src/vm/index.js';
import { ECHO_WORD, allocateEchoControl, counterBase, type EchoVscData } from '../scale/echo-device.js';
import { ECHO_READY } from '../scale/echo-vsc.js';
import { echoVsp } from '../scale/echo-vsp.js';
import { SCALE_PLAN } from '../scale/scale-plan.js';
import { setWord } from '../scale/word-wait.js';
import { icHost, type IcTimers } from './ic-host.js';
import { IC_FAILURE, type IdleGuestData } from './idle-guest.js';
import { IDLE_CPU, allocateIdleMeter, beginIdleWindow, endIdleWindow } from './idle-meter.js';
import type { IdlePlan } from './idle-plan.js';
import { cpuSince, sampleCpu, type CpuSpan } from './thread-cpu.js';

const IDLE_GUEST = new URL('./idle-guest.js', import.meta.url);
const IC_COUNT = 4;

/** What runs before the window: the IC timers' spacing, and an echo burst (0: none, the channels never carry a packet). */
export interface IdleSetup {
  readonly timers: IcTimers;
  readonly burstMs: number;
}

export interface IdleMeasurement {
  readonly setup: IdleSetup;
  /** The main thread: the host partition (its bus, the ICs' and the echo device's VSPs). */
  readonly main: CpuSpan;
  /** The guest's worker thread, as it measured itself. */
  readonly guest: CpuSpan;
}

/** Resolves once every IC has negotiated on the host; rejects on the first failure the host reports. */
function icsUp(timers: IcTimers, failures: string[]): { readonly module: ReturnType<typeof icHost>; readonly negotiated: Promise<void> } {
  let resolve: () => void = () => undefined;
  let reject: (error: Error) => void = () => undefined;
  const negotiated = new Promise<void>((ok, fail) => ((resolve = ok), (reject = fail)));
  negotiated.catch(() => undefined);
  const seen = new Set<IcServiceName>();
  const module = icHost({
    timers,
    onNegotiated: (service) => {
      seen.add(service);
      if (seen.size === IC_COUNT) resolve();
    },
    onFailure: (message) => {
      failures.push(message);
      reject(new Error(message));
    },
  });
  return { module, negotiated };
}

/** Echo traffic on every channel for `ms`, then none: the VSCs stop sending again once `stop` is set. */
async function echoBurst(echo: EchoVscData, ms: number, run: <T>(work: Promise<T>) => Promise<T>): Promise<void> {
  const { control } = echo;
  setWord(control, ECHO_WORD.go, 1);
  await run(sleep(ms));
  setWord(control, ECHO_WORD.stop, 1);
  const completed = Array.from({ length: echo.channels }, (_, i) => Atomics.load(control, echo.counterBase + i));
  if (Atomics.load(control, ECHO_WORD.failures) > 0) throw new Error('echo requests completed with a failure status');
  if (completed.some((count) => count === 0)) throw new Error(`an echo channel carried nothing during the burst (${completed.join(', ')})`);
}

export async function measureIdle(plan: IdlePlan, setup: IdleSetup): Promise<IdleMeasurement> {
  const hostFailures: string[] = [];
  const ics = icsUp(setup.timers, hostFailures);
  const meter = allocateIdleMeter();
  const echo: EchoVscData = {
    channels: plan.echoChannels,
    window: SCALE_PLAN.window,
    payloadBytes: SCALE_PLAN.payloadBytes,
    control: allocateEchoControl(1, plan.echoChannels),
    counterBase: counterBase(0, plan.echoChannels),
  };
  const data: IdleGuestData = { echo, meter };
  const vm = await createVm({
    guests: [{ data }],
    mode: { kind: 'workers' },
    host: [ics.module, echoVsp({ channels: plan.echoChannels, completionBytes: SCALE_PLAN.completionBytes })],
    guest: IDLE_GUEST,
  });
  try {
    await vm.run(Promise.all([ics.negotiated, vm.waitForEvent(ECHO_READY)]));
    // Without a burst the echo channels' go word is never set: they stay open and silent.
    if (setup.burstMs > 0) await echoBurst(echo, setup.burstMs, (work) => vm.run(work));
    await vm.run(sleep(plan.settleMs));
    const guestSpan = vm.waitForEvent(IDLE_CPU);
    const start = sampleCpu();
    beginIdleWindow(meter);
    await vm.run(sleep(plan.windowMs));
    endIdleWindow(meter);
    const main = cpuSince(start);
    const guest = (await vm.run(guestSpan)).detail as CpuSpan;
    const failures = [...hostFailures, ...vm.events.filter((event) => event.kind === IC_FAILURE).map((event) => String(event.detail))];
    if (failures.length > 0) throw new Error(`integration components failed while idle: ${failures.join('; ')}`);
    await vm.stop();
    return { setup, main, guest };
  } finally {
    await vm.stop().catch(() => undefined);
  }
}
