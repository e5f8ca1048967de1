/**
 * The host side of the VMBus control plane as a sans-IO state machine: guest
 * messages and local requests in, messages and actions out through a
 * `ServerNotifier`. No timers, promises or I/O; every call returns after its
 * effects are delivered.
 *
 * Peer input never throws. A guest message that is wrong for its type, size,
 * direction, version, the connection's state or the ids it names is answered
 * the way Hyper-V answers it where the protocol has a failure status
 * (GPADL_CREATED, OPEN_RESULT, MODIFY_CHANNEL_RESPONSE, VERSION_RESPONSE,
 * MODIFY_CONNECTION_RESPONSE) and dropped otherwise, and always traced as
 * `message-rejected` or `message-dropped` with the reason.
 *
 * Save and restore (servicing): `save` gives the state as versioned bytes;
 * `VmbusServer.restore` builds a server from them, devices offer and claim
 * their channels again, and `finishRestore` ends the restore (restore.ts).
 *
 * Not modelled: reserved channels (OPEN/CLOSE_RESERVED_CHANNEL are dropped),
 * the trusted-connection checks of confidential VMs, a relay.
 */
import type { GpadlMapOptions, GpadlMapping, GpadlTeardown, MemoryError } from '../../memory/index.js';
import {
  MAX_MESSAGE_SIZE,
  VMBUS_MESSAGE_CONNECTION_ID,
  VMBUS_MESSAGE_CONNECTION_ID_MULTICLIENT,
  decodeMessage,
  messageSpecOfType,
  type ChannelMessage,
  type MessageOfKind,
} from '../../wire/messages/index.js';
import { WireError } from '../../wire/wire-error.js';
import type { ChannelStateKind } from './channel.js';
import { connectionParams, handleInitiateContact, handleModifyConnection, handlePause, initiateContact } from './connection.js';
import { ServerCore, type ConnectionInfo } from './core.js';
import { handleGpadlBody, handleGpadlHeader, handleGpadlTeardown, unmapGpadl } from './gpadls.js';
import { acceptHvsockConnect, handleTlConnectRequest, refuseHvsockConnect } from './hvsock.js';
import { checkInvariants, snapshot, type ServerSnapshot } from './invariants.js';
import type { ConnectionParams, HvsockConnectRequest, OfferId } from './notifier.js';
import type { OfferParams } from './offer-params.js';
import { handleRequestOffers, offerChannel } from './offers.js';
import { handleCloseChannel, handleModifyChannel, handleOpenChannel, openComplete } from './open-close.js';
import type { ServerOptions } from './options.js';
import { requestError, type ServerRequestError } from './request-error.js';
import { handleRelIdReleased, handleUnload, rescindChannel } from './rescind-unload.js';
import { claimRestoredChannel, finishRestore, restoredChannel, restoreServer, type RestoredChannel } from './restore.js';
import { saveServer } from './save.js';
import { SavedStateError } from './saved-state-error.js';
import { decodeServerSavedState, encodeServerSavedState, type ServerSavedState } from './saved-state.js';

/** Guest messages that need a connection. */
type ConnectedKind =
  | 'RequestOffers'
  | 'GpadlHeader'
  | 'GpadlBody'
  | 'GpadlTeardown'
  | 'OpenChannel'
  | 'OpenChannel2'
  | 'CloseChannel'
  | 'RelIdReleased'
  | 'Unload'
  | 'TlConnectRequest'
  | 'TlConnectRequest2'
  | 'ModifyChannel'
  | 'ModifyConnection'
  | 'Pause'
  | 'Resume';

/** What the server says about one offer. */
export interface OfferStatus {
  readonly state: ChannelStateKind;
  /** The channel id while the guest holds the channel, else null. */
  readonly channelId: number | null;
  readonly monitorId: number | null;
}

export class VmbusServer {
  readonly #core: ServerCore;
  readonly #messagePorts: ReadonlySet<number>;
  /** Guest messages that arrived while restoring, handled in order when the restore finishes. */
  readonly #waiting: [Uint8Array, number][] = [];

  constructor(options: ServerOptions) {
    this.#core = new ServerCore(options, initiateContact);
    this.#messagePorts = new Set([
      VMBUS_MESSAGE_CONNECTION_ID,
      VMBUS_MESSAGE_CONNECTION_ID_MULTICLIENT,
      this.#core.config.messageConnectionId,
    ]);
  }

  /**
   * Handles one message from the guest: the payload of a SynIC message the
   * guest posted to `connectionId` (1, the multiclient 4, or the configured
   * message connection id). The bytes are copied once before anything reads them.
   */
  receiveMessage(bytes: Uint8Array, connectionId: number = VMBUS_MESSAGE_CONNECTION_ID): void {
    if (this.#core.restoring !== null) {
      this.#waiting.push([bytes.slice(), connectionId]);
      return;
    }
    this.#receive(bytes, connectionId);
    this.#core.outbox.deliver();
  }

  /**
   * A server that goes on from `saved` (bytes from `save`, or their decoded
   * form), or why the state is refused; nothing is sent. It is restoring:
   * offers with the key of a saved channel take it over and must claim it
   * (`claimRestoredChannel`), then `finishRestore` ends the restore. Guest
   * messages received meanwhile wait for that end.
   */
  static restore(options: ServerOptions, saved: Uint8Array | ServerSavedState): VmbusServer | SavedStateError {
    const state = saved instanceof Uint8Array ? decodeServerSavedState(saved) : saved;
    if (state instanceof SavedStateError) return state;
    const server = new VmbusServer(options);
    return restoreServer(server.#core, state) ?? server;
  }

  /** The state as versioned bytes, for `VmbusServer.restore`; refused while restoring. */
  save(): Uint8Array | ServerRequestError {
    if (this.#core.restoring !== null) return requestError('invalid-state', 'the server is restoring');
    return encodeServerSavedState(saveServer(this.#core));
  }

  /** True from `VmbusServer.restore` until `finishRestore`. */
  get restoring(): boolean {
    return this.#core.restoring !== null;
  }

  /** The restored channel an offer took over, while it waits for its claim. */
  restoredChannel(offerId: OfferId): RestoredChannel | undefined {
    return restoredChannel(this.#core, offerId);
  }

  /** The device takes its restored channel back, open or closed (restore.ts). */
  claimRestoredChannel(offerId: OfferId, open: boolean): ServerRequestError | undefined {
    return this.#local(() => claimRestoredChannel(this.#core, offerId, open));
  }

  /** Ends the restore: unclaimed channels are rescinded, waiting offers sent, then waiting guest messages handled. */
  finishRestore(): ServerRequestError | undefined {
    const refusal = this.#local(() => finishRestore(this.#core));
    if (refusal !== undefined) return refusal;
    for (const [bytes, connectionId] of this.#waiting.splice(0)) this.receiveMessage(bytes, connectionId);
    return undefined;
  }

  /** Offers a channel; sent at once if the guest already asked for offers. */
  offerChannel(params: OfferParams): OfferId | ServerRequestError {
    return this.#local(() => offerChannel(this.#core, params));
  }

  /** Rescinds an offer (its subchannels first); its channel id stays taken until REL_ID_RELEASED. */
  rescindChannel(offerId: OfferId): ServerRequestError | undefined {
    return this.#local(() => rescindChannel(this.#core, offerId));
  }

  /** The device's answer to an `open` action: an NTSTATUS, success or failure, sent in OPEN_RESULT. */
  openComplete(offerId: OfferId, status: number): ServerRequestError | undefined {
    return this.#local(() => openComplete(this.#core, offerId, status));
  }

  /** Accepts an `hvsock-connect` request by offering its hvsocket channel. */
  acceptHvsockConnect(request: HvsockConnectRequest): OfferId | ServerRequestError {
    return this.#local(() => acceptHvsockConnect(this.#core, request));
  }

  /** Refuses an `hvsock-connect` request (TL_CONNECT_RESULT with STATUS_CONNECTION_REFUSED from 4.1). */
  refuseHvsockConnect(request: HvsockConnectRequest): ServerRequestError | undefined {
    return this.#local(() => refuseHvsockConnect(this.#core, request));
  }

  /** Maps a created GPADL for host access; refused once its teardown began. */
  mapGpadl(gpadlId: number, options: GpadlMapOptions): GpadlMapping | MemoryError {
    return this.#core.table.map(gpadlId, options);
  }

  /** Releases a mapping from `mapGpadl`; the last one completes a waiting teardown. */
  unmapGpadl(mapping: GpadlMapping): GpadlTeardown | MemoryError {
    return this.#local(() => unmapGpadl(this.#core, mapping));
  }

  /** The live connection, or null. */
  get connection(): ConnectionParams | null {
    const info = this.#core.connected();
    return info === undefined ? null : connectionParams(info);
  }

  /** An offer's state and ids, or undefined for an offer that is gone. */
  offerStatus(offerId: OfferId): OfferStatus | undefined {
    const channel = this.#core.channels.get(offerId);
    if (channel === undefined) return undefined;
    return { state: channel.state.kind, channelId: channel.ids?.channelId ?? null, monitorId: channel.ids?.monitorId ?? null };
  }

  /** Every violated invariant; empty when the state is sound. */
  checkInvariants(): string[] {
    return checkInvariants(this.#core);
  }

  /** Counts for leak checks: channel ids, GPADLs, mappings, mapped pages. */
  snapshot(): ServerSnapshot {
    return snapshot(this.#core);
  }

  #local<T>(request: () => T): T {
    const result = request();
    this.#core.outbox.deliver();
    return result;
  }

  #receive(bytes: Uint8Array, connectionId: number): void {
    const core = this.#core;
    if (!this.#messagePorts.has(connectionId)) {
      return core.dropped(messageName(bytes), `connection id ${connectionId} is not a message port of this server`);
    }
    // One copy, so a peer still writing its message slot cannot change what was checked.
    const copy = bytes.length <= MAX_MESSAGE_SIZE ? bytes.slice() : bytes;
    const info = core.connected();
    const msg = decodeMessage(copy, { receiver: 'host', version: info?.version ?? null, features: info?.features ?? 0 });
    if (msg instanceof WireError) return core.dropped(messageName(copy), `${msg.code}: ${msg.message}`);
    if (info !== undefined && core.outbox.paused) {
      const resumes = msg.kind === 'Resume' || msg.kind === 'Unload' || msg.kind === 'InitiateContact' || msg.kind === 'InitiateContact2';
      // While paused only these are read (channels.rs:3665-3682).
      if (!resumes) return core.dropped(msg.kind, 'the guest paused the server; only RESUME, UNLOAD or INITIATE_CONTACT are read');
      core.outbox.resume();
      if (msg.kind === 'Resume') return;
    }
    this.#dispatch(msg, info, connectionId);
  }

  #dispatch(msg: ChannelMessage, info: ConnectionInfo | undefined, connectionId: number): void {
    const core = this.#core;
    switch (msg.kind) {
      case 'InitiateContact':
      case 'InitiateContact2':
        return handleInitiateContact(core, msg, connectionId);
      case 'OpenReservedChannel':
      case 'CloseReservedChannel':
        return core.dropped(msg.kind, 'reserved channels are not supported by this server', { channelId: msg.channelId });
      case 'OfferChannel':
      case 'RescindChannelOffer':
      case 'AllOffersDelivered':
      case 'OpenResult':
      case 'GpadlCreated':
      case 'GpadlTorndown':
      case 'VersionResponse':
      case 'VersionResponse2':
      case 'VersionResponse3':
      case 'UnloadComplete':
      case 'CloseReservedChannelResponse':
      case 'TlConnectResult':
      case 'ModifyChannelResponse':
      case 'ModifyConnectionResponse':
      case 'PauseResponse':
        // The receive gate rejects host→guest types; OpenVMM panics here (channels.rs:3713-3730), we never do.
        return core.dropped(msg.kind, 'a host-to-guest message sent to the host');
      default:
        // The decoder admits the other guest messages only with a negotiated version.
        if (info === undefined) return core.dropped(msg.kind, 'no connection');
        return this.#dispatchConnected(msg, info);
    }
  }

  #dispatchConnected(msg: MessageOfKind<ConnectedKind>, info: ConnectionInfo): void {
    const core = this.#core;
    switch (msg.kind) {
      case 'RequestOffers':
        return handleRequestOffers(core, info);
      case 'GpadlHeader':
        return handleGpadlHeader(core, msg);
      case 'GpadlBody':
        return handleGpadlBody(core, msg);
      case 'GpadlTeardown':
        return handleGpadlTeardown(core, msg);
      case 'OpenChannel':
      case 'OpenChannel2':
        return handleOpenChannel(core, info, msg);
      case 'CloseChannel':
        return handleCloseChannel(core, msg);
      case 'RelIdReleased':
        return handleRelIdReleased(core, info, msg);
      case 'Unload':
        return handleUnload(core, info);
      case 'TlConnectRequest':
      case 'TlConnectRequest2':
        return handleTlConnectRequest(core, info, msg);
      case 'ModifyChannel':
        return handleModifyChannel(core, info, msg);
      case 'ModifyConnection':
        return handleModifyConnection(core, info, msg);
      case 'Pause':
        return handlePause(core);
      case 'Resume':
        return core.dropped(msg.kind, 'the server is not paused');
    }
  }
}

/** The message type's name for a trace, read from the header if there is one. */
function messageName(bytes: Uint8Array): string {
  if (bytes.length < 4) return 'message';
  const type = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  return messageSpecOfType(type)?.name ?? `type ${type}`;
}
