/**
 * Runs the VSP/VSC pair in a VM (createVm): the calculator VSP on the host,
 * one guest running the VSC, in one seeded thread or with the guest in a
 * worker. Resolves with what each side observed, after the stop.
 * `node dist/examples/vsp-vsc/run-example.js [single-thread|workers]` prints it.
 */
import { pathToFileURL } from 'node:url';
import { createVm, type Vm, type VmStopReport } from '../../src/vm/index.js';
import type { VscReport } from './guest-vsc.js';
import { calculatorVsp, type VspRecord } from './host-vsp.js';

export type ExampleMode = 'single-thread' | 'workers';

export interface VspVscRun {
  readonly vm: Vm;
  /** What the VSC emitted in 'vsc-done'. */
  readonly guest: VscReport;
  /** What the VSP saw, through the stop. */
  readonly host: VspRecord;
  readonly stop: VmStopReport;
}

export async function runVspVscExample(mode: ExampleMode, seed = 1): Promise<VspVscRun> {
  const records = new Map<string, VspRecord>();
  const vm = await createVm({
    guests: 1,
    mode: mode === 'workers' ? { kind: 'workers' } : { kind: 'single-thread', seed },
    host: calculatorVsp(records),
    guest: new URL('./guest-vsc.js', import.meta.url),
  });
  try {
    const done = await vm.run(vm.waitForEvent('vsc-done'));
    const stop = await vm.stop();
    return { vm, guest: done.detail as VscReport, host: records.get(vm.guests[0]!.name)!, stop };
  } finally {
    await vm.stop().catch(() => undefined);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [mode = 'single-thread'] = process.argv.slice(2);
  if (mode !== 'single-thread' && mode !== 'workers') {
    console.error('usage: run-example.js [single-thread|workers]');
    process.exit(2);
  }
  const run = await runVspVscExample(mode);
  console.log(JSON.stringify({ guest: run.guest, host: run.host }, null, 2));
}
