/**
 * The host side of one guest, in the VM's own thread: the host bus that
 * serves the guest (on its own SINT of the host partition), the KMCL host
 * device object over it, and the host modules started on it; at stop, their teardowns (last started first), then
 * the bus's close, and what the server still held.
 */
import { HostBus, type RetryScheduler } from '../bus/index.js';
import type { Partition } from '../hv/index.js';
import type { KmclScheduler } from '../kmcl/index.js';
import { createHostDeviceObject, type KmclHostDeviceObject } from '../kmcl/server/index.js';
import type { GuestMemory } from '../memory/index.js';
import type { TraceSink } from '../trace/index.js';
import { VMBUS_SINT, type VmbusVersion } from '../wire/messages/index.js';
import { vmFailure, type VmFailure } from './vm-error.js';
import type { HostContext, HostModule, HostStopReport, Teardown } from './vm-types.js';

export interface HostSideSetup {
  readonly guestName: string;
  readonly guestIndex: number;
  readonly host: Partition;
  readonly guest: Partition;
  readonly guestMemory: GuestMemory;
  readonly scheduler: KmclScheduler;
  /** Where the bus retries wait: the seeded scheduler, or null for the event loop. */
  readonly retry: RetryScheduler | null;
  /** Already tagged with the guest's name. */
  readonly trace: TraceSink;
  readonly maxVersion: VmbusVersion | null;
}

/**
 * The host SINT of guest `index`'s bus: one host bus owns a SINT of the host
 * partition (src/bus/host-types.ts), so guests take 2, 3, … up to SINT 15.
 */
export function hostSintOf(index: number): number {
  return VMBUS_SINT + index;
}

export class HostSide {
  readonly bus: HostBus;
  readonly device: KmclHostDeviceObject;
  readonly #setup: HostSideSetup;
  readonly #teardowns: Teardown[] = [];

  /** Throws (a BusError) when the host bus's ports cannot be made. */
  constructor(setup: HostSideSetup) {
    this.#setup = setup;
    this.bus = HostBus.create({
      host: setup.host,
      guest: setup.guest,
      guestMemory: setup.guestMemory,
      hostSint: hostSintOf(setup.guestIndex),
      trace: setup.trace,
      ...(setup.retry === null ? {} : { scheduler: setup.retry }),
      ...(setup.maxVersion === null ? {} : { maxVersion: setup.maxVersion }),
    });
    this.device = createHostDeviceObject({
      bus: this.bus,
      guestMemory: setup.guestMemory,
      scheduler: setup.scheduler,
      name: `VMBus host of ${setup.guestName}`,
    });
  }

  /** Starts the modules in order; resolves with the first failure (the rest are not started), or null. */
  async start(modules: readonly HostModule[]): Promise<VmFailure | null> {
    const { host, guest, guestMemory, trace, scheduler, guestIndex, guestName } = this.#setup;
    const context: HostContext = { device: this.device, bus: this.bus, partition: host, guestPartition: guest, guestMemory, trace, scheduler, guestIndex, guestName };
    for (const module of modules) {
      try {
        const teardown = await module(context);
        if (typeof teardown === 'function') this.#teardowns.push(teardown);
      } catch (error) {
        return vmFailure('host', 'host-start', error, `for guest "${guestName}"`);
      }
    }
    return null;
  }

  /** Tears the modules down, last started first; resolves with what failed. */
  async teardown(): Promise<VmFailure[]> {
    const failures: VmFailure[] = [];
    for (const teardown of this.#teardowns.splice(0).reverse()) {
      try {
        await teardown();
      } catch (error) {
        failures.push(vmFailure('host', 'host-teardown', error, `for guest "${this.#setup.guestName}"`));
      }
    }
    return failures;
  }

  /** Closes the bus (every port and connection it made goes) and reports what the server still held before. */
  close(): HostStopReport {
    const snapshot = this.bus.snapshot();
    const invariants = this.bus.checkInvariants();
    this.bus.close();
    return {
      guest: this.#setup.guestName,
      connection: snapshot.connection,
      table: snapshot.table,
      invariants,
      resources: this.bus.resources(),
    };
  }
}
