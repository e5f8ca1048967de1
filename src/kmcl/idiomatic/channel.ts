/**
 * A VMBus channel on the idiomatic API: one client channel object of the
 * KMCL core (VmbChannelAllocate) driven through the interface functions, so
 * both surfaces see the same states, bytes and statuses.
 *
 * Lifecycle: `open()` (VmbChannelEnable, resolved once packets flow both
 * ways), `pause()` / `resume()`, `close()` (VmbChannelDisable; the channel may
 * be opened again), `dispose()` or `await using` (close, then
 * VmbChannelCleanup). Events follow the state callbacks: 'opened', 'started',
 * 'suspend', 'closed'.
 */
import { EventEmitter } from 'node:events';
import type { Mdl } from '../../memory/index.js';
import type { Guid } from '../../wire/guid.js';
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import type { KmclChannel, ChannelCounters } from '../channel/channel.js';
import { VmbChannelAllocate } from '../channel/channel-allocate.js';
import { VmbChannelGetInterfaceInstance } from '../channel/channel-queries.js';
import { VmbChannelInitSetProcessPacketCallbacks, VmbChannelInitSetStateChangeCallbacks } from '../channel/init-setters.js';
import { VmbChannelCleanup, VmbChannelDisable, VmbChannelEnable } from '../channel/lifecycle.js';
import { VmbChannelPause, VmbChannelStart } from '../channel/pause-start.js';
import type { KmclDeviceObject } from '../device-object.js';
import { VMBUS_CHANNEL_GPADL_FLAG_READ_ONLY } from '../flags.js';
import { VmbChannelCreateGpadlFromBuffer, VmbChannelCreateGpadlFromMdl, VmbChannelCreateGpadlFromPfnList } from '../gpadl.js';
import { channelFrom } from '../handles.js';
import { KmclError } from '../kmcl-error.js';
import { VmbChannelSetTransactionQuota } from '../receive/incoming-functions.js';
import { VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT, type Out, type VMBCHANNEL, type VMBPACKETCOMPLETION } from '../types.js';
import { applyChannelOptions, maximumPacketSizeOf, type ChannelOptions } from './channel-options.js';
import { sendPacket, sendRequest, type RequestOptions, type SendOptions } from './channel-send.js';
import { ensureSuccess, statusOfFailure } from './ensure-success.js';
import { Gpadl } from './gpadl.js';
import { GuestBuffer } from './guest-buffer.js';
import { IncomingPacket } from './incoming-packet.js';
import { PacketIterator, PacketSession } from './packet-stream.js';
import { PublicationBatch } from './publication-batch.js';

/** Where a channel is: the core's lifecycle, as a driver on this API sees it. */
export type ChannelState = 'closed' | 'opening' | 'open' | 'paused' | 'closing' | 'disposed';

/** The events a channel emits, named after the state callbacks they follow. */
export interface ChannelEvents {
  /** EvtChannelOpened: open, not started yet (emitted once `onOpened` accepted). */
  opened: [];
  /** EvtChannelStarted: after an open or a resume. */
  started: [];
  /** EvtChannelSuspend: no more packets are delivered (pause or close). */
  suspend: [];
  /** EvtChannelClosed: the channel closed (locally or because the peer went away). */
  closed: [];
}

/** What a GPADL can be made from: a guest buffer, a view into guest memory, an MDL chain, or whole pages. */
export type GpadlSource = GuestBuffer | Uint8Array | Mdl | readonly number[];

export class Channel extends EventEmitter<ChannelEvents> {
  /** The VMBCHANNEL, for the interface functions: both surfaces drive the same channel. */
  readonly handle: VMBCHANNEL;
  readonly #core: KmclChannel;
  readonly #options: ChannelOptions;
  readonly #maximumPacketSize: number;
  readonly #batch: PublicationBatch;
  /** The packets of the current (or next) open. */
  #session = new PacketSession();
  /** Why the open under way failed, when a callback said so (PnP failure, `onOpened` refusal). */
  #openFailure: NtStatus | null = null;
  /** `open()` or `resume()` is under way: a channel not started yet is still opening, not paused. */
  #starting = false;

  /** Allocates and configures a channel on `device` (the VMBus device object); Vmbus.createChannel calls this. */
  constructor(device: KmclDeviceObject, options: ChannelOptions) {
    super();
    const box: Out<VMBCHANNEL | null> = { value: null };
    ensureSuccess(VmbChannelAllocate(device, false, box), 'VmbChannelAllocate');
    this.handle = box.value!;
    this.#core = channelFrom(this.handle)!;
    this.#batch = new PublicationBatch(this.#core);
    this.#options = options;
    this.#maximumPacketSize = maximumPacketSizeOf(options);
    try {
      applyChannelOptions(this.handle, options, (_channel, status) => {
        this.#openFailure = status;
      });
      const callbacks = VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT();
      callbacks.EvtChannelOpened = () => this.#opened();
      callbacks.EvtChannelStarted = () => void this.emit('started');
      callbacks.EvtChannelSuspend = () => this.#suspended();
      callbacks.EvtChannelClosed = () => this.#closed();
      ensureSuccess(VmbChannelInitSetStateChangeCallbacks(this.handle, callbacks), 'VmbChannelInitSetStateChangeCallbacks');
      ensureSuccess(
        VmbChannelInitSetProcessPacketCallbacks(this.handle, (_channel, packet, buffer, length, flags) => this.#deliver(packet, buffer, length, flags), null),
        'VmbChannelInitSetProcessPacketCallbacks',
      );
    } catch (error) {
      VmbChannelCleanup(this.handle);
      throw error;
    }
  }

  get state(): ChannelState {
    const core = this.#core;
    if (!core.live) return 'disposed';
    switch (core.lifecycle) {
      case 'disabled':
        return 'closed';
      case 'enabled':
        return 'opening';
      case 'closing':
        return 'closing';
      case 'opened':
        if (core.started) return 'open';
        return core.openedCompleted && !this.#starting ? 'paused' : 'opening';
    }
  }

  /** VmbChannelGetInterfaceInstance: the instance GUID of the offer the channel is bound to, null while it is bound to none. */
  get instanceId(): Guid | null {
    const instance: Out<Guid | null> = { value: null };
    return VmbChannelGetInterfaceInstance(this.handle, instance as Out<Guid>) === NTSTATUS.STATUS_SUCCESS ? instance.value : null;
  }

  /** Traffic counters, and what a broken or hostile peer did (dropped completions, malformed packets). */
  get counters(): Readonly<ChannelCounters> {
    return this.#core.counters;
  }

  /**
   * VmbChannelEnable, resolved once the channel runs (EvtChannelPostStarted:
   * packets flow both ways). It waits for the offer to appear. KmclError:
   * STATUS_INVALID_DEVICE_STATE unless closed; the host's refusal or the bus's
   * failure (the PnP-failure status); the status `onOpened` refused with;
   * STATUS_CANCELLED when `close()` came first; STATUS_DEVICE_REMOVED when the
   * peer went away first.
   */
  async open(): Promise<void> {
    this.#ensureState('closed', 'open');
    const session = this.#session;
    this.#openFailure = null;
    ensureSuccess(VmbChannelEnable(this.handle), 'VmbChannelEnable');
    await this.#starts();
    const core = this.#core;
    if (core.started && core.lifecycle === 'opened') return;
    this.#retire(session);
    const peerGone = core.offerRescinded || core.faultDetail !== null;
    const status = this.#openFailure ?? (peerGone ? NTSTATUS.STATUS_DEVICE_REMOVED : NTSTATUS.STATUS_CANCELLED);
    throw new KmclError(status, 'the channel did not open');
  }

  /**
   * VmbChannelPause: resolves once the channel is paused ('suspend' was
   * emitted and every delivered packet is completed, so consumers must keep
   * completing). KmclError STATUS_INVALID_DEVICE_STATE unless open.
   */
  async pause(): Promise<void> {
    this.#ensureState('open', 'pause');
    ensureSuccess(await VmbChannelPause(this.handle), 'VmbChannelPause');
  }

  /** VmbChannelStart after a pause: resolves once the channel runs again. KmclError STATUS_INVALID_DEVICE_STATE unless paused. */
  async resume(): Promise<void> {
    this.#ensureState('paused', 'resume');
    ensureSuccess(VmbChannelStart(this.handle), 'VmbChannelStart');
    await this.#starts();
    if (!this.#core.started) throw new KmclError(NTSTATUS.STATUS_DEVICE_REMOVED, 'the channel closed before it resumed');
  }

  /**
   * VmbChannelDisable: resolves once the channel is closed. Sends in progress
   * reject with STATUS_CANCELLED (a request with STATUS_DEVICE_REMOVED);
   * packets no consumer took are completed empty; `packets()` loops end. The
   * channel may be opened again. Does nothing on a closed or disposed channel.
   */
  async close(): Promise<void> {
    if (!this.#core.live) return;
    const session = this.#session;
    ensureSuccess(await VmbChannelDisable(this.handle), 'VmbChannelDisable');
    this.#retire(session);
  }

  /** Closes the channel, then VmbChannelCleanup: every method fails afterwards. Safe to call twice. */
  async dispose(): Promise<void> {
    if (!this.#core.live) return;
    await this.close();
    ensureSuccess(VmbChannelCleanup(this.handle), 'VmbChannelCleanup');
    this.#session.end();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  /**
   * The incoming packets, in arrival order, for `for await`. Complete (or
   * fail) each one: until then it counts against the transaction quota, and
   * at the quota the channel takes no more packets from the ring. The loop
   * ends when the channel closes; several consumers may share the packets.
   * Taken while the channel is closed, it iterates the next open's packets.
   */
  packets(): AsyncIterableIterator<IncomingPacket, undefined, undefined> {
    return new PacketIterator(this.#session);
  }

  /**
   * Sends one packet. With `waitForCompletion` it resolves with the peer's
   * completion payload, else (with no bytes) once the packet is in the ring.
   * Before the channel runs (opening, paused) the packet waits in order.
   * Sends (and completions) made in one burst of promise reactions reach the
   * peer together, once the burst is over: one commit, at most one signal.
   * KmclError: the VmbPacketSend* argument statuses (STATUS_INVALID_PARAMETER_3
   * above the maximum packet size, _4 external data that is not guest memory
   * or beyond the limits, _5 external data without waitForCompletion),
   * STATUS_INVALID_BUFFER_SIZE for a packet the ring can never hold,
   * STATUS_CANCELLED when the channel closed first, STATUS_DEVICE_REMOVED when
   * the peer went away first.
   */
  send(payload: Uint8Array, options: SendOptions = {}): Promise<Uint8Array> {
    if (!this.#core.live) return Promise.reject(this.#disposedError('send'));
    return sendPacket(this.handle, payload, options, this.#batch);
  }

  /**
   * VmbChannelSendSynchronousRequest: one packet out and the peer's
   * completion back. KmclError: STATUS_CANCELLED when `timeout` ran out
   * first, STATUS_BUFFER_OVERFLOW for a response longer than
   * `responseCapacity`, STATUS_DEVICE_REMOVED when the channel closed or the
   * peer went away first, and the argument statuses of the function.
   */
  request(payload: Uint8Array, options: RequestOptions = {}): Promise<Uint8Array> {
    if (!this.#core.live) return Promise.reject(this.#disposedError('request'));
    return sendRequest(this.handle, payload, options, this.#maximumPacketSize);
  }

  /**
   * VmbChannelCreateGpadlFrom{Buffer,Mdl,PfnList}: describes `source` to the
   * host, resolved once the host has it (it may map it at once). Valid from
   * `onOpened` until the channel closes (KmclError STATUS_INVALID_PARAMETER_1
   * otherwise); a view outside guest memory is _3.
   */
  async createGpadl(source: GpadlSource, options: { readonly readOnly?: boolean } = {}): Promise<Gpadl> {
    const flags = options.readOnly === true ? VMBUS_CHANNEL_GPADL_FLAG_READ_ONLY : 0;
    const id: Out<number> = { value: 0 };
    let status: NtStatus;
    let call: string;
    if (source instanceof GuestBuffer || source instanceof Uint8Array) {
      const bytes = source instanceof GuestBuffer ? source.bytes : source;
      [status, call] = [await VmbChannelCreateGpadlFromBuffer(this.handle, flags, bytes, bytes.length, id), 'VmbChannelCreateGpadlFromBuffer'];
    } else if (Array.isArray(source)) {
      [status, call] = [await VmbChannelCreateGpadlFromPfnList(this.handle, flags, source, source.length, id), 'VmbChannelCreateGpadlFromPfnList'];
    } else {
      [status, call] = [await VmbChannelCreateGpadlFromMdl(this.handle, flags, source as Mdl, 0, 0, id), 'VmbChannelCreateGpadlFromMdl'];
    }
    ensureSuccess(status, call);
    return new Gpadl(this.handle, id.value);
  }

  /** VmbChannelSetTransactionQuota: incoming packets handed out and not completed, at most (0 is STATUS_INVALID_PARAMETER_2). */
  setTransactionQuota(quota: number): void {
    ensureSuccess(VmbChannelSetTransactionQuota(this.handle, quota), 'VmbChannelSetTransactionQuota');
  }

  /** Resolves once every state change queued so far has run (the core runs them one after another): the start, or why not. */
  async #starts(): Promise<void> {
    this.#starting = true;
    try {
      await this.#core.transition(() => Promise.resolve());
    } finally {
      this.#starting = false;
    }
  }

  #ensureState(wanted: ChannelState, call: string): void {
    if (!this.#core.live) throw this.#disposedError(call);
    const state = this.state;
    if (state !== wanted) throw new KmclError(NTSTATUS.STATUS_INVALID_DEVICE_STATE, `${call}: the channel is ${state}, not ${wanted}`);
  }

  #disposedError(call: string): KmclError {
    return new KmclError(NTSTATUS.STATUS_INVALID_DEVICE_STATE, `${call}: the channel is disposed`);
  }

  /** Ends the packets of an open that is over, once: later consumers iterate the next open's. */
  #retire(session: PacketSession): void {
    if (session !== this.#session) return;
    this.#session = new PacketSession();
    session.end();
  }

  #deliver(packet: VMBPACKETCOMPLETION, buffer: Uint8Array, length: number, flags: number): void {
    this.#session.push(new IncomingPacket(packet, length === buffer.length ? buffer : buffer.subarray(0, length), flags, this.#batch));
  }

  #opened(): NtStatus | Promise<NtStatus> {
    const accepted = (): NtStatus => {
      this.emit('opened');
      return NTSTATUS.STATUS_SUCCESS;
    };
    const hook = this.#options.onOpened;
    if (hook === undefined) return accepted();
    return (async () => {
      try {
        await hook(this);
      } catch (error) {
        this.#openFailure = statusOfFailure(error);
        return this.#openFailure;
      }
      return accepted();
    })();
  }

  #suspended(): void {
    // Closing (not pausing): nobody will take the buffered packets, and the close waits until each is completed.
    if (this.#core.lifecycle === 'closing') this.#session.completeUnclaimed();
    this.emit('suspend');
  }

  async #closed(): Promise<void> {
    this.#retire(this.#session);
    await this.#options.onClosed?.(this);
    this.emit('closed');
  }
}
