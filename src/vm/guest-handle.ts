/**
 * A guest partition as the VM's owner drives it, wherever it runs: in this
 * thread (single-thread mode, `LocalGuest`) or in a worker (`WorkerGuest`).
 */
import type { GuestRuntime } from './guest-runtime.js';
import type { VmFailure } from './vm-error.js';
import type { GuestModule, GuestStopReport } from './vm-types.js';

export interface GuestStopResult {
  readonly report: GuestStopReport;
  readonly failures: readonly VmFailure[];
}

export interface GuestHandle {
  readonly name: string;
  /** True while a thread of its own still runs (always false in this thread). */
  readonly live: boolean;
  /** Connects the guest's bus and starts its module; resolves with the failure, or null. */
  boot(): Promise<VmFailure | null>;
  /** Stops the guest from wherever its boot got to, and reports what it still held. */
  stop(): Promise<GuestStopResult>;
}

/** A guest in this thread: its runtime, driven by the VM's simulation. */
export class LocalGuest implements GuestHandle {
  readonly live = false;

  constructor(
    readonly name: string,
    private readonly runtime: GuestRuntime,
    private readonly module: GuestModule | null,
  ) {}

  boot(): Promise<VmFailure | null> {
    return this.runtime.boot(this.module);
  }

  async stop(): Promise<GuestStopResult> {
    const { report, failures } = await this.runtime.stop();
    return { report: { ...report, exit: 'in-thread' }, failures };
  }
}
