/**
 * A guest bus for KMCL tests without the real bus drivers: offers the test
 * adds and rescinds, GPADLs it can map and unmap, and channels whose rings
 * are two FlatRingMemory rings shared with a host-side endpoint the test
 * drives as the peer. Signals go through the seeded scheduler, as the
 * hypervisor's do.
 */
import type { SeededScheduler } from '../../../src/hv/index.js';
import type { GpaRange } from '../../../src/memory/index.js';
import { FlatRingMemory, RingReader, RingWriter, initializeRing } from '../../../src/ring/index.js';
import type { Guid } from '../../../src/wire/guid.js';
import { NTSTATUS, type NtStatus } from '../../../src/wire/ntstatus.js';
import type {
  GuestBusPort,
  OfferInfo,
  OpenChannelOptions,
  OpenChannelPort,
} from '../../../src/kmcl/index.js';

class LoopbackError extends Error {
  constructor(readonly status: NtStatus) {
    super(`loopback bus: 0x${status.toString(16)}`);
  }
}

/** One side of a loopback channel. */
export class LoopbackEndpoint implements OpenChannelPort {
  peer: LoopbackEndpoint | null = null;
  open = true;
  signalsSent = 0;
  private readonly handlers = new Set<() => void>();

  constructor(
    readonly channelId: number,
    readonly reader: RingReader,
    readonly writer: RingWriter,
    private readonly scheduler: SeededScheduler,
    private readonly onClose: () => void,
  ) {}

  signalPeer(): void {
    const peer = this.peer;
    if (!this.open || peer === null) return;
    this.signalsSent++;
    this.scheduler.schedule(() => peer.deliver(), 0);
  }

  onSignal(handler: () => void): () => void {
    const entry = (): void => handler();
    this.handlers.add(entry);
    return () => void this.handlers.delete(entry);
  }

  /** True while some endpoint runs its signal handlers (a DISPATCH_LEVEL delivery, for tests to see). */
  static inSignalHandler = false;

  deliver(): void {
    if (!this.open) return;
    LoopbackEndpoint.inSignalHandler = true;
    try {
      for (const handler of [...this.handlers]) handler();
    } finally {
      LoopbackEndpoint.inSignalHandler = false;
    }
  }

  close(): Promise<void> {
    if (this.open) {
      this.open = false;
      this.handlers.clear();
      this.onClose();
    }
    return Promise.resolve();
  }
}

export interface LoopbackGpadl {
  readonly channelId: number;
  readonly ranges: readonly GpaRange[];
  readonly readOnly: boolean;
  mapped: number;
  tearingDown: (() => void) | null;
}

export interface OfferOptions {
  readonly interfaceId: Guid;
  readonly instanceId: Guid;
  readonly subchannelIndex?: number;
  readonly flags?: number;
  readonly mmioMegabytes?: number;
  readonly monitorId?: number | null;
}

export class LoopbackBus implements GuestBusPort {
  /** Status OPEN_RESULT carries for the next opens (success when unset). */
  openStatus: NtStatus = NTSTATUS.STATUS_SUCCESS;
  /** Host endpoints of open channels, by channel id. */
  readonly hosts = new Map<number, LoopbackEndpoint>();
  readonly gpadls = new Map<number, LoopbackGpadl>();
  readonly released: number[] = [];
  readonly opens: { channelId: number; options: OpenChannelOptions }[] = [];
  readonly closes: number[] = [];
  private readonly live = new Map<number, OfferInfo>();
  private readonly offerListeners = new Set<(offer: OfferInfo) => void>();
  private readonly rescindListeners = new Map<number, Set<() => void>>();
  private nextChannelId = 1;
  private nextGpadlId = 0x100;

  constructor(readonly scheduler: SeededScheduler) {}

  /** Offers a channel now; returns its record. */
  addOffer(options: OfferOptions): OfferInfo {
    const offer: OfferInfo = {
      channelId: this.nextChannelId++,
      interfaceId: options.interfaceId,
      instanceId: options.instanceId,
      subchannelIndex: options.subchannelIndex ?? 0,
      flags: options.flags ?? 0,
      mmioMegabytes: options.mmioMegabytes ?? 0,
      monitorId: options.monitorId ?? null,
    };
    this.live.set(offer.channelId, offer);
    for (const listener of [...this.offerListeners]) listener(offer);
    return offer;
  }

  /** Rescinds an offer: its host endpoint closes, rescind listeners run. */
  rescind(channelId: number): void {
    this.live.delete(channelId);
    const host = this.hosts.get(channelId);
    if (host !== undefined) {
      host.open = false;
      if (host.peer !== null) host.peer.open = false;
    }
    for (const listener of [...(this.rescindListeners.get(channelId) ?? [])]) listener();
  }

  offers(): readonly OfferInfo[] {
    return [...this.live.values()];
  }

  onOffer(handler: (offer: OfferInfo) => void): () => void {
    this.offerListeners.add(handler);
    return () => void this.offerListeners.delete(handler);
  }

  onRescind(channelId: number, handler: () => void): () => void {
    let set = this.rescindListeners.get(channelId);
    if (set === undefined) {
      set = new Set();
      this.rescindListeners.set(channelId, set);
    }
    const entry = (): void => handler();
    set.add(entry);
    return () => void set.delete(entry);
  }

  createGpadl(channelId: number, ranges: readonly GpaRange[], options?: { readOnly?: boolean }): Promise<number> {
    return this.later(() => {
      if (!this.live.has(channelId)) throw new LoopbackError(NTSTATUS.STATUS_DEVICE_REMOVED);
      const gpadlId = this.nextGpadlId++;
      this.gpadls.set(gpadlId, { channelId, ranges, readOnly: options?.readOnly === true, mapped: 0, tearingDown: null });
      return gpadlId;
    });
  }

  teardownGpadl(channelId: number, gpadlId: number): Promise<void> {
    const gpadl = this.gpadls.get(gpadlId);
    if (gpadl === undefined || gpadl.channelId !== channelId) return Promise.reject(new LoopbackError(NTSTATUS.STATUS_NOT_FOUND));
    return new Promise((resolve) => {
      const done = (): void => {
        this.gpadls.delete(gpadlId);
        resolve();
      };
      if (gpadl.mapped === 0) this.scheduler.schedule(done, 0);
      else gpadl.tearingDown = done;
    });
  }

  /** The host stops mapping a GPADL; a pending teardown completes. */
  unmap(gpadlId: number): void {
    const gpadl = this.gpadls.get(gpadlId)!;
    gpadl.mapped--;
    if (gpadl.mapped === 0 && gpadl.tearingDown !== null) this.scheduler.schedule(gpadl.tearingDown, 0);
  }

  openChannel(channelId: number, options: OpenChannelOptions): Promise<OpenChannelPort> {
    this.opens.push({ channelId, options });
    return this.later(() => {
      if (!this.live.has(channelId)) throw new LoopbackError(NTSTATUS.STATUS_NOT_FOUND);
      if (this.openStatus !== NTSTATUS.STATUS_SUCCESS) throw new LoopbackError(this.openStatus);
      const toHost = FlatRingMemory.allocate(options.outgoingRingPages - 1);
      const toGuest = FlatRingMemory.allocate(options.incomingRingPages - 1);
      initializeRing(toHost);
      initializeRing(toGuest);
      const guest = new LoopbackEndpoint(channelId, new RingReader(toGuest), new RingWriter(toHost), this.scheduler, () =>
        this.closes.push(channelId),
      );
      const host = new LoopbackEndpoint(channelId, new RingReader(toHost), new RingWriter(toGuest), this.scheduler, () => undefined);
      guest.peer = host;
      host.peer = guest;
      this.hosts.set(channelId, host);
      return guest;
    });
  }

  releaseId(channelId: number): void {
    this.released.push(channelId);
  }

  /** Resolves (or rejects) on a later scheduler turn, as a bus round trip does. */
  private later<T>(result: () => T): Promise<T> {
    return new Promise((resolve, reject) => {
      this.scheduler.schedule(() => {
        try {
          resolve(result());
        } catch (error) {
          reject(error);
        }
      }, 0);
    });
  }
}
