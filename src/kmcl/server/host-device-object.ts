/**
 * A host device object: the host's view of one guest partition's VMBus (the
 * DDI's "VMBus vdev of the partition"), which a VSP allocates its server
 * channels on (VmbChannelAllocate's ParentDeviceObject) and queries the
 * server interface on. It holds the HostBus serving that guest, the guest
 * memory the bus's GPADLs and packets point into, and time. A server channel
 * is offered to its parent's guest unless VmbServerChannelInitSetVmbusHandle
 * names another guest's host device object.
 */
import type { GuestMemory } from '../../memory/index.js';
import { DEFAULT_MMIO_WINDOW, type ChannelContext, type MmioSpace, type MmioWindow } from '../device-object.js';
import { realTimeScheduler, type KmclScheduler } from '../kmcl-scheduler.js';
import type { HostBusPort } from './host-bus-port.js';
import { KmclVmbusHandle } from './vmbus-handle.js';

/**
 * Decision: how long VmbChannelDisable waits for the guest to release a
 * rescinded channel (REL_ID_RELEASED) before it gives up, in 100 ns units
 * (10 s). The Disable page promises a complete teardown; the host's part of
 * it never depends on the guest, and the Suspend page's rule (the client may
 * be buggy, malicious or crashed) bounds the wait for the guest's part.
 */
export const RESCIND_RELEASE_TIMEOUT = 100_000_000;

const MEGABYTE = 0x10_0000;

export interface HostDeviceObjectOptions {
  /** The host side of the guest's bus (a `HostBus`). */
  readonly bus: HostBusPort;
  /** The guest's memory: what its GPADLs and the external data of its packets describe. */
  readonly guestMemory: GuestMemory;
  /** Default: real time. Pass the hypervisor's scheduler for seeded, replayable runs. */
  readonly scheduler?: KmclScheduler;
  readonly name?: string;
  /** The VTL whose guest the bus serves (a `HostBus` serves VTL 0). */
  readonly vtl?: number;
  /** Where offers' MMIO space is placed in the guest's physical address space (default DEFAULT_MMIO_WINDOW, as the guest's VMBus device). */
  readonly mmioWindow?: MmioWindow;
  /** VmbChannelDisable's wait for the guest's release, 100 ns units (default RESCIND_RELEASE_TIMEOUT). */
  readonly releaseTimeout?: number;
}

/** DEVICE_OBJECT on the host: one guest's VMBus as its VSPs see it. */
export class KmclHostDeviceObject {
  readonly kind = 'host';
  readonly name: string;
  /** Interface references taken through INTERFACE.InterfaceReference (and the query itself). */
  interfaceReferenceCount = 0;
  readonly bus: HostBusPort;
  readonly context: ChannelContext;
  readonly vtl: number;
  readonly releaseTimeout: number;
  readonly #mmioWindow: MmioWindow;
  /** MMIO ranges handed out, by address. */
  readonly #mmioInUse = new Map<number, MmioSpace>();

  private constructor(options: HostDeviceObjectOptions) {
    this.name = options.name ?? 'VMBus host';
    this.bus = options.bus;
    this.context = { memory: options.guestMemory, scheduler: options.scheduler ?? realTimeScheduler, monitor: null };
    this.vtl = options.vtl ?? 0;
    this.releaseTimeout = options.releaseTimeout ?? RESCIND_RELEASE_TIMEOUT;
    this.#mmioWindow = options.mmioWindow ?? DEFAULT_MMIO_WINDOW;
  }

  /** The host device object for one guest's bus. */
  static create(options: HostDeviceObjectOptions): KmclHostDeviceObject {
    return new KmclHostDeviceObject(options);
  }

  /** The device that stands for the whole bus: itself (channels of one host device share its bus). */
  get vmbusDevice(): KmclHostDeviceObject {
    return this;
  }

  /**
   * The user-mode handle to this guest's VMBus, as the VM's worker process
   * opens it: what VmbConvertVmbusHandleToKernelHandle takes.
   */
  openVmbusHandle(): KmclVmbusHandle {
    return KmclVmbusHandle.open(this, 'user');
  }

  /**
   * Megabyte-aligned MMIO space for an offer: the lowest gap of the window
   * that holds `megabytes`, or null when none does (or none was asked for).
   */
  reserveMmio(megabytes: number): MmioSpace | null {
    const size = megabytes * MEGABYTE;
    if (size === 0) return null;
    let address = this.#mmioWindow.base;
    for (const used of [...this.#mmioInUse.values()].sort((a, b) => a.address - b.address)) {
      if (address + size <= used.address) break;
      address = Math.max(address, used.address + used.size);
    }
    if (address + size > this.#mmioWindow.base + this.#mmioWindow.size) return null;
    const space = { address, size };
    this.#mmioInUse.set(address, space);
    return space;
  }

  /** Gives a reservation back (the channel was disabled). */
  releaseMmio(space: MmioSpace): void {
    if (this.#mmioInUse.get(space.address) === space) this.#mmioInUse.delete(space.address);
  }
}

/** Creates the host device object for one guest's bus. */
export function createHostDeviceObject(options: HostDeviceObjectOptions): KmclHostDeviceObject {
  return KmclHostDeviceObject.create(options);
}
