/**
 * A guest partition in its own worker thread (guest.worker.ts), driven over
 * the VM worker process channel (control-channel.ts). Every wait is bounded:
 * by the worker's answer, its death ('error', 'exit') or a timeout, so a
 * guest that crashes or hangs is reported with its name and never hangs the VM.
 */
import { Worker } from 'node:worker_threads';
import type { TraceEvent } from '../trace/index.js';
import { parseWorkerMessage, type GuestWorkerSetup, type OwnerToWorker, type WorkerStopReport } from './control-channel.js';
import type { GuestHandle, GuestStopResult } from './guest-handle.js';
import { vmFailure, type VmFailure, type VmPhase } from './vm-error.js';
import type { GuestStopReport, VmGuestEvent } from './vm-types.js';

/** `workerData.role` of a guest worker: guest.worker.ts does nothing in a worker without it. */
export const GUEST_WORKER_ROLE = 'kmcl-vm-guest';

export interface WorkerGuestOptions {
  readonly setup: GuestWorkerSetup;
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly onEvent: (event: VmGuestEvent) => void;
  /** Forwarded trace events (already tagged with the guest's name). */
  readonly onTrace: (event: TraceEvent) => void;
  /** The worker failed while nobody waited on it (it crashed or exited while running). */
  readonly onFault: (failure: VmFailure) => void;
}

type Outcome =
  | { readonly kind: 'ready' }
  | { readonly kind: 'stopped'; readonly report: WorkerStopReport; readonly failures: readonly VmFailure[] }
  | { readonly kind: 'failed'; readonly failure: VmFailure };

type State = 'starting' | 'running' | 'stopping' | 'stopped';

export class WorkerGuest implements GuestHandle {
  readonly name: string;
  readonly #options: WorkerGuestOptions;
  readonly #worker: Worker;
  readonly #exit: Promise<number>;
  #live = true;
  #state: State = 'starting';
  #waiter: ((outcome: Outcome) => void) | null = null;
  /** How the worker died, once it has (before it could stop). */
  #death: VmFailure | null = null;
  #terminating = false;

  constructor(options: WorkerGuestOptions) {
    this.#options = options;
    this.name = options.setup.name;
    this.#worker = new Worker(new URL('./guest.worker.js', import.meta.url), {
      workerData: { role: GUEST_WORKER_ROLE },
      name: `kmcl guest ${this.name}`,
    });
    this.#exit = new Promise((resolve) => {
      this.#worker.once('exit', (code) => {
        this.#live = false;
        if (this.#state !== 'stopped') this.#died(this.#failure('run', `its worker exited with code ${code} while ${this.#state}`));
        resolve(code);
      });
    });
    this.#worker.on('error', (error) => this.#died(vmFailure(this.name, 'run', error, 'its worker thread crashed')));
    this.#worker.on('message', (raw: unknown) => this.#receive(raw));
  }

  get live(): boolean {
    return this.#live;
  }

  async boot(): Promise<VmFailure | null> {
    this.#post({ kind: 'start', setup: this.#options.setup });
    const { startTimeoutMs } = this.#options;
    const outcome = await this.#next(startTimeoutMs, 'guest-start', `it did not become ready within ${startTimeoutMs} ms`);
    if (outcome.kind === 'ready') {
      this.#state = 'running';
      return null;
    }
    return outcome.kind === 'failed' ? outcome.failure : this.#failure('guest-start', 'its worker stopped while booting');
  }

  async stop(): Promise<GuestStopResult> {
    const failures: VmFailure[] = [];
    let stopped: WorkerStopReport | null = null;
    if (this.#death === null) {
      this.#state = 'stopping';
      this.#post({ kind: 'stop' });
      const { stopTimeoutMs } = this.#options;
      const outcome = await this.#next(stopTimeoutMs, 'exit', `it did not stop within ${stopTimeoutMs} ms`);
      if (outcome.kind === 'stopped') {
        stopped = outcome.report;
        failures.push(...outcome.failures);
      } else if (outcome.kind === 'failed') {
        failures.push(outcome.failure);
      }
    }
    const exit = await this.#awaitExit(stopped !== null, failures);
    const report: GuestStopReport = {
      ...(stopped ?? { bus: null, invariants: [], pagesAllocated: null }),
      name: this.name,
      exit,
    };
    return { report, failures };
  }

  /** Waits for the worker to exit by itself (after a clean stop only); terminates it otherwise. */
  async #awaitExit(stopped: boolean, failures: VmFailure[]): Promise<GuestStopReport['exit']> {
    if (this.#death !== null) {
      await this.#terminate();
      return 'crashed';
    }
    if (!stopped) {
      await this.#terminate();
      return 'terminated';
    }
    const { stopTimeoutMs } = this.#options;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), stopTimeoutMs)));
    const code = await Promise.race([this.#exit, timedOut]);
    clearTimeout(timer);
    if (code === null) {
      await this.#terminate();
      failures.push(
        this.#failure(
          'exit',
          `its worker was still running ${stopTimeoutMs} ms after the guest stopped (a timer, handle or listener of the guest module keeps it alive); it was terminated`,
        ),
      );
      return 'terminated';
    }
    if (code === 0) return 'clean';
    failures.push(this.#failure('exit', `its worker exited with code ${code}`));
    return 'crashed';
  }

  /** Ends the worker on purpose (its exit is then no failure of its own); resolves once it is gone. */
  async #terminate(): Promise<void> {
    this.#terminating = true;
    if (this.#live) await this.#worker.terminate();
    await this.#exit;
  }

  #receive(raw: unknown): void {
    const message = parseWorkerMessage(raw);
    if (message === undefined) return;
    switch (message.kind) {
      case 'ready':
        // A boot that timed out may still finish while the guest is being stopped: that wait is for 'stopped'.
        if (this.#state === 'starting') this.#settle({ kind: 'ready' });
        return;
      case 'error':
        this.#settle({ kind: 'failed', failure: message.failure });
        return;
      case 'stopped':
        this.#state = 'stopped';
        this.#settle({ kind: 'stopped', report: message.report, failures: message.failures });
        return;
      case 'event':
        this.#options.onEvent({ guest: this.name, kind: message.event.kind, detail: message.event.detail });
        return;
      case 'trace':
        this.#options.onTrace(message.event);
        return;
    }
  }

  #died(failure: VmFailure): void {
    if (this.#death !== null || this.#terminating) return;
    this.#death = failure;
    this.#settle({ kind: 'failed', failure });
  }

  /** Hands the outcome to whoever waits; a failure nobody waits for is a fault of the running VM. */
  #settle(outcome: Outcome): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    if (waiter !== null) waiter(outcome);
    else if (outcome.kind === 'failed') this.#options.onFault(outcome.failure);
  }

  /** The next outcome, or a failure after `timeoutMs`; at once if the worker is already dead. */
  #next(timeoutMs: number, phase: VmPhase, timeoutText: string): Promise<Outcome> {
    if (this.#death !== null) return Promise.resolve({ kind: 'failed', failure: this.#death });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = null;
        resolve({ kind: 'failed', failure: this.#failure(phase, timeoutText) });
      }, timeoutMs);
      this.#waiter = (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
    });
  }

  #post(message: OwnerToWorker): void {
    this.#worker.postMessage(message);
  }

  #failure(phase: VmPhase, message: string): VmFailure {
    return { partition: this.name, phase, message };
  }
}
