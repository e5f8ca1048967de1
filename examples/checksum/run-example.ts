/**
 * Runs the checksum example in a VM (createVm): the checksum VSP on the host
 * and one guest with either driver, all in one seeded thread or with the guest
 * in a worker. Resolves with what each side observed, after a clean stop.
 * `node dist/examples/checksum/run-example.js [table|idiomatic] [single-thread|workers]` prints it.
 */
import { pathToFileURL } from 'node:url';
import { createVm, type VmStopReport } from '../../src/vm/index.js';
import { ChecksumVsp, checksumHost, type VspRecord } from './checksum-vsp.js';
import type { ChecksumReport } from './guest-driver.js';

export type ExampleDriver = 'table' | 'idiomatic';
export type ExampleMode = 'single-thread' | 'workers';

export interface ExampleRun {
  /** What the guest driver reported ('checksum-done'). */
  readonly guest: ChecksumReport;
  /** What the host VSP saw. */
  readonly host: VspRecord;
  readonly stop: VmStopReport;
}

const DRIVER_FILES: Record<ExampleDriver, string> = {
  table: './guest-driver.js',
  idiomatic: './guest-driver-idiomatic.js',
};

export async function runChecksumExample(driver: ExampleDriver, mode: ExampleMode, seed = 1): Promise<ExampleRun> {
  const vsps = new Map<string, ChecksumVsp>();
  const vm = await createVm({
    guests: 1,
    mode: mode === 'workers' ? { kind: 'workers' } : { kind: 'single-thread', seed },
    host: checksumHost(vsps),
    guest: new URL(DRIVER_FILES[driver], import.meta.url),
  });
  try {
    const done = await vm.run(vm.waitForEvent('checksum-done'));
    const stop = await vm.stop();
    return { guest: done.detail as ChecksumReport, host: vsps.get(vm.guests[0]!.name)!.record, stop };
  } finally {
    await vm.stop().catch(() => undefined);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [driver = 'table', mode = 'single-thread'] = process.argv.slice(2);
  if (!(driver in DRIVER_FILES) || (mode !== 'single-thread' && mode !== 'workers')) {
    console.error('usage: run-example.js [table|idiomatic] [single-thread|workers]');
    process.exit(2);
  }
  const run = await runChecksumExample(driver as ExampleDriver, mode);
  console.log(JSON.stringify({ guest: run.guest, host: run.host }, null, 2));
}
