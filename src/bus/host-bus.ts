/**
 * The host side of the bus: a thin async driver over the sans-IO
 * `VmbusServer`. It feeds the server the VMBus messages (type 1) the guest
 * posts to the host's message ports on the bus SINT, posts the server's
 * messages to the guest's SINT 2, and carries out the server's actions: it
 * maps ring GPADLs and makes each open channel's ports (`HostChannel`), asks
 * the device to open and close, and answers the server when the device has.
 *
 * Servicing (the host side replaced while the guest runs): `save` gives the
 * whole host side as bytes, `close({ servicing: true })` stops the bus but
 * leaves the hypervisor objects the guest uses, `HostBus.restore` builds the
 * new bus, devices offer again and take their open channels back through
 * their `restore` handler, and `completeRestore` rescinds what nobody took,
 * signals the guest where a signal may have been lost, and starts listening.
 */
import type { HvMessage, Partition } from '../hv/index.js';
import type { GpadlMapping, MemoryError } from '../memory/index.js';
import { NULL_TRACE, type TraceSink } from '../trace/index.js';
import {
  VMBUS_MESSAGE_CONNECTION_ID,
  VMBUS_MESSAGE_CONNECTION_ID_MULTICLIENT,
  VMBUS_MESSAGE_TYPE,
  VMBUS_SINT,
} from '../wire/messages/index.js';
import { NTSTATUS, ntSuccess, type NtStatus } from '../wire/ntstatus.js';
import {
  SavedStateError,
  VmbusServer,
  type MessageTarget,
  type OfferId,
  type OfferKey,
  type OpenChannelAction,
  type ServerAction,
  type ServerNotifier,
} from './server/index.js';
import { BusError } from './bus-error.js';
import { deferred } from './deferred.js';
import { EventFlagRouter } from './event-flag-router.js';
import { GuestPorts } from './guest-ports.js';
import { HostChannel, type HostChannelContext } from './host-channel.js';
import { HostMessagePorts } from './host-message-ports.js';
import { HostRestore, hostSetupProblem, type SavedOfferState } from './host-restore.js';
import { asNtStatus, openRequest, type OfferRecord } from './host-offer.js';
import { decodeHostBusSavedState, type HostBusSavedState } from './host-saved-state.js';
import { reclaimRestoredOffer, saveHostSide, type ServicingContext } from './host-servicing.js';
import {
  DEFAULT_MONITOR_LATENCY,
  type HostBusOptions,
  type HostBusResources,
  type HostChannelHandlers,
  type HostOffer,
  type HostOfferOptions,
} from './host-types.js';
import { hostMessagePortId } from './hv-ids.js';
import { EVENT_LOOP_RETRY, MessagePoster } from './message-poster.js';
import { messageDetail, problemText } from './trace-detail.js';

/** The host side of one guest's VMBus: offers, and the channels the guest opens on them. */
export class HostBus {
  readonly #server: VmbusServer;
  readonly #host: Partition;
  readonly #guest: Partition;
  readonly #trace: TraceSink;
  /** False under NULL_TRACE: the hot paths then build no trace details. */
  readonly #tracing: boolean;
  readonly #poster: MessagePoster;
  readonly #guestPorts: GuestPorts;
  readonly #router: EventFlagRouter;
  readonly #context: HostChannelContext;
  readonly #messagePorts: HostMessagePorts;
  readonly #servicing: ServicingContext;
  readonly #offers = new Map<OfferId, OfferRecord>();
  /** Offers rescinded and not yet released by the guest. */
  readonly #rescinding = new Set<OfferRecord>();
  /** Channels whose device is closing: their ring and ports go when it is done. */
  readonly #closing = new Set<HostChannel>();
  #stopMessages: (() => void) | null = null;
  /** Set from `HostBus.restore` until `completeRestore`. */
  #restore: HostRestore | null = null;
  /** After `close`, late device answers and server output go nowhere. */
  #closed = false;

  private constructor(options: HostBusOptions, server: VmbusServer, restore: HostBusSavedState | null) {
    const { hostVp, hostSint } = setupOf(options);
    this.#server = server;
    this.#host = options.host;
    this.#guest = options.guest;
    this.#trace = options.trace ?? NULL_TRACE;
    this.#tracing = this.#trace !== NULL_TRACE;
    this.#poster = new MessagePoster(options.host, options.scheduler ?? EVENT_LOOP_RETRY, (failure) =>
      this.#emit('message-post-failed', { connectionId: failure.connectionId, ...messageDetail(failure.bytes) }, failure.reason),
    );
    this.#guestPorts = new GuestPorts(options.host, options.guest, hostSint);
    this.#router = new EventFlagRouter(options.host, hostSint, (vp, flag) =>
      this.#emit('signal-dropped', { vp, flag }, `no open channel has event flag ${flag}`),
    );
    this.#context = {
      host: options.host,
      guest: options.guest,
      hostVp,
      hostSint,
      server,
      router: this.#router,
      guestPorts: this.#guestPorts,
      onHandlerError: (error) => this.#emit('signal-handler-failed', {}, problemText(error)),
    };
    this.#messagePorts = new HostMessagePorts(options.host, options.guest);
    this.#servicing = { server, channels: this.#context, emit: (kind, detail, reason) => this.#emit(kind, detail, reason) };
    const adopt = restore !== null;
    try {
      messageConnectionIds(options).forEach((connectionId, index) =>
        this.#messagePorts.open(connectionId, hostMessagePortId(hostSint, index), hostVp, hostSint, adopt),
      );
      const problem = restore === null ? undefined : this.#guestPorts.adopt(restore.guestMessagePorts, restore.guestEventPorts);
      if (problem !== undefined) throw new BusError(NTSTATUS.STATUS_INVALID_DEVICE_STATE, problem);
    } catch (error) {
      this.#guestPorts.close();
      this.#messagePorts.close();
      throw error;
    }
    if (restore === null) {
      this.#listen();
      return;
    }
    this.#restore = new HostRestore(restore);
    // What the old bus had not yet posted goes first, before anything the new server decides.
    for (const message of restore.backlog) this.#poster.post(message.connectionId, message.bytes);
  }

  /**
   * A host bus serving `options.guest`. Throws a BusError when the message
   * ports cannot be made (another bus owns the SINT or the connection ids).
   */
  static create(options: HostBusOptions): HostBus {
    let bus: HostBus | null = null;
    const server = new VmbusServer(serverOptions(options, HostBus.#relay(() => bus)));
    bus = new HostBus(options, server, null);
    return bus;
  }

  /**
   * A host bus that goes on from `saved` (bytes from `save`), restoring: the
   * guest sees nothing change. Offer the channels again (an offer with the key
   * of a saved channel takes it over; an open one goes to the device's
   * `restore` handler), then call `completeRestore`. Returns a
   * SavedStateError, and makes nothing, when the bytes are corrupt,
   * inconsistent or from a bus set up differently; throws a BusError when
   * the hypervisor objects cannot be had.
   */
  static restore(options: HostBusOptions, saved: Uint8Array): HostBus | SavedStateError {
    const state = decodeHostBusSavedState(saved);
    if (state instanceof SavedStateError) return state;
    const problem = hostSetupProblem(state, { ...setupOf(options), messageConnectionIds: messageConnectionIds(options), guest: options.guest });
    if (problem !== undefined) return problem;
    let bus: HostBus | null = null;
    const server = VmbusServer.restore(serverOptions(options, HostBus.#relay(() => bus)), state.server);
    if (server instanceof SavedStateError) return server;
    bus = new HostBus(options, server, state);
    return bus;
  }

  /** The server's notifier: it is made before the bus, and reaches the bus once there is one. */
  static #relay(bus: () => HostBus | null): ServerNotifier {
    return {
      sendMessage: (bytes, target) => {
        const to = bus();
        if (to !== null) to.#send(bytes, target);
      },
      action: (action) => {
        const to = bus();
        if (to !== null) to.#act(action);
      },
    };
  }

  /** Offers a channel; the guest sees it at REQUEST_OFFERS, or at once if it already asked. */
  offerChannel(offer: HostOfferOptions, handlers: HostChannelHandlers): HostOffer {
    const { monitoredNotification, monitorLatency, ...params } = offer;
    const latency = monitorLatency ?? DEFAULT_MONITOR_LATENCY;
    if (!Number.isInteger(latency) || latency < 0 || latency > 0xffff) {
      throw new BusError(NTSTATUS.STATUS_INVALID_PARAMETER, `monitor latency must be 0..65535 (100 ns units), got ${latency}`);
    }
    const offerId = this.#server.offerChannel({ ...params, monitored: monitoredNotification === true });
    if (typeof offerId !== 'number') {
      const status = offerId.code === 'too-many-channels' ? NTSTATUS.STATUS_INSUFFICIENT_RESOURCES : NTSTATUS.STATUS_INVALID_PARAMETER;
      throw new BusError(status, offerId.message);
    }
    const key: OfferKey = { interfaceId: params.interfaceId, instanceId: params.instanceId, subchannelIndex: params.subchannelIndex ?? 0 };
    const record: OfferRecord = { offerId, key, handlers, monitorLatency: latency, channel: null, opened: false, rescinded: null };
    this.#offers.set(offerId, record);
    if (this.#restore !== null) reclaimRestoredOffer(this.#servicing, this.#restore, record);
    const server = this.#server;
    return {
      offerId,
      get channelId() {
        return server.offerStatus(offerId)?.channelId ?? null;
      },
      get endpoint() {
        return record.opened ? (record.channel?.endpoint ?? null) : null;
      },
      rescind: () => this.#rescind(record),
    };
  }

  /** Maps a GPADL the guest created on `channelId`, for the device's own use. */
  mapGpadl(channelId: number, gpadlId: number, options: { readonly writable: boolean }): GpadlMapping | MemoryError {
    return this.#server.mapGpadl(gpadlId, { writable: options.writable, channelId });
  }

  /** Releases a mapping; the last one of a GPADL the guest tears down sends GPADL_TORNDOWN. Throws on a double unmap. */
  unmapGpadl(mapping: GpadlMapping): void {
    const result = this.#server.unmapGpadl(mapping);
    if (!('tornDown' in result)) throw result;
  }

  /**
   * The whole host side as versioned bytes, for `HostBus.restore`: the
   * server's state, the ports and connections made, the channels whose rings
   * are mapped with each device's `save` bytes, and messages not yet posted.
   * Throws a BusError while restoring or closed, or when a device's `save` fails.
   */
  save(): Uint8Array {
    if (this.#closed || this.#restore !== null) {
      throw new BusError(NTSTATUS.STATUS_INVALID_DEVICE_STATE, `a ${this.#closed ? 'closed' : 'restoring'} bus cannot be saved`);
    }
    return saveHostSide({
      server: this.#server,
      offers: this.#offers.values(),
      hostVp: this.#context.hostVp,
      hostSint: this.#context.hostSint,
      messageConnectionIds: this.#messagePorts.connectionIds(),
      guestPorts: this.#guestPorts,
      backlog: this.#poster.queued(),
    });
  }

  /** While restoring: what the saved state holds for an offer key (the server's channel and the device's bytes). */
  savedOffer(key: OfferKey): SavedOfferState | undefined {
    return this.#restore?.savedOffer(key);
  }

  /**
   * Ends the restore: saved channels nobody took back are rescinded (an
   * offered one is offered again after the guest releases it), offers made
   * meanwhile are sent, the guest is signalled on restored channels whose
   * rings say it waits, and the bus starts reading the guest's messages.
   */
  completeRestore(): void {
    const restore = this.#restore;
    if (restore === null || this.#closed) throw new BusError(NTSTATUS.STATUS_INVALID_DEVICE_STATE, 'the bus is not restoring');
    this.#restore = null;
    restore.releaseLeftovers(this.#host, this.#guest, this.#context.hostSint);
    this.#server.finishRestore();
    for (const channelId of restore.unstick()) this.#emit('channel-unstuck', { channelId }, 'the ring state says the guest waits for a signal');
    this.#listen();
    this.#settleRescinds();
  }

  /** True from `HostBus.restore` until `completeRestore`. */
  get restoring(): boolean {
    return this.#restore !== null;
  }

  /** The negotiated version, or null while no guest is connected. */
  get version(): number | null {
    return this.#server.connection?.version ?? null;
  }

  /** The server's broken invariants; empty when sound. */
  checkInvariants(): string[] {
    return this.#server.checkInvariants();
  }

  /** The server's counts (channel ids, GPADLs, mappings) for leak checks. */
  snapshot(): ReturnType<VmbusServer['snapshot']> {
    return this.#server.snapshot();
  }

  /** What the bus holds (offers, attached channels, routes, ports, backlog), for leak checks. */
  resources(): HostBusResources {
    let channels = 0;
    for (const record of this.#offers.values()) if (record.channel !== null) channels++;
    return {
      offers: this.#offers.size,
      channels,
      routedFlags: this.#router.size,
      guestPorts: this.#guestPorts.size,
      messagePorts: this.#messagePorts.size,
      backlog: this.#poster.backlog,
    };
  }

  /**
   * Stops the bus without telling the guest or the devices anything. Every
   * port and connection it made is removed, unless `servicing`: then the
   * hypervisor objects the guest uses (message and event ports, connections,
   * monitor ids) stay, so nothing the guest posts or signals meanwhile is
   * lost, for the bus `HostBus.restore` makes from `save`.
   */
  close(options: { readonly servicing?: boolean } = {}): void {
    const servicing = options.servicing === true;
    this.#closed = true;
    this.#stopMessages?.();
    this.#stopMessages = null;
    this.#poster.close();
    for (const record of this.#offers.values()) {
      const state = this.#server.offerStatus(record.offerId)?.state;
      // Only what a save carries is kept for the successor; a channel the guest let go of goes entirely.
      record.channel?.detach(servicing && (state === 'open' || state === 'opening'));
      record.channel = null;
    }
    // Devices still closing will not be waited for: the guest is done with these channels.
    for (const channel of this.#closing) channel.detach();
    this.#closing.clear();
    this.#router.close();
    if (servicing) return;
    this.#restore?.releaseLeftovers(this.#host, this.#guest, this.#context.hostSint);
    this.#guestPorts.close();
    this.#messagePorts.close();
  }

  #listen(): void {
    this.#stopMessages = this.#host.onMessage(this.#context.hostVp, this.#context.hostSint, (message) => this.#receive(message));
  }

  #receive(message: HvMessage): void {
    const connectionId = this.#messagePorts.connectionOf(message.portId);
    if (message.messageType !== VMBUS_MESSAGE_TYPE || connectionId === undefined) {
      this.#emit('message-dropped', { messageType: message.messageType, portId: message.portId }, 'not a VMBus message on a message port');
      return;
    }
    if (this.#tracing) this.#emit('message-received', { connectionId, ...messageDetail(message.payload) });
    this.#server.receiveMessage(message.payload, connectionId);
    this.#settleRescinds();
  }

  #send(bytes: Uint8Array, target: MessageTarget): void {
    if (this.#closed) return;
    const connectionId = this.#guestPorts.messageConnection(target.vp, target.sint);
    if (typeof connectionId === 'string') {
      this.#emit('message-post-failed', { vp: target.vp, sint: target.sint, ...messageDetail(bytes) }, connectionId);
      return;
    }
    if (this.#tracing) this.#emit('message-sent', { vp: target.vp, sint: target.sint, ...messageDetail(bytes) });
    this.#poster.post(connectionId, bytes);
  }

  #act(action: ServerAction): void {
    if (this.#closed) return;
    switch (action.type) {
      case 'open':
        return this.#open(action);
      case 'close': {
        const record = this.#offers.get(action.offerId);
        if (record !== undefined && record.channel !== null) this.#closeDevice(record, record.channel);
        return;
      }
      case 'modify': {
        const channel = this.#offers.get(action.offerId)?.channel;
        if (channel?.retarget(action.targetVp) === false) {
          this.#emit('modify-failed', { channelId: action.channelId, targetVp: action.targetVp }, 'the guest VP cannot be signalled');
        }
        return;
      }
      case 'gpadl-created': {
        const handlers = this.#offers.get(action.offerId)?.handlers;
        return this.#callDevice(() => handlers?.gpadlCreated?.(action.channelId, action.gpadlId), ignore, ignore);
      }
      case 'gpadl-teardown': {
        const handlers = this.#offers.get(action.offerId)?.handlers;
        return this.#callDevice(() => handlers?.gpadlTeardown?.(action.channelId, action.gpadlId), ignore, ignore);
      }
      case 'hvsock-connect':
        // No hvsocket listener lives on this bus: refused, as a host without the service refuses.
        this.#server.refuseHvsockConnect(action.request);
        return this.#emit('hvsock-refused', { serviceId: action.request.serviceId }, 'no hvsocket listener');
      case 'connected':
        return this.#emit('connected', { version: action.connection.version, features: action.connection.features });
      case 'disconnected':
        this.#emit('disconnected', {});
        return this.#settleRescinds();
      case 'monitor-pages-changed':
        return this.#emit('monitor-pages-changed', { monitorPages: action.monitorPages !== null });
      case 'contact-for-other-vtl':
        return this.#emit('contact-dropped', { vtl: action.request.targetVtl }, 'no server for that VTL');
    }
  }

  #open(action: OpenChannelAction): void {
    const record = this.#offers.get(action.offerId);
    // A channel saved while its device was opening it: its ports may be the old bus's.
    const adopt = this.#restore?.kept(action.channelId) !== undefined;
    const attached = record === undefined ? 'the offer has no device' : HostChannel.attach(this.#context, action, record.monitorLatency, adopt);
    if (typeof attached === 'string' || record === undefined) {
      this.#emit('channel-open-failed', { channelId: action.channelId }, String(attached));
      this.#server.openComplete(action.offerId, NTSTATUS.VMBUS_STATUS_UNSUCCESSFUL);
      return;
    }
    this.#restore?.taken(action.channelId);
    record.channel = attached;
    this.#callDevice(
      () => record.handlers.open(openRequest(action, attached)),
      (status) => this.#opened(record, attached, status),
      () => this.#opened(record, attached, NTSTATUS.STATUS_UNSUCCESSFUL),
    );
  }

  /** The device answered an open. */
  #opened(record: OfferRecord, channel: HostChannel, answer: unknown): void {
    if (this.#closed) return;
    const channelId = channel.action.channelId;
    const status: NtStatus = asNtStatus(answer) ?? NTSTATUS.VMBUS_STATUS_UNSUCCESSFUL;
    if (asNtStatus(answer) === null) this.#emit('device-handler-failed', { channelId }, `open answered ${String(answer)}, not an NTSTATUS`);
    if (!ntSuccess(status)) {
      if (record.channel === channel) record.channel = null;
      channel.detach();
      this.#server.openComplete(record.offerId, status);
      this.#settleRescinds();
      this.#emit('channel-open-refused', { channelId, status });
      return;
    }
    // A guest that let go meanwhile gets a nested `close` action from this call.
    const refusal = this.#server.openComplete(record.offerId, status);
    this.#settleRescinds();
    if (record.channel !== channel) return;
    if (refusal !== undefined) {
      // Rescinded while the device opened: the server no longer has an open to answer, so the device closes.
      this.#closeDevice(record, channel);
      return;
    }
    record.opened = true;
    this.#emit('channel-opened', { channelId, ringGpadlId: channel.action.ringGpadlId, monitorId: channel.action.monitorId });
  }

  /** Stops the endpoint, lets the device close, then releases the ring and ports. */
  #closeDevice(record: OfferRecord, channel: HostChannel): void {
    record.channel = null;
    record.opened = false;
    channel.endpoint.close();
    this.#closing.add(channel);
    const channelId = channel.action.channelId;
    const release = (): void => {
      this.#closing.delete(channel);
      channel.detach();
      this.#emit('channel-closed', { channelId });
    };
    this.#callDevice(() => record.handlers.close(channelId), release, release);
  }

  #rescind(record: OfferRecord): Promise<void> {
    if (record.rescinded !== null) return record.rescinded.promise;
    const refusal = this.#server.rescindChannel(record.offerId);
    if (refusal !== undefined) return Promise.reject(new BusError(NTSTATUS.STATUS_INVALID_DEVICE_STATE, refusal.message));
    record.rescinded = deferred();
    this.#rescinding.add(record);
    const { promise } = record.rescinded;
    // The server leaves an open channel to us (a local rescind has no `close` action); an opening one closes in #opened.
    if (record.opened && record.channel !== null) this.#closeDevice(record, record.channel);
    this.#settleRescinds();
    return promise;
  }

  /**
   * Rescinds the guest is done with: the server forgot the offer, or, when the
   * device offered the same key again meanwhile (the server keeps the offer id
   * for the new offer), the guest released the old channel and the new offer
   * went out.
   */
  #settleRescinds(): void {
    for (const record of this.#rescinding) {
      const state = this.#server.offerStatus(record.offerId)?.state;
      const replaced = this.#offers.get(record.offerId) !== record;
      if (state !== undefined && !(replaced && state !== 'revoked' && state !== 'reoffered')) continue;
      this.#rescinding.delete(record);
      if (!replaced) this.#offers.delete(record.offerId);
      record.rescinded?.resolve();
    }
  }

  /** Runs a device handler; `done` gets its (awaited) result, `failed` runs after a throw or rejection, which is traced. */
  #callDevice<T>(call: () => T | Promise<T>, done: (result: T) => void, failed: () => void): void {
    const onError = (error: unknown): void => {
      this.#emit('device-handler-failed', {}, problemText(error));
      failed();
    };
    let result: T | Promise<T>;
    try {
      result = call();
    } catch (error) {
      onError(error);
      return;
    }
    if (result instanceof Promise) result.then(done, onError);
    else done(result);
  }

  #emit(kind: string, detail: Readonly<Record<string, string | number | boolean | null>>, reason?: string): void {
    if (!this.#tracing) return;
    this.#trace.emit({ layer: 'bus', source: 'host-bus', kind, detail, ...(reason === undefined ? {} : { reason }) });
  }
}

function setupOf(options: Pick<HostBusOptions, 'hostVp' | 'hostSint'>): { hostVp: number; hostSint: number } {
  return { hostVp: options.hostVp ?? 0, hostSint: options.hostSint ?? VMBUS_SINT };
}

/** The guest's message connection ids: 1, the multiclient 4, and the server's own. */
function messageConnectionIds(options: HostBusOptions): number[] {
  const own = options.messageConnectionId ?? VMBUS_MESSAGE_CONNECTION_ID;
  return [...new Set([VMBUS_MESSAGE_CONNECTION_ID, VMBUS_MESSAGE_CONNECTION_ID_MULTICLIENT, own])];
}

function serverOptions(options: HostBusOptions, notifier: ServerNotifier): ConstructorParameters<typeof VmbusServer>[0] {
  return {
    memory: options.guestMemory,
    notifier,
    ...(options.trace === undefined ? {} : { trace: options.trace }),
    ...(options.maxVersion === undefined ? {} : { maxVersion: options.maxVersion }),
    ...(options.features === undefined ? {} : { features: options.features }),
    ...(options.messageConnectionId === undefined ? {} : { messageConnectionId: options.messageConnectionId }),
  };
}

/** For device notifications that answer nothing. */
function ignore(): void {}
