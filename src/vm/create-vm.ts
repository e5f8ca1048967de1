/**
 * `createVm`: a host partition and guest partitions with their memory, the
 * hypervisor and a VMBus per guest, in one seeded thread or with one worker
 * per guest, booted with the host and guest modules plugged in. It only
 * assembles: every protocol step is the bus drivers' and the KMCL's.
 */
import { SeededScheduler, createHypervisor } from '../hv/index.js';
import { realTimeScheduler, type KmclScheduler } from '../kmcl/index.js';
import { GuestMemory } from '../memory/index.js';
import { NULL_TRACE } from '../trace/index.js';
import { GuestEvents } from './guest-events.js';
import { LocalGuest, type GuestHandle } from './guest-handle.js';
import { GuestRuntime } from './guest-runtime.js';
import { HostSide } from './host-side.js';
import { isModuleFunction, loadModuleFunction, type ResolvedSpecifier } from './module-loader.js';
import { guestTrace, vmEvent } from './partition-trace.js';
import { Simulation } from './simulation.js';
import { FaultLog, stepDeadline, takeApart, type VmAssembly } from './vm-assembly.js';
import { VmDriver, type SettleResult } from './vm-driver.js';
import { VmError, vmFailure, type VmFailure, type VmPhase } from './vm-error.js';
import { HOST_PARTITION_ID, planVm, type GuestPlan, type VmPlan } from './vm-plan.js';
import type { GuestModule, HostModule, VmOptions } from './vm-types.js';
import { Vm } from './vm.js';
import { WorkerGuest } from './worker-guest.js';

/**
 * Builds and boots a VM: the hypervisor and partitions, a host bus per guest
 * with the host modules started on it (their offers are there when the guest
 * asks), each guest's bus connected and its module started. Rejects with a
 * VmError naming the partition and the step when anything fails, after
 * releasing whatever was built.
 */
export async function createVm(options: VmOptions): Promise<Vm> {
  const plan = planVm(options);
  const hostModules = await loadHostModules(plan);
  const guestModules = await loadLocalGuestModules(plan);
  const assembly = assemble(plan, options);
  let building = '';
  try {
    for (const guest of plan.guests) {
      building = guest.name;
      addGuest(assembly, guest, guestModules[guest.index] ?? null);
    }
  } catch (error) {
    const report = await takeApart(assembly);
    throw new VmError([vmFailure(building, 'assemble', error), ...report.failures], report);
  }
  const failures = await boot(assembly, hostModules);
  if (failures.length > 0) {
    const report = await takeApart(assembly);
    throw new VmError([...failures, ...report.failures], report);
  }
  return new Vm(assembly);
}

async function loadHostModules(plan: VmPlan): Promise<HostModule[]> {
  try {
    return await Promise.all(plan.hostModules.map((module) => (isModuleFunction(module) ? module : loadModuleFunction<HostModule>(module))));
  } catch (error) {
    throw new VmError([vmFailure('host', 'load', error)]);
  }
}

/** In single-thread mode guest modules are imported here, before the simulation starts (an import is real I/O). */
async function loadLocalGuestModules(plan: VmPlan): Promise<(GuestModule | null)[]> {
  if (plan.mode.kind === 'workers') return [];
  const failures: VmFailure[] = [];
  const modules = await Promise.all(
    plan.guests.map(async ({ name, module }) => {
      if (module === null || isModuleFunction<GuestModule>(module)) return module;
      try {
        return await loadModuleFunction<GuestModule>(module);
      } catch (error) {
        failures.push(vmFailure(name, 'load', error));
        return null;
      }
    }),
  );
  if (failures.length > 0) throw new VmError(failures);
  return modules;
}

function assemble(plan: VmPlan, options: VmOptions): VmAssembly {
  const simulation = plan.mode.kind === 'single-thread' ? new Simulation(new SeededScheduler(plan.mode.seed)) : null;
  const partitions = [{ id: HOST_PARTITION_ID, vpCount: 1 }, ...plan.guests.map((guest) => ({ id: guest.partitionId, vpCount: guest.vpCount }))];
  const hypervisor = createHypervisor({ partitions }, simulation?.scheduler ?? 'threads');
  const assembly: VmAssembly = {
    plan,
    hypervisor,
    host: hypervisor.partition(HOST_PARTITION_ID),
    simulation,
    driver: new VmDriver(simulation),
    trace: options.trace ?? NULL_TRACE,
    events: new GuestEvents(options.onEvent ?? null),
    faults: new FaultLog(),
    hostSides: [],
    guests: [],
    handles: [],
  };
  return assembly;
}

/** One guest: its memory, its host side and its handle (a worker starts here, waiting for 'start'). */
function addGuest(assembly: VmAssembly, guest: GuestPlan, localModule: GuestModule | null): void {
  const { plan, hypervisor, host, simulation, trace, events, faults } = assembly;
  const memory = new GuestMemory(guest.memoryPages);
  const partition = hypervisor.partition(guest.partitionId);
  const tagged = guestTrace(trace, guest.name);
  const scheduler: KmclScheduler = simulation?.scheduler ?? realTimeScheduler;
  const retry = simulation?.scheduler ?? null;
  const side = new HostSide({
    guestName: guest.name,
    guestIndex: guest.index,
    host,
    guest: partition,
    guestMemory: memory,
    scheduler,
    retry,
    trace: tagged,
    maxVersion: plan.maxVersion,
  });
  assembly.hostSides.push(side);
  assembly.guests.push({ name: guest.name, index: guest.index, partitionId: guest.partitionId, memory, hostBus: side.bus });
  const deliver = (kind: string, detail: unknown): void => events.deliver({ guest: guest.name, kind, detail });
  let handle: GuestHandle;
  if (plan.mode.kind === 'single-thread') {
    const { name, index, data } = guest;
    const runtime = new GuestRuntime({ name, index, partition, memory, scheduler, retry, trace: tagged, data, emit: deliver });
    handle = new LocalGuest(guest.name, runtime, localModule);
  } else {
    handle = new WorkerGuest({
      setup: {
        descriptor: hypervisor.exportShared(),
        partitionId: guest.partitionId,
        memory: memory.buffer,
        name: guest.name,
        index: guest.index,
        module: guest.module as ResolvedSpecifier | null,
        data: guest.data,
        trace: trace !== NULL_TRACE,
      },
      startTimeoutMs: plan.mode.startTimeoutMs,
      stopTimeoutMs: plan.mode.stopTimeoutMs,
      onEvent: (event) => events.deliver(event),
      onTrace: (event) => trace.emit(event),
      onFault: (failure) => faults.record(failure),
    });
  }
  assembly.handles.push(handle);
}

/** Host modules first (their offers must be there when the guests connect), then every guest at once. */
async function boot(assembly: VmAssembly, hostModules: readonly HostModule[]): Promise<VmFailure[]> {
  const { driver, hostSides, handles, guests, trace } = assembly;
  const deadlineMs = stepDeadline(assembly, 'start');
  const hostStarts = await driver.settleAll(hostSides.map((side) => side.start(hostModules)), deadlineMs);
  const hostOwner = (index: number): StepOwner => ({ partition: 'host', phase: 'host-start', context: `for guest "${guests[index]!.name}"` });
  const failures = stepFailures(hostStarts, hostOwner, driver.pendingReason(deadlineMs));
  if (failures.length > 0) return failures;
  // A guest's handle bounds its own boot (a worker's start timeout).
  const guestBoots = await driver.settleAll(handles.map((handle) => handle.boot()), null);
  const guestOwner = (index: number): StepOwner => ({ partition: guests[index]!.name, phase: 'guest-start' });
  failures.push(...stepFailures(guestBoots, guestOwner, driver.pendingReason(null)));
  for (const guest of guests) if (!failures.some((failure) => failure.partition === guest.name)) vmEvent(trace, guest.name, 'guest-booted');
  return failures;
}

interface StepOwner {
  readonly partition: string;
  readonly phase: VmPhase;
  readonly context?: string;
}

/** The failures of one step over every partition: those reported, thrown, or never settled. */
function stepFailures(result: SettleResult<VmFailure | null>, ownerOf: (index: number) => StepOwner, pendingReason: string): VmFailure[] {
  const failures: VmFailure[] = result.failure === null ? [] : [result.failure];
  result.outcomes.forEach((outcome, index) => {
    if (outcome.state === 'fulfilled') {
      if (outcome.value !== null) failures.push(outcome.value);
      return;
    }
    const { partition, phase, context } = ownerOf(index);
    if (outcome.state === 'rejected') failures.push(vmFailure(partition, phase, outcome.reason, context));
    else failures.push({ partition, phase, message: context === undefined ? pendingReason : `${context}: ${pendingReason}` });
  });
  return failures;
}
