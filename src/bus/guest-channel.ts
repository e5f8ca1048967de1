/**
 * The guest's side of one open channel: the ring pages it allocated, the
 * endpoint over them, and `close`. The guest lays the ring GPADL out as Linux
 * and OpenVMM's client do (openvmm-vmbus.md §6.4, `vmbus_client/src/driver.rs:133-143`):
 * the outgoing (guest→host) ring first, the incoming ring at
 * `downstreamRingPageOffset` = the outgoing ring's page count, each ring one
 * control page and then data pages.
 */
import type { GuestMemory, PageAllocator } from '../memory/index.js';
import { PagedRingMemory, RingReader, RingWriter, initializeRing } from '../ring/index.js';
import type { ChannelEndpoint, EndpointStats, RingEndpoint } from './channel-endpoint.js';

/** A guest channel the host accepted. */
export interface GuestOpenChannel extends ChannelEndpoint {
  /** True once the host rescinded the channel: close it, then `GuestBus.releaseId`. */
  readonly rescinded: boolean;
  /** True until `close` starts (or the bus unloads). */
  readonly isOpen: boolean;
  /**
   * CLOSE_CHANNEL (not sent for a rescinded channel, which the host already
   * stopped), then the ring GPADL's teardown; resolves when GPADL_TORNDOWN came
   * and the ring pages are freed. Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

/** The pages of a channel's rings, freed exactly once (by close or by unload). */
export class RingPages {
  readonly #allocator: PageAllocator;
  readonly pfns: readonly number[];
  #freed = false;

  constructor(allocator: PageAllocator, pfns: readonly number[]) {
    this.#allocator = allocator;
    this.pfns = pfns;
  }

  get freed(): boolean {
    return this.#freed;
  }

  /** Frees the pages; call only once the host can no longer map them. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#allocator.free(this.pfns);
  }
}

/** How a guest channel's rings are held: the ring GPADL over these pages. */
export interface GuestRing {
  readonly gpadlId: number;
  readonly pages: RingPages;
  /** The guest VP the channel's event flag is routed on. */
  readonly targetVp: number;
}

export class GuestChannel implements GuestOpenChannel {
  readonly endpoint: RingEndpoint;
  readonly ring: GuestRing;
  readonly #closer: (channel: GuestChannel) => Promise<void>;
  #rescinded = false;
  #closing: Promise<void> | null = null;

  constructor(endpoint: RingEndpoint, ring: GuestRing, closer: (channel: GuestChannel) => Promise<void>) {
    this.endpoint = endpoint;
    this.ring = ring;
    this.#closer = closer;
  }

  get channelId(): number {
    return this.endpoint.channelId;
  }

  get reader(): RingReader {
    return this.endpoint.reader;
  }

  get writer(): RingWriter {
    return this.endpoint.writer;
  }

  get rescinded(): boolean {
    return this.#rescinded;
  }

  get isOpen(): boolean {
    return this.endpoint.isOpen;
  }

  get stats(): EndpointStats {
    return this.endpoint.stats;
  }

  signalPeer(): void {
    this.endpoint.signalPeer();
  }

  onSignal(handler: () => void): () => void {
    return this.endpoint.onSignal(handler);
  }

  close(): Promise<void> {
    this.#closing ??= this.#closer(this);
    return this.#closing;
  }

  /** The host rescinded the channel. */
  markRescinded(): void {
    this.#rescinded = true;
  }
}

/**
 * Makes the two rings over fresh ring pages, as a Linux guest makes them
 * (linux-vmbus.md §A.1.1, `ring_buffer.c:216-217`): indices 0, the
 * pending-send-size feature bit set on both, interrupt mask clear.
 */
export function buildGuestRings(
  memory: GuestMemory,
  pfns: readonly number[],
  outgoingPages: number,
): { readonly reader: RingReader; readonly writer: RingWriter } {
  const views = pfns.map((pfn) => memory.pageView(pfn));
  const outgoing = new PagedRingMemory(views.slice(0, outgoingPages));
  const incoming = new PagedRingMemory(views.slice(outgoingPages));
  initializeRing(outgoing);
  initializeRing(incoming);
  return { reader: new RingReader(incoming), writer: new RingWriter(outgoing) };
}
