/**
 * The host side of the bus: a thin async driver over the sans-IO
 * `VmbusServer`. It feeds the server the VMBus messages (type 1) the guest
 * posts to the host's message ports on the bus SINT, posts the server's
 * messages to the guest's SINT 2, and carries out the server's actions: it
 * maps ring GPADLs and makes each open channel's ports (`HostChannel`), asks
 * the device to open and close, and answers the server when the device has.
 */
import { HV_STATUS, hvStatusName, type HvMessage, type Partition } from '../hv/index.js';
import type { GpadlMapping, MemoryError } from '../memory/index.js';
import { NULL_TRACE, type TraceSink } from '../trace/index.js';
import {
  VMBUS_MESSAGE_CONNECTION_ID,
  VMBUS_MESSAGE_CONNECTION_ID_MULTICLIENT,
  VMBUS_MESSAGE_TYPE,
  VMBUS_SINT,
} from '../wire/messages/index.js';
import { NTSTATUS, ntSuccess, type NtStatus } from '../wire/ntstatus.js';
import { VmbusServer, type MessageTarget, type OfferId, type OpenChannelAction, type ServerAction } from './server/index.js';
import { BusError } from './bus-error.js';
import { deferred, type Deferred } from './deferred.js';
import { EventFlagRouter } from './event-flag-router.js';
import { GuestPorts } from './guest-ports.js';
import { HostChannel, type HostChannelContext } from './host-channel.js';
import {
  DEFAULT_MONITOR_LATENCY,
  type HostBusOptions,
  type HostBusResources,
  type HostChannelHandlers,
  type HostOffer,
  type HostOfferOptions,
  type HostOpenRequest,
} from './host-types.js';
import { hostMessagePortId } from './hv-ids.js';
import { EVENT_LOOP_RETRY, MessagePoster } from './message-poster.js';
import { messageDetail, problemText } from './trace-detail.js';

interface OfferRecord {
  readonly offerId: OfferId;
  readonly handlers: HostChannelHandlers;
  readonly monitorLatency: number;
  /** Attached from the `open` action until the device's close is done (or the open failed). */
  channel: HostChannel | null;
  /** The device accepted the open and the server took the answer. */
  opened: boolean;
  rescinded: Deferred<void> | null;
}

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
  readonly #offers = new Map<OfferId, OfferRecord>();
  /** Offers rescinded and not yet released by the guest. */
  readonly #rescinding = new Set<OfferRecord>();
  /** Guest message connection id by the host port it arrives through. */
  readonly #messagePorts = new Map<number, number>();
  readonly #stopMessages: () => void;

  private constructor(options: HostBusOptions) {
    const hostVp = options.hostVp ?? 0;
    const hostSint = options.hostSint ?? VMBUS_SINT;
    this.#host = options.host;
    this.#guest = options.guest;
    this.#trace = options.trace ?? NULL_TRACE;
    this.#tracing = this.#trace !== NULL_TRACE;
    this.#server = new VmbusServer({
      memory: options.guestMemory,
      notifier: { sendMessage: (bytes, target) => this.#send(bytes, target), action: (action) => this.#act(action) },
      trace: this.#trace,
      ...(options.maxVersion === undefined ? {} : { maxVersion: options.maxVersion }),
      ...(options.features === undefined ? {} : { features: options.features }),
      ...(options.messageConnectionId === undefined ? {} : { messageConnectionId: options.messageConnectionId }),
    });
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
      server: this.#server,
      router: this.#router,
      guestPorts: this.#guestPorts,
      onHandlerError: (error) => this.#emit('signal-handler-failed', {}, problemText(error)),
    };
    const connectionIds = new Set([
      VMBUS_MESSAGE_CONNECTION_ID,
      VMBUS_MESSAGE_CONNECTION_ID_MULTICLIENT,
      options.messageConnectionId ?? VMBUS_MESSAGE_CONNECTION_ID,
    ]);
    try {
      [...connectionIds].forEach((connectionId, index) =>
        this.#openMessagePort(connectionId, hostMessagePortId(hostSint, index), hostVp, hostSint),
      );
    } catch (error) {
      this.#closeMessagePorts();
      throw error;
    }
    this.#stopMessages = options.host.onMessage(hostVp, hostSint, (message) => this.#receive(message));
  }

  /**
   * A host bus serving `options.guest`. Throws a BusError when the message
   * ports cannot be made (another bus owns the SINT or the connection ids).
   */
  static create(options: HostBusOptions): HostBus {
    return new HostBus(options);
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
    const record: OfferRecord = { offerId, handlers, monitorLatency: latency, channel: null, opened: false, rescinded: null };
    this.#offers.set(offerId, record);
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

  /** Stops the bus: every port and connection it made is removed. Open channels are detached without asking their devices. */
  close(): void {
    this.#stopMessages();
    this.#poster.close();
    for (const record of this.#offers.values()) {
      record.channel?.detach();
      record.channel = null;
    }
    this.#router.close();
    this.#guestPorts.close();
    this.#closeMessagePorts();
  }

  #closeMessagePorts(): void {
    for (const [portId, connectionId] of this.#messagePorts) {
      this.#guest.disconnect(connectionId);
      this.#host.deletePort(portId);
    }
    this.#messagePorts.clear();
  }

  #openMessagePort(connectionId: number, portId: number, vp: number, sint: number): void {
    const created = this.#host.createMessagePort(portId, { vp, sint });
    if (created !== HV_STATUS.SUCCESS) throw setupError(`host message port ${portId}`, created);
    const connected = this.#guest.connect(connectionId, { partitionId: this.#host.id, portId });
    if (connected !== HV_STATUS.SUCCESS) {
      this.#host.deletePort(portId);
      throw setupError(`guest message connection ${connectionId}`, connected);
    }
    this.#messagePorts.set(portId, connectionId);
  }

  #receive(message: HvMessage): void {
    const connectionId = this.#messagePorts.get(message.portId);
    if (message.messageType !== VMBUS_MESSAGE_TYPE || connectionId === undefined) {
      this.#emit('message-dropped', { messageType: message.messageType, portId: message.portId }, 'not a VMBus message on a message port');
      return;
    }
    if (this.#tracing) this.#emit('message-received', { connectionId, ...messageDetail(message.payload) });
    this.#server.receiveMessage(message.payload, connectionId);
    this.#settleRescinds();
  }

  #send(bytes: Uint8Array, target: MessageTarget): void {
    const connectionId = this.#guestPorts.messageConnection(target.vp, target.sint);
    if (typeof connectionId === 'string') {
      this.#emit('message-post-failed', { vp: target.vp, sint: target.sint, ...messageDetail(bytes) }, connectionId);
      return;
    }
    if (this.#tracing) this.#emit('message-sent', { vp: target.vp, sint: target.sint, ...messageDetail(bytes) });
    this.#poster.post(connectionId, bytes);
  }

  #act(action: ServerAction): void {
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
    const attached = record === undefined ? 'the offer has no device' : HostChannel.attach(this.#context, action, record.monitorLatency);
    if (typeof attached === 'string' || record === undefined) {
      this.#emit('channel-open-failed', { channelId: action.channelId }, String(attached));
      this.#server.openComplete(action.offerId, NTSTATUS.VMBUS_STATUS_UNSUCCESSFUL);
      return;
    }
    record.channel = attached;
    const request: HostOpenRequest = {
      offerId: action.offerId,
      channelId: action.channelId,
      endpoint: attached.endpoint,
      targetVp: action.targetVp,
      userData: action.userData.slice(),
      ringGpadlId: action.ringGpadlId,
      monitorId: action.monitorId,
      version: action.version,
      features: action.features,
    };
    this.#callDevice(
      () => record.handlers.open(request),
      (status) => this.#opened(record, attached, status),
      () => this.#opened(record, attached, NTSTATUS.STATUS_UNSUCCESSFUL),
    );
  }

  /** The device answered an open. */
  #opened(record: OfferRecord, channel: HostChannel, answer: unknown): void {
    const channelId = channel.action.channelId;
    let status = NTSTATUS.VMBUS_STATUS_UNSUCCESSFUL as NtStatus;
    if (typeof answer === 'number' && Number.isInteger(answer) && answer >= 0 && answer <= 0xffff_ffff) status = answer;
    else this.#emit('device-handler-failed', { channelId }, `open answered ${String(answer)}, not an NTSTATUS`);
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
    const channelId = channel.action.channelId;
    const release = (): void => {
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

  /** Rescinded offers the server has forgotten (the guest released them): their rescind is done. */
  #settleRescinds(): void {
    for (const record of this.#rescinding) {
      if (this.#server.offerStatus(record.offerId) !== undefined) continue;
      this.#rescinding.delete(record);
      this.#offers.delete(record.offerId);
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

/** For device notifications that answer nothing. */
function ignore(): void {}

function setupError(what: string, status: number): BusError {
  return new BusError(NTSTATUS.STATUS_INVALID_DEVICE_STATE, `${what}: ${hvStatusName(status)} (another bus owns it?)`);
}
