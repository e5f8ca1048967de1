/**
 * What a VM is made of and what the modules plugged into it are given: the
 * options of `createVm`, the contexts of host and guest modules, and the
 * reports a stopped VM leaves behind.
 */
import type { GuestBus, GuestBusResources, HostBus, HostBusResources } from '../bus/index.js';
import type { Partition } from '../hv/index.js';
import type { KmclDeviceObject, KmclScheduler } from '../kmcl/index.js';
import type { KmclHostDeviceObject } from '../kmcl/server/index.js';
import type { GuestMemory, PageAllocator } from '../memory/index.js';
import type { TraceSink } from '../trace/index.js';
import type { VmbusVersion } from '../wire/messages/index.js';
import type { VmFailure } from './vm-error.js';

/** What a module's start may hand back: how to undo it when the VM stops. */
export type Teardown = () => void | Promise<void>;

/** What a module's start returns: nothing, or its teardown (possibly once its promise settles). */
export type ModuleStart = void | Teardown | Promise<void | Teardown>;

/** The host side of one guest's VMBus, as a host module (a VSP) sees it. */
export interface HostContext {
  /**
   * The KMCL host device object over this guest's bus: a VSP written against
   * the KMCL server interface queries it and allocates its server channels on it.
   */
  readonly device: KmclHostDeviceObject;
  /** The host bus serving this guest: offer channels on it directly. */
  readonly bus: HostBus;
  /** The host (root) partition. */
  readonly partition: Partition;
  /** The guest partition this bus serves. */
  readonly guestPartition: Partition;
  /** The guest's physical memory (what its GPADLs describe). */
  readonly guestMemory: GuestMemory;
  readonly trace: TraceSink;
  /** The seeded scheduler in single-thread mode, real time in workers mode. */
  readonly scheduler: KmclScheduler;
  readonly guestIndex: number;
  readonly guestName: string;
}

/** A guest partition, as a guest module (a KMCL driver) sees it, in the guest's own thread. */
export interface GuestContext {
  /** The KMCL VMBus device object: query the KMCL interface on it, allocate channels on it or its children. */
  readonly device: KmclDeviceObject;
  /** The connected guest bus the device object is built on. */
  readonly bus: GuestBus;
  readonly memory: GuestMemory;
  readonly allocator: PageAllocator;
  readonly partition: Partition;
  readonly trace: TraceSink;
  /** The seeded scheduler in single-thread mode, real time in workers mode. */
  readonly scheduler: KmclScheduler;
  readonly name: string;
  readonly index: number;
  /** The guest's `data` option (structured-cloned in workers mode), or undefined. */
  readonly data: unknown;
  /**
   * Sends a structured event to the VM's owner (`VmOptions.onEvent`,
   * `Vm.waitForEvent`). `detail` must be structured-cloneable.
   */
  emit(kind: string, detail?: unknown): void;
}

/** A host module: started once per guest, before the guest connects (so its offers are there at boot). */
export type HostModule = (context: HostContext) => ModuleStart;

/** A guest module: started in the guest's thread once its bus is connected. */
export type GuestModule = (context: GuestContext) => ModuleStart;

/**
 * Where a module lives: a file URL, an absolute or relative path (relative to
 * the working directory), or a bare specifier; its default export is the
 * module function, unless `exportName` names another export.
 */
export type ModuleSpecifier = string | URL | { readonly module: string | URL; readonly exportName: string };

/** One guest partition of the VM. */
export interface GuestSpec {
  /** Unique among the guests (default `guest-<index>`). */
  readonly name?: string;
  /** Guest physical memory, in 4 KiB pages (default 1024). */
  readonly memoryPages?: number;
  /** Virtual processors (default 1). */
  readonly vpCount?: number;
  /** This guest's module, instead of `VmOptions.guest`. */
  readonly module?: ModuleSpecifier | GuestModule;
  /** Handed to the guest module as `context.data`; structured-cloneable in workers mode. */
  readonly data?: unknown;
}

/** Every partition in this thread under a SeededScheduler: the same seed gives the same run. */
export interface SingleThreadMode {
  readonly kind: 'single-thread';
  readonly seed: number;
}

/** The host in this thread, each guest partition in its own worker thread. */
export interface WorkersMode {
  readonly kind: 'workers';
  /** How long a guest may take to become ready (default 30 000 ms). */
  readonly startTimeoutMs?: number;
  /** How long a guest may take to stop and its worker to exit before the worker is terminated (default 10 000 ms). */
  readonly stopTimeoutMs?: number;
}

export type VmMode = SingleThreadMode | WorkersMode;

export interface VmOptions {
  /** How many guests (with defaults), or each one's spec. */
  readonly guests: number | readonly GuestSpec[];
  readonly mode: VmMode;
  /** Host modules, each started for every guest, in order. */
  readonly host?: HostModule | ModuleSpecifier | readonly (HostModule | ModuleSpecifier)[];
  /** The guest module of every guest without its own. A function works only in single-thread mode. */
  readonly guest?: ModuleSpecifier | GuestModule;
  /** The newest VMBus version the host accepts (the guests fall back to it). */
  readonly maxVersion?: VmbusVersion;
  /** Every layer's events; those of a guest's partition carry `detail.vmGuest`. */
  readonly trace?: TraceSink;
  /** Called with each guest module event as it arrives. */
  readonly onEvent?: (event: VmGuestEvent) => void;
}

/** An event a guest module emitted. */
export interface VmGuestEvent {
  readonly guest: string;
  readonly kind: string;
  readonly detail: unknown;
}

/** A guest of a running VM, as its owner sees it. */
export interface VmGuest {
  readonly name: string;
  readonly index: number;
  readonly partitionId: number;
  readonly memory: GuestMemory;
  readonly hostBus: HostBus;
}

/** What a guest held once it stopped: all zero when its module and bus let go of everything. */
export interface GuestStopReport {
  readonly name: string;
  /** The guest bus's holdings after unload; null when it never connected. */
  readonly bus: GuestBusResources | null;
  /** The client state machine's broken invariants. */
  readonly invariants: readonly string[];
  /** Guest pages still allocated (by the bus or the module); null when its worker died before it could say. */
  readonly pagesAllocated: number | null;
  /**
   * 'in-thread' in single-thread mode; for a worker: 'clean' when it exited by
   * itself after stopping, 'terminated' when it had to be, 'crashed' when it
   * died before it could stop.
   */
  readonly exit: 'in-thread' | 'clean' | 'terminated' | 'crashed';
}

/** What the host side of a guest held once it stopped. */
export interface HostStopReport {
  readonly guest: string;
  /** The server's connection state before close ('disconnected' after a clean unload). */
  readonly connection: string;
  /** GPADLs, mappings and mapped pages the server still held before close. */
  readonly table: { readonly gpadls: number; readonly mappings: number; readonly mappedPages: number };
  readonly invariants: readonly string[];
  /** The host bus's holdings after close (offers not rescinded still count). */
  readonly resources: HostBusResources;
}

/** What `Vm.stop` resolves with. */
export interface VmStopReport {
  readonly guests: readonly GuestStopReport[];
  readonly host: readonly HostStopReport[];
  /** Worker threads still alive (0 after any stop). */
  readonly liveWorkers: number;
  /** Failures found while stopping; `stop` rejects when there is any, with this report on the error. */
  readonly failures: readonly VmFailure[];
}
