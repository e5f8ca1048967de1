/**
 * The VMBus control-plane client (guest side) as a sans-IO state machine.
 *
 * Inputs: `receive(bytes)` with a message from the host, and local requests
 * (`connect`, `createGpadl`, `openChannel`, ...). Outputs: messages to post and
 * events, through the injected `ClientNotifier` (events.ts). No timers, promises
 * or I/O: an async driver above builds promises on the ids the requests return
 * and the completion events carry.
 *
 * The host is not trusted (linux-vmbus.md §A.4): a message is copied once,
 * decoded for the guest at the negotiated version and features, and taken only
 * when it answers something the client is waiting for; anything else is dropped
 * and traced (`layer 'bus', source 'client', kind 'message-dropped'`). Nothing
 * the host sends makes the client throw or leak a channel record or GPADL id.
 * Local requests return a ClientRequestError instead of throwing.
 */
import { WireError } from '../../wire/wire-error.js';
import { MAX_MESSAGE_SIZE, decodeMessage } from '../../wire/messages/index.js';
import type { MESSAGE_TABLE, MessageOfKind, VmbusVersion } from '../../wire/messages/index.js';
import type { GpaRange } from '../../memory/gpa-range.js';
import { NULL_TRACE } from '../../trace/index.js';
import type { TraceSink } from '../../trace/index.js';
import type { ConnectRequest } from './connect.js';
import * as connection from './connection.js';
import { sessionOf } from './core.js';
import type { ClientCore, Verdict } from './core.js';
import type { ChannelOffer, ClientNotifier, MonitorPageGpas } from './events.js';
import { ClientGpadls, createGpadl, handleGpadlCreated, handleGpadlTorndown, teardownGpadl } from './gpadls.js';
import type { GpadlState } from './gpadls.js';
import { TlConnectTracker } from './hvsock.js';
import type { TlConnectRequest } from './hvsock.js';
import { clientCounts, clientInvariants } from './invariants.js';
import type { ClientCounts } from './invariants.js';
import { ChannelTable, handleAllOffersDelivered, handleOffer, handleRescind, releaseId, requestOffers } from './offers.js';
import type { ChannelState } from './offers.js';
import { closeChannel, handleModifyChannelResponse, handleOpenResult, modifyChannel, openChannel } from './open-close.js';
import type { OpenRequest } from './open-close.js';
import { ClientOutbox } from './outbox.js';
import type { ClientRequestError } from './request-error.js';
import type { ConnectionPhaseName, Session } from './session.js';

/** The message kinds a host may send, from the table's directions. */
type HostKind = Extract<(typeof MESSAGE_TABLE)[number], { readonly direction: 'host-to-guest' }>['variants'][number]['kind'];
type HostMessage = MessageOfKind<HostKind>;

export interface VmbusClientOptions {
  readonly notifier: ClientNotifier;
  /** Where dropped host messages are reported. Default: nowhere. */
  readonly trace?: TraceSink;
}

/** A snapshot of one channel record. */
export interface ChannelView {
  readonly offer: ChannelOffer;
  readonly rescinded: boolean;
  readonly state: ChannelState;
  /** The open id of the open waiting or done, else null. */
  readonly openId: number | null;
  readonly ringGpadlId: number | null;
  readonly modifyPending: boolean;
}

/** A snapshot of one GPADL. */
export interface GpadlView {
  readonly gpadlId: number;
  readonly channelId: number;
  readonly state: GpadlState;
}

export class VmbusClient {
  readonly #core: ClientCore;
  readonly #trace: TraceSink;

  constructor(options: VmbusClientOptions) {
    this.#trace = options.trace ?? NULL_TRACE;
    this.#core = {
      phase: { name: 'disconnected' },
      channels: new ChannelTable(),
      gpadls: new ClientGpadls(),
      tlConnects: new TlConnectTracker(),
      nextOpenId: 1,
      outbox: new ClientOutbox(options.notifier),
    };
  }

  /** Sends INITIATE_CONTACT for the newest version of the request; ends in 'connected' or 'connect-failed'. */
  connect(request: ConnectRequest): ClientRequestError | undefined {
    return this.#run(() => connection.connect(this.#core, request));
  }

  /** Sends REQUEST_OFFERS; 'offer' events follow, then 'all-offers-delivered'. */
  requestOffers(): ClientRequestError | undefined {
    return this.#run(() => requestOffers(this.#core));
  }

  /** Sends GPADL_HEADER and GPADL_BODY messages; returns the GPADL id that 'gpadl-created' will carry. */
  createGpadl(channelId: number, ranges: readonly GpaRange[]): number | ClientRequestError {
    return this.#run(() => createGpadl(this.#core, channelId, ranges));
  }

  /** Sends GPADL_TEARDOWN; ends in 'gpadl-torndown'. */
  teardownGpadl(channelId: number, gpadlId: number): ClientRequestError | undefined {
    return this.#run(() => teardownGpadl(this.#core, channelId, gpadlId));
  }

  /** Sends OPEN_CHANNEL; returns the open id that 'open-result' will carry. */
  openChannel(channelId: number, request: OpenRequest): number | ClientRequestError {
    return this.#run(() => openChannel(this.#core, channelId, request));
  }

  /** Sends CLOSE_CHANNEL (not for a rescinded channel); no answer. */
  closeChannel(channelId: number): ClientRequestError | undefined {
    return this.#run(() => closeChannel(this.#core, channelId));
  }

  /** Sends MODIFY_CHANNEL; ends in 'modify-channel-result'. */
  modifyChannel(channelId: number, targetVp: number): ClientRequestError | undefined {
    return this.#run(() => modifyChannel(this.#core, channelId, targetVp));
  }

  /** Sends REL_ID_RELEASED for a rescinded, closed channel and forgets it; no answer. */
  releaseId(channelId: number): ClientRequestError | undefined {
    return this.#run(() => releaseId(this.#core, channelId));
  }

  /** Sends TL_CONNECT_REQUEST; ends in 'tl-connect-result'. */
  tlConnect(request: TlConnectRequest): ClientRequestError | undefined {
    return this.#run(() => connection.tlConnect(this.#core, request));
  }

  /** Sends MODIFY_CONNECTION; ends in 'modify-connection-result'. */
  modifyConnection(pages: MonitorPageGpas): ClientRequestError | undefined {
    return this.#run(() => connection.modifyConnection(this.#core, pages));
  }

  /** Sends PAUSE; ends in 'paused'. */
  pause(): ClientRequestError | undefined {
    return this.#run(() => connection.pause(this.#core));
  }

  /** Sends RESUME; no answer. */
  resume(): ClientRequestError | undefined {
    return this.#run(() => connection.resume(this.#core));
  }

  /** Sends UNLOAD; ends in 'unloaded', after every waiting request has ended. */
  unload(): ClientRequestError | undefined {
    return this.#run(() => connection.unload(this.#core));
  }

  /** Takes one message from the host (header included). Never throws on its content. */
  receive(bytes: Uint8Array): void {
    this.#run(() => this.#receive(bytes));
  }

  get phase(): ConnectionPhaseName {
    return this.#core.phase.name;
  }

  /** The negotiated version, while connected or unloading. */
  get version(): VmbusVersion | null {
    return sessionOf(this.#core.phase)?.version ?? null;
  }

  get features(): number {
    return sessionOf(this.#core.phase)?.features ?? 0;
  }

  get messageConnectionId(): number | null {
    return sessionOf(this.#core.phase)?.messageConnectionId ?? null;
  }

  channel(channelId: number): ChannelView | undefined {
    const record = this.#core.channels.get(channelId);
    if (record === undefined) return undefined;
    const { offer, rescinded, lifecycle, pendingModify } = record;
    const opened = lifecycle.state === 'closed' ? null : lifecycle;
    return {
      offer: { ...offer, userDefined: offer.userDefined.slice() },
      rescinded,
      state: lifecycle.state,
      openId: opened?.openId ?? null,
      ringGpadlId: opened?.ringGpadlId ?? null,
      modifyPending: pendingModify !== null,
    };
  }

  /** Ids of every channel record, rescinded ones included, ascending. */
  channelIds(): number[] {
    return [...this.#core.channels.values()].map((record) => record.offer.channelId).sort((a, b) => a - b);
  }

  gpadl(gpadlId: number): GpadlView | undefined {
    const record = this.#core.gpadls.get(gpadlId);
    return record === undefined ? undefined : { gpadlId: record.gpadlId, channelId: record.channelId, state: record.state };
  }

  counts(): ClientCounts {
    return clientCounts(this.#core);
  }

  /** Broken state rules, as sentences; empty when sound. */
  checkInvariants(): string[] {
    return clientInvariants(this.#core);
  }

  /** Runs one public call and then hands its decisions to the notifier. */
  #run<T>(call: () => T): T {
    try {
      return call();
    } finally {
      this.#core.outbox.flush();
    }
  }

  #receive(bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) {
      this.#drop('the received message is not a Uint8Array', null);
      return;
    }
    // One private copy, at most one byte past the limit so an oversized message is still seen as one.
    const copy = bytes.slice(0, MAX_MESSAGE_SIZE + 1);
    const messageType = copy.length >= 4 ? new DataView(copy.buffer).getUint32(0, true) : null;
    const session = sessionOf(this.#core.phase);
    const decoded = decodeMessage(copy, { receiver: 'guest', version: session?.version ?? null, features: session?.features ?? 0 });
    if (decoded instanceof WireError) {
      this.#drop(decoded.message, messageType, decoded.code);
      return;
    }
    // decodeMessage with receiver 'guest' returns host→guest kinds only.
    const reason = this.#dispatch(decoded as HostMessage, session);
    if (reason !== undefined) this.#drop(reason, messageType);
  }

  #dispatch(msg: HostMessage, session: Session | null): Verdict {
    const core = this.#core;
    if (msg.kind === 'VersionResponse' || msg.kind === 'VersionResponse2' || msg.kind === 'VersionResponse3') {
      return connection.handleVersionResponse(core, msg);
    }
    if (session === null) return `${msg.kind} before a version is negotiated`;
    // The host queues everything between PAUSE_RESPONSE and RESUME (channels.rs:3637-3682).
    if (session.pause === 'paused') return `${msg.kind} while the connection is paused`;
    switch (msg.kind) {
      case 'OfferChannel':
        return handleOffer(core, session, msg);
      case 'RescindChannelOffer':
        return handleRescind(core, msg);
      case 'AllOffersDelivered':
        return handleAllOffersDelivered(core, session);
      case 'OpenResult':
        return handleOpenResult(core, msg);
      case 'GpadlCreated':
        return handleGpadlCreated(core, msg);
      case 'GpadlTorndown':
        return handleGpadlTorndown(core, msg);
      case 'UnloadComplete':
        return connection.handleUnloadComplete(core);
      case 'CloseReservedChannelResponse':
        return `CLOSE_RESERVED_RESPONSE for channel ${msg.channelId}: this client opens no reserved channels`;
      case 'TlConnectResult':
        return connection.handleTlConnectResult(core, msg);
      case 'ModifyChannelResponse':
        return handleModifyChannelResponse(core, msg);
      case 'ModifyConnectionResponse':
        return connection.handleModifyConnectionResponse(core, session, msg);
      case 'PauseResponse':
        return connection.handlePauseResponse(core, session);
      default:
        return msg satisfies never;
    }
  }

  #drop(reason: string, messageType: number | null, code?: string): void {
    const detail = code === undefined ? { messageType } : { messageType, code };
    this.#trace.emit({ layer: 'bus', source: 'client', kind: 'message-dropped', reason, detail });
  }
}
