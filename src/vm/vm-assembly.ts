/**
 * What `createVm` builds, in build order, and how it is taken apart: the
 * guests stopped first (module teardown, bus unload, worker exit), then the
 * host side of each (host modules' teardowns, host bus close), then the
 * hypervisor. Taking apart works on a VM built halfway, so a failed boot
 * releases everything too.
 */
import type { Hypervisor, Partition } from '../hv/index.js';
import type { TraceSink } from '../trace/index.js';
import type { GuestEvents } from './guest-events.js';
import type { GuestHandle, GuestStopResult } from './guest-handle.js';
import type { HostSide } from './host-side.js';
import { vmEvent } from './partition-trace.js';
import type { Simulation } from './simulation.js';
import { vmFailure, type VmFailure } from './vm-error.js';
import type { VmDriver } from './vm-driver.js';
import type { VmPlan } from './vm-plan.js';
import type { GuestStopReport, VmGuest, VmStopReport } from './vm-types.js';

/** Failures of a running VM that nobody was waiting on (a worker crashed), and who listens for them. */
export class FaultLog {
  readonly #faults: VmFailure[] = [];
  readonly #listeners = new Set<() => void>();

  get list(): readonly VmFailure[] {
    return this.#faults;
  }

  record(failure: VmFailure): void {
    this.#faults.push(failure);
    for (const listener of [...this.#listeners]) listener();
  }

  /** Calls `listener` at the next fault; returns the function that stops listening. */
  onFault(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }
}

export interface VmAssembly {
  readonly plan: VmPlan;
  readonly hypervisor: Hypervisor;
  readonly host: Partition;
  readonly simulation: Simulation | null;
  readonly driver: VmDriver;
  readonly trace: TraceSink;
  readonly events: GuestEvents;
  readonly faults: FaultLog;
  /** Index-aligned: the host side, the owner's view and the handle of each guest built so far. */
  readonly hostSides: HostSide[];
  readonly guests: VmGuest[];
  readonly handles: GuestHandle[];
}

/** How long a host-side step may take in workers mode; null in single-thread mode, which runs until idle instead. */
export function stepDeadline(assembly: VmAssembly, step: 'start' | 'stop'): number | null {
  const { mode } = assembly.plan;
  if (mode.kind === 'single-thread') return null;
  return step === 'start' ? mode.startTimeoutMs : mode.stopTimeoutMs;
}

/** Stops and releases everything built; never rejects: what went wrong is in the report's failures. */
export async function takeApart(assembly: VmAssembly): Promise<VmStopReport> {
  const { driver, handles, hostSides, trace } = assembly;
  const failures: VmFailure[] = [...assembly.faults.list];
  const deadlineMs = stepDeadline(assembly, 'stop');

  // A guest's handle bounds its own stop (a worker is terminated after its timeout).
  const guestStops = await driver.settleAll(handles.map((handle) => handle.stop()), null);
  if (guestStops.failure !== null) failures.push(guestStops.failure);
  const guests = guestStops.outcomes.map((outcome, index): GuestStopReport => {
    const name = handles[index]!.name;
    const result: GuestStopResult | null = outcome.state === 'fulfilled' ? outcome.value : null;
    if (result !== null) {
      failures.push(...result.failures);
      vmEvent(trace, name, 'guest-stopped', { exit: result.report.exit, pagesAllocated: result.report.pagesAllocated });
      return result.report;
    }
    failures.push(
      outcome.state === 'rejected'
        ? vmFailure(name, 'unload', outcome.reason, 'stopping threw')
        : { partition: name, phase: 'unload', message: `stopping: ${driver.pendingReason(null)}` },
    );
    return { name, bus: null, invariants: [], pagesAllocated: null, exit: 'in-thread' };
  });

  const hostTeardowns = await driver.settleAll(hostSides.map((side) => side.teardown()), deadlineMs);
  if (hostTeardowns.failure !== null) failures.push(hostTeardowns.failure);
  hostTeardowns.outcomes.forEach((outcome, index) => {
    const context = `for guest "${assembly.guests[index]!.name}"`;
    if (outcome.state === 'fulfilled') failures.push(...outcome.value);
    else if (outcome.state === 'rejected') failures.push(vmFailure('host', 'host-teardown', outcome.reason, context));
    else failures.push({ partition: 'host', phase: 'host-teardown', message: `${context}: ${driver.pendingReason(deadlineMs)}` });
  });
  // Every bus closes, even behind a teardown that never finished: nothing outlives the VM.
  const host = hostSides.map((side) => side.close());

  assembly.hypervisor.close();
  vmEvent(trace, 'vm', 'vm-stopped', { failures: failures.length });
  return { guests, host, liveWorkers: handles.filter((handle) => handle.live).length, failures };
}
