/**
 * A small model of the Windows device objects a KMCL driver sees: the VMBus
 * device (what the guest's bus driver creates), and a child device object per
 * channel offer (the PDO the bus enumerates for it). Drivers pass one as
 * VmbChannelAllocate's ParentDeviceObject and query the KMCL interface on it;
 * VmbChannelGetTargetDeviceObject / GetParentDeviceObject return them.
 */
import type { GuestMemory, PageAllocator } from '../memory/index.js';
import type { Guid } from '../wire/guid.js';
import type { GuestBusPort, MonitorLatencyPort, OfferInfo } from './bus-port.js';
import { realTimeScheduler, type KmclScheduler } from './kmcl-scheduler.js';
import { isOfferClaimed } from './channel/offer-binding.js';

/**
 * What a channel's data plane uses, whichever end of the bus it is on: the
 * guest memory its packets' external data points into, time, and the guest's
 * monitored notifications (null on the host side).
 */
export interface ChannelContext {
  readonly memory: GuestMemory;
  readonly scheduler: KmclScheduler;
  /** The guest partition's monitored notifications, when channels may be monitored. */
  readonly monitor: MonitorLatencyPort | null;
}

/** What every device object of one guest bus shares: the bus, guest memory and its allocator, time. */
export interface VmbusContext extends ChannelContext {
  readonly bus: GuestBusPort;
  /** The guest's page allocator (bounce buffers come from it). */
  readonly allocator: PageAllocator;
}

/** Where the VMBus device places the MMIO space offers ask for (guest physical addresses). */
export interface MmioWindow {
  readonly base: number;
  readonly size: number;
}

/** An MMIO range reserved for one offer's device. */
export interface MmioSpace {
  readonly address: number;
  readonly size: number;
}

/**
 * Decision: the default MMIO window, the 128 MiB below 4 GiB's last 128 MiB,
 * a part of the low MMIO gap a Hyper-V guest firmware leaves free.
 */
export const DEFAULT_MMIO_WINDOW: MmioWindow = { base: 0xf000_0000, size: 0x0800_0000 };

const MEGABYTE = 0x10_0000;

export interface VmbusDeviceObjectOptions {
  readonly bus: GuestBusPort;
  readonly memory: GuestMemory;
  readonly allocator: PageAllocator;
  /** Default: real time. Pass the hypervisor's scheduler for seeded, replayable runs. */
  readonly scheduler?: KmclScheduler;
  /** `Partition.monitor` of the guest, for VmbChannelSetInterruptLatency. */
  readonly monitor?: MonitorLatencyPort;
  /** Where offers' MMIO space is reserved (default DEFAULT_MMIO_WINDOW). */
  readonly mmioWindow?: MmioWindow;
  readonly name?: string;
}

/** DEVICE_OBJECT: the VMBus device or one of its children. */
export class KmclDeviceObject {
  /** Interface references taken through INTERFACE.InterfaceReference (and the query itself). */
  interfaceReferenceCount = 0;
  /** True once the offer behind a child was rescinded (the PDO is gone). */
  removed = false;
  /** The MMIO space reserved for a child's offer, null when it asked for none or the window is full. */
  mmio: MmioSpace | null = null;
  private readonly childrenByChannel: Map<number, KmclDeviceObject>;
  private readonly stopWatching: (() => void)[] = [];
  /** The VMBus device's MMIO window and how much of it is handed out. */
  private mmioWindow: MmioWindow = DEFAULT_MMIO_WINDOW;
  private mmioUsed = 0;

  private constructor(
    readonly kind: 'vmbus' | 'child',
    readonly name: string,
    readonly parent: KmclDeviceObject | null,
    readonly context: VmbusContext,
    /** The offer a child stands for; null for the VMBus device. */
    readonly offer: OfferInfo | null,
  ) {
    this.childrenByChannel = new Map();
  }

  /** The VMBus device object over a connected guest bus; it follows offers and rescinds. */
  static createVmbus(options: VmbusDeviceObjectOptions): KmclDeviceObject {
    const context: VmbusContext = {
      bus: options.bus,
      memory: options.memory,
      allocator: options.allocator,
      scheduler: options.scheduler ?? realTimeScheduler,
      monitor: options.monitor ?? null,
    };
    const device = new KmclDeviceObject('vmbus', options.name ?? 'VMBus', null, context, null);
    device.mmioWindow = options.mmioWindow ?? DEFAULT_MMIO_WINDOW;
    for (const offer of options.bus.offers()) device.addChild(offer);
    device.stopWatching.push(options.bus.onOffer((offer) => device.addChild(offer)));
    return device;
  }

  /** The VMBus device this object belongs to (itself for the VMBus device). */
  get vmbusDevice(): KmclDeviceObject {
    return this.parent ?? this;
  }

  /** The child device objects of present offers, in offer order. */
  children(): KmclDeviceObject[] {
    return [...this.vmbusDevice.childrenByChannel.values()];
  }

  /** The child for a channel id, if its offer is present. */
  childForChannel(channelId: number): KmclDeviceObject | undefined {
    return this.vmbusDevice.childrenByChannel.get(channelId);
  }

  /** The first present child of a primary channel offer of this interface (and instance, when given). */
  findChild(interfaceId: Guid, instanceId?: Guid): KmclDeviceObject | undefined {
    for (const child of this.children()) {
      const offer = child.offer!;
      if (
        offer.subchannelIndex === 0 &&
        offer.interfaceId === interfaceId &&
        (instanceId === undefined || offer.instanceId === instanceId)
      ) {
        return child;
      }
    }
    return undefined;
  }

  /** Stops following the bus (the VMBus device is being removed). */
  detach(): void {
    for (const stop of this.vmbusDevice.stopWatching.splice(0)) stop();
  }

  /** Megabyte-aligned space from the window, first come first served (never reused: offers are few). */
  private reserveMmio(megabytes: number): MmioSpace | null {
    const size = megabytes * MEGABYTE;
    if (size === 0 || this.mmioUsed + size > this.mmioWindow.size) return null;
    const space = { address: this.mmioWindow.base + this.mmioUsed, size };
    this.mmioUsed += size;
    return space;
  }

  private addChild(offer: OfferInfo): void {
    if (this.childrenByChannel.has(offer.channelId)) return;
    const child = new KmclDeviceObject(
      'child',
      `${this.name}\\${offer.interfaceId}{${offer.instanceId}}#${offer.subchannelIndex}`,
      this,
      this.context,
      offer,
    );
    child.mmio = this.reserveMmio(offer.mmioMegabytes);
    this.childrenByChannel.set(offer.channelId, child);
    const stop = this.context.bus.onRescind(offer.channelId, () => {
      child.removed = true;
      if (this.childrenByChannel.get(offer.channelId) === child) this.childrenByChannel.delete(offer.channelId);
      stop();
      // A bound channel releases the id once it has closed; an offer nobody opened is released here, as the bus driver would.
      if (!isOfferClaimed(this.context, offer.channelId)) releaseQuietly(this.context.bus, offer.channelId);
    });
    this.stopWatching.push(stop);
  }
}

/** REL_ID_RELEASED; a bus that refuses (it already let the id go) leaves nothing to do. */
export function releaseQuietly(bus: GuestBusPort, channelId: number): void {
  try {
    bus.releaseId(channelId);
  } catch {
    // Already released, or the bus unloaded.
  }
}

/** PDEVICE_OBJECT, as VmbChannelAllocate and the V2 device-object getters use it. */
export type PDEVICE_OBJECT = KmclDeviceObject;

/** The VMBus device object for a connected guest bus (the FDO a KMCL driver queries the interface on). */
export function createVmbusDeviceObject(options: VmbusDeviceObjectOptions): KmclDeviceObject {
  return KmclDeviceObject.createVmbus(options);
}
