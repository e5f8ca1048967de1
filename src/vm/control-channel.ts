/**
 * The VM worker process channel: the worker `postMessage` channel between a
 * VM's owner (the host thread) and the worker thread that runs one guest
 * partition. It carries VM management only, never anything one partition
 * says to another: those go through the shared hypervisor and guest memory,
 * as on Hyper-V. Like a VM worker process, it boots and stops the partition
 * and reports what happened in it.
 *
 *   owner → worker: start (the partition's setup), stop
 *   worker → owner: ready, event (from the guest module), trace (when the
 *                   owner traces), error (a lifecycle step failed, with the
 *                   message and stack), stopped (what the guest still held)
 */
import type { SharedHypervisorDescriptor } from '../hv/index.js';
import type { TraceEvent } from '../trace/index.js';
import type { VmFailure } from './vm-error.js';
import type { ResolvedSpecifier } from './module-loader.js';
import type { GuestStopReport } from './vm-types.js';

/** Everything a worker needs to run its guest partition. */
export interface GuestWorkerSetup {
  readonly descriptor: SharedHypervisorDescriptor;
  readonly partitionId: number;
  readonly memory: SharedArrayBuffer;
  readonly name: string;
  readonly index: number;
  readonly module: ResolvedSpecifier | null;
  readonly data: unknown;
  /** Forward trace events to the owner (only when the owner has a sink: they cost a message each). */
  readonly trace: boolean;
}

export type OwnerToWorker = { readonly kind: 'start'; readonly setup: GuestWorkerSetup } | { readonly kind: 'stop' };

/** What the guest reports once stopped; `exit` is the owner's to fill in. */
export type WorkerStopReport = Omit<GuestStopReport, 'exit'>;

export type WorkerToOwner =
  | { readonly kind: 'ready' }
  | { readonly kind: 'event'; readonly event: { readonly kind: string; readonly detail: unknown } }
  | { readonly kind: 'trace'; readonly event: TraceEvent }
  | { readonly kind: 'error'; readonly failure: VmFailure }
  | { readonly kind: 'stopped'; readonly report: WorkerStopReport; readonly failures: readonly VmFailure[] };

const WORKER_KINDS: ReadonlySet<string> = new Set(['ready', 'event', 'trace', 'error', 'stopped']);
const OWNER_KINDS: ReadonlySet<string> = new Set(['start', 'stop']);

function hasKind(value: unknown, kinds: ReadonlySet<string>): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string' && kinds.has((value as { kind: string }).kind);
}

/**
 * A worker's message, or undefined for anything else. The worker runs our own
 * code, but a guest module shares its thread and may post on the port too.
 */
export function parseWorkerMessage(value: unknown): WorkerToOwner | undefined {
  return hasKind(value, WORKER_KINDS) ? (value as WorkerToOwner) : undefined;
}

/** The owner's message, or undefined for anything else. */
export function parseOwnerMessage(value: unknown): OwnerToWorker | undefined {
  return hasKind(value, OWNER_KINDS) ? (value as OwnerToWorker) : undefined;
}
