/**
 * The guest side of the bus: a thin async driver over the sans-IO
 * `VmbusClient`. It feeds the client the VMBus messages (type 1) the host
 * posts to the guest's SINT 2, posts the client's messages on the connection
 * id the client names (1 before 5.0, 4 for INITIATE_CONTACT from 5.0, then the
 * id the host chose), and turns the client's completion events into promises.
 * Channels get their rings from pages the guest allocates, and their signals
 * from the event flags of SINT 2.
 */
import { HV_STATUS, type HvMessage, type Partition } from '../hv/index.js';
import { MemoryError, PAGE_SIZE, type GpaRange, type GuestMemory, type PageAllocator } from '../memory/index.js';
import { NULL_TRACE, type TraceSink } from '../trace/index.js';
import { VMBUS_MESSAGE_TYPE, VMBUS_SINT, VMBUS_VERSIONS, type VmbusVersion } from '../wire/messages/index.js';
import { NTSTATUS } from '../wire/ntstatus.js';
import { VmbusClient, type ClientCounts, type ClientEvent, type MonitorPageGpas } from './client/index.js';
import { BusError, memoryFailure, refusalError } from './bus-error.js';
import { RingEndpoint, type PeerSignal } from './channel-endpoint.js';
import { EventFlagRouter } from './event-flag-router.js';
import { GuestChannel, RingPages, buildGuestRings, type GuestOpenChannel, type GuestRing } from './guest-channel.js';
import { GuestOffers, type GuestOffer, type OfferMatch } from './guest-offers.js';
import { GuestRequests, type Connected } from './guest-requests.js';
import type { GuestBusOptions, GuestBusResources, GuestOpenOptions } from './guest-types.js';
import { EVENT_LOOP_RETRY, MessagePoster } from './message-poster.js';
import { messageDetail, problemText } from './trace-detail.js';

/** The guest partition's VMBus: connect, offers, GPADLs, open channels, unload. */
export class GuestBus {
  readonly #partition: Partition;
  readonly #memory: GuestMemory;
  readonly #allocator: PageAllocator;
  readonly #vp: number;
  readonly #trace: TraceSink;
  /** False under NULL_TRACE: the hot paths then build no trace details. */
  readonly #tracing: boolean;
  readonly #client: VmbusClient;
  readonly #requests = new GuestRequests();
  readonly #offers = new GuestOffers();
  readonly #channels = new Map<number, GuestChannel>();
  readonly #router: EventFlagRouter;
  readonly #poster: MessagePoster;
  readonly #stopMessages: (() => void)[];
  #monitorPages: RingPages | null = null;
  #session: Connected | null = null;
  #unloading: Promise<void> | null = null;

  private constructor(options: GuestBusOptions) {
    this.#partition = options.partition;
    this.#memory = options.memory;
    this.#allocator = options.allocator;
    this.#vp = options.vp ?? 0;
    this.#trace = options.trace ?? NULL_TRACE;
    this.#tracing = this.#trace !== NULL_TRACE;
    this.#client = new VmbusClient({
      notifier: { sendMessage: (bytes, connectionId) => this.#send(bytes, connectionId), event: (event) => this.#onEvent(event) },
      trace: this.#trace,
    });
    this.#poster = new MessagePoster(options.partition, options.scheduler ?? EVENT_LOOP_RETRY, (failure) =>
      this.#emit('message-post-failed', { connectionId: failure.connectionId, ...messageDetail(failure.bytes) }, failure.reason),
    );
    this.#router = new EventFlagRouter(options.partition, VMBUS_SINT, (vp, flag) =>
      this.#emit('signal-dropped', { vp, flag }, `no open channel has event flag ${flag}`),
    );
    // Before 3.0 the host ignores the target VP and posts to VP 0 (channels.rs, target_message_vp).
    const vps = new Set([this.#vp, 0]);
    this.#stopMessages = [...vps].map((vp) => options.partition.onMessage(vp, VMBUS_SINT, (message) => this.#receive(message)));
  }

  /**
   * Negotiates a version (newest first), asks for offers and resolves once
   * ALL_OFFERS_DELIVERED arrived. Rejects with a BusError when no version is
   * accepted (STATUS_REVISION_MISMATCH) or pages are short.
   */
  static async connect(options: GuestBusOptions): Promise<GuestBus> {
    const bus = new GuestBus(options);
    try {
      await bus.#negotiate(options);
    } catch (error) {
      bus.#shutdown();
      throw error;
    }
    return bus;
  }

  /** The negotiated protocol version. */
  get version(): VmbusVersion {
    return this.#connected().version;
  }

  /** The negotiated Copper feature flags (0 before 6.0). */
  get features(): number {
    return this.#connected().features;
  }

  /** The connection id control messages are posted on. */
  get messageConnectionId(): number {
    return this.#connected().messageConnectionId;
  }

  /** Live (not rescinded) offers, lowest channel id first. */
  offers(): readonly GuestOffer[] {
    return this.#offers.list();
  }

  /** The first live offer that matches, now or when it arrives; rejects (STATUS_CANCELLED) on abort or unload. */
  waitForOffer(match: OfferMatch, signal?: AbortSignal): Promise<GuestOffer> {
    return this.#offers.waitFor(match, signal);
  }

  /** Calls `handler` for each offer that arrives from now on. Returns the unsubscribe function. */
  onOffer(handler: (offer: GuestOffer) => void): () => void {
    return this.#offers.onOffer(handler);
  }

  /** Calls `handler` once if the host rescinds `channelId`. Returns the unsubscribe function. */
  onRescind(channelId: number, handler: () => void): () => void {
    return this.#offers.onRescind(channelId, handler);
  }

  /** GPADL_HEADER/BODY for `ranges`; resolves with the guest's GPADL id on GPADL_CREATED(0). */
  async createGpadl(channelId: number, ranges: readonly GpaRange[]): Promise<number> {
    const gpadlId = this.#client.createGpadl(channelId, ranges);
    if (typeof gpadlId !== 'number') throw refusalError(gpadlId);
    return this.#requests.expectGpadlCreated(gpadlId);
  }

  /** GPADL_TEARDOWN; resolves on GPADL_TORNDOWN (after the host's last unmap). */
  async teardownGpadl(channelId: number, gpadlId: number): Promise<void> {
    const refusal = this.#client.teardownGpadl(channelId, gpadlId);
    if (refusal !== undefined) throw refusalError(refusal);
    return this.#requests.expectGpadlTorndown(gpadlId);
  }

  /**
   * Allocates the ring pages, describes them in a ring GPADL, sends
   * OPEN_CHANNEL and resolves with the open channel on OPEN_RESULT(0). On any
   * failure everything is given back (GPADL torn down, pages freed) before the
   * BusError rejects. Drain the incoming ring once after it resolves: the host
   * may have written (and signalled) before OPEN_RESULT.
   */
  async openChannel(channelId: number, options: GuestOpenOptions): Promise<GuestOpenChannel> {
    const view = this.#client.channel(channelId);
    if (view === undefined) throw new BusError(NTSTATUS.STATUS_NOT_FOUND, `no channel has id ${channelId}`);
    if (view.rescinded) throw new BusError(NTSTATUS.STATUS_DEVICE_REMOVED, `channel ${channelId} was rescinded`);
    const { offer } = view;
    const { outgoingRingPages: outgoing, incomingRingPages: incoming } = options;
    if (!isPageCount(outgoing) || !isPageCount(incoming)) {
      throw new BusError(NTSTATUS.STATUS_INVALID_PARAMETER, `each ring needs at least 2 pages, got ${outgoing} and ${incoming}`);
    }
    const pfns = this.#allocator.allocate(outgoing + incoming, options.placement);
    if (pfns instanceof MemoryError) throw memoryFailure(pfns);
    const pages = new RingPages(this.#allocator, pfns);
    const { reader, writer } = buildGuestRings(this.#memory, pfns, outgoing);
    let gpadlId: number;
    try {
      gpadlId = await this.createGpadl(channelId, [{ byteOffset: 0, byteCount: pfns.length * PAGE_SIZE, pfns }]);
    } catch (error) {
      pages.free();
      throw error;
    }
    const targetVp = options.targetVp ?? this.#vp;
    const ring: GuestRing = { gpadlId, pages, targetVp };
    const endpoint = new RingEndpoint(channelId, reader, writer, this.#hostSignal(offer), (error) =>
      this.#emit('signal-handler-failed', { channelId }, problemText(error)),
    );
    // Routed before OPEN_CHANNEL: a host device may signal as soon as it accepts.
    this.#router.route(targetVp, channelId, endpoint);
    const openId = this.#client.openChannel(channelId, {
      ringGpadlId: gpadlId,
      downstreamRingPageOffset: outgoing,
      targetVp,
      ...(options.userData === undefined ? {} : { userData: options.userData }),
    });
    try {
      if (typeof openId !== 'number') throw refusalError(openId);
      await this.#requests.expectOpenResult(channelId, openId);
    } catch (error) {
      endpoint.close();
      this.#router.unroute(targetVp, channelId, endpoint);
      await this.#releaseRing(channelId, ring);
      throw error;
    }
    const channel = new GuestChannel(endpoint, ring, (closing) => this.#close(closing));
    this.#channels.set(channelId, channel);
    this.#emit('channel-opened', { channelId, gpadlId, pages: pfns.length, monitorId: offer.monitorId });
    return channel;
  }

  /** REL_ID_RELEASED for a rescinded, closed channel: the host may reuse its id. Throws a BusError if refused. */
  releaseId(channelId: number): void {
    const refusal = this.#client.releaseId(channelId);
    if (refusal !== undefined) throw refusalError(refusal);
  }

  /**
   * UNLOAD; resolves on UNLOAD_COMPLETE (at once before Win7, which has none),
   * after the host closed every channel and let go of every GPADL. Then every
   * ring page is freed and the bus stops listening. A second call returns the same promise.
   */
  unload(): Promise<void> {
    if (this.#unloading !== null) return this.#unloading;
    const unloaded = this.#requests.expectUnload();
    const refusal = this.#client.unload();
    if (refusal !== undefined) {
      this.#requests.abandonUnload();
      return Promise.reject(refusalError(refusal));
    }
    this.#unloading = unloaded;
    return unloaded;
  }

  /** The client's broken invariants; empty when sound. */
  checkInvariants(): string[] {
    return this.#client.checkInvariants();
  }

  /** The client's records (channels, GPADLs, requests waiting). */
  clientCounts(): ClientCounts {
    return this.#client.counts();
  }

  /** What the bus still holds (channels, pages, routes, requests, backlog); all zero after `unload`. */
  resources(): GuestBusResources {
    let pages = this.#monitorPages === null || this.#monitorPages.freed ? 0 : this.#monitorPages.pfns.length;
    for (const channel of this.#channels.values()) if (!channel.ring.pages.freed) pages += channel.ring.pages.pfns.length;
    return {
      openChannels: this.#channels.size,
      pages,
      routedFlags: this.#router.size,
      pendingRequests: this.#requests.pendingCount,
      backlog: this.#poster.backlog,
    };
  }

  async #negotiate(options: GuestBusOptions): Promise<void> {
    let monitorPages: MonitorPageGpas | null = null;
    if (options.monitorPages !== false) {
      const pfns = this.#allocator.allocate(2);
      if (pfns instanceof MemoryError) throw memoryFailure(pfns);
      this.#monitorPages = new RingPages(this.#allocator, pfns);
      // [0] parent→child, [1] child→parent (linux-vmbus.md §A.3.1 "Monitor pages").
      monitorPages = { parentToChild: BigInt(pfns[0]! * PAGE_SIZE), childToParent: BigInt(pfns[1]! * PAGE_SIZE) };
    }
    const maxVersion = options.maxVersion;
    const connected = this.#requests.expectConnect();
    const refusal = this.#client.connect({
      targetMessageVp: this.#vp,
      monitorPages,
      ...(maxVersion === undefined ? {} : { versions: VMBUS_VERSIONS.filter((v) => v <= maxVersion) }),
      ...(options.minVersion === undefined ? {} : { minVersion: options.minVersion }),
      ...(options.featureFlags === undefined ? {} : { featureFlags: options.featureFlags }),
    });
    if (refusal !== undefined) throw refusalError(refusal);
    this.#session = await connected;
    const delivered = this.#requests.expectOffersDelivered();
    const offersRefused = this.#client.requestOffers();
    if (offersRefused !== undefined) throw refusalError(offersRefused);
    await delivered;
  }

  /** Guest→host signalling of a channel: its monitor bit when the host gave it a monitor id, else HvSignalEvent. */
  #hostSignal(offer: GuestOffer): PeerSignal {
    const partition = this.#partition;
    const { monitorId, connectionId } = offer;
    // Every offer is dedicated (OpenVMM always sends is_dedicated = 1), so the offer's connection id is used at every version.
    if (monitorId !== null) return () => partition.monitor.trigger(monitorId);
    return () => partition.signalEvent(connectionId, 0) === HV_STATUS.SUCCESS;
  }

  async #close(channel: GuestChannel): Promise<void> {
    const { channelId } = channel;
    channel.endpoint.close();
    this.#router.unroute(channel.ring.targetVp, channelId, channel.endpoint);
    const refusal = this.#client.closeChannel(channelId);
    if (refusal !== undefined) this.#emit('close-not-sent', { channelId }, refusal.message);
    try {
      await this.#releaseRing(channelId, channel.ring);
    } finally {
      this.#channels.delete(channelId);
    }
    this.#emit('channel-closed', { channelId });
  }

  /**
   * Tears the ring GPADL down and frees its pages once the host let go. While
   * the connection unloads, the GPADL goes with the unload instead.
   */
  async #releaseRing(channelId: number, ring: GuestRing): Promise<void> {
    const gpadl = this.#client.gpadl(ring.gpadlId);
    if (gpadl !== undefined) {
      const gone = this.#requests.expectGpadlTorndown(ring.gpadlId);
      const refusal = gpadl.state === 'created' ? this.#client.teardownGpadl(channelId, ring.gpadlId) : undefined;
      if (refusal !== undefined && this.#client.phase !== 'unloading') {
        // The host may still map the pages: keeping them is the only safe choice.
        throw new BusError(NTSTATUS.STATUS_INVALID_DEVICE_STATE, `ring GPADL ${ring.gpadlId}: ${refusal.message}`);
      }
      await gone;
    }
    ring.pages.free();
  }

  #receive(message: HvMessage): void {
    if (message.messageType !== VMBUS_MESSAGE_TYPE) {
      this.#emit('message-dropped', { messageType: message.messageType }, 'not a VMBus message');
      return;
    }
    if (this.#tracing) this.#emit('message-received', messageDetail(message.payload));
    this.#client.receive(message.payload);
  }

  #send(bytes: Uint8Array, connectionId: number): void {
    if (this.#tracing) this.#emit('message-sent', { connectionId, ...messageDetail(bytes) });
    this.#poster.post(connectionId, bytes);
  }

  #onEvent(event: ClientEvent): void {
    switch (event.kind) {
      case 'offer':
        this.#offers.added(event.offer);
        break;
      case 'rescinded':
        this.#channels.get(event.channelId)?.markRescinded();
        this.#offers.rescinded(event.channelId);
        break;
      case 'unloaded':
        this.#afterUnload();
        break;
      default:
        break;
    }
    if (this.#tracing) this.#emit('client-event', eventDetail(event));
    this.#requests.settle(event);
  }

  /** UNLOAD_COMPLETE: the host holds nothing of ours any more, so every page goes back. */
  #afterUnload(): void {
    for (const channel of this.#channels.values()) {
      channel.endpoint.close();
      channel.ring.pages.free();
    }
    this.#channels.clear();
    this.#offers.clear();
    this.#shutdown();
  }

  /** Stops listening and frees the monitor pages. */
  #shutdown(): void {
    for (const stop of this.#stopMessages) stop();
    this.#router.close();
    this.#poster.close();
    this.#monitorPages?.free();
  }

  #connected(): Connected {
    if (this.#session === null) throw new BusError(NTSTATUS.STATUS_INVALID_DEVICE_STATE, 'the bus is not connected');
    return this.#session;
  }

  #emit(kind: string, detail: Readonly<Record<string, string | number | boolean | null>>, reason?: string): void {
    if (!this.#tracing) return;
    this.#trace.emit({ layer: 'bus', source: 'guest-bus', kind, detail, ...(reason === undefined ? {} : { reason }) });
  }
}

function isPageCount(pages: number): boolean {
  return Number.isSafeInteger(pages) && pages >= 2;
}

/** The scalar fields of a client event, for a trace. */
function eventDetail(event: ClientEvent): Record<string, string | number | boolean | null> {
  const detail: Record<string, string | number | boolean | null> = {};
  for (const [key, value] of Object.entries(event)) {
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') detail[key] = value;
  }
  if (event.kind === 'offer') detail['channelId'] = event.offer.channelId;
  return detail;
}
