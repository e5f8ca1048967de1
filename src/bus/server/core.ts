/**
 * The server's whole state in one place, shared by the files that each handle
 * one concern (connection, offers, GPADLs, open/close, rescind/unload, hvsock).
 * It holds data and the few lookups every concern needs; no protocol rule
 * lives here.
 */
import { GpadlTable } from '../../memory/index.js';
import type { GpaRange } from '../../memory/index.js';
import { NULL_TRACE, type TraceSink } from '../../trace/index.js';
import { VMBUS_SINT, type ChannelMessage } from '../../wire/messages/index.js';
import { isReleased, type ChannelRecord } from './channel.js';
import { IdPool } from './id-pool.js';
import type { ConnectionParams, ContactRequest, HvsockConnectRequest, MessageTarget, OfferId } from './notifier.js';
import { resolveOptions, type ServerConfig, type ServerOptions } from './options.js';
import { Outbox } from './outbox.js';

/** Channel ids are 1..2047: the SynIC event-flag bitmap has 2048 bits and bit 0 is reserved (channels.rs:1067-1069). */
export const MAX_CHANNEL_ID = 2047;
/** Monitor ids are 0..127: four trigger groups of 32 (openvmm-vmbus.md §6.8). */
export const MAX_MONITOR_ID = 127;

/**
 * A live connection: what was negotiated (monitor pages change with
 * MODIFY_CONNECTION), plus whether REQUEST_OFFERS has been answered.
 */
export type ConnectionInfo = { -readonly [K in keyof ConnectionParams]: ConnectionParams[K] } & { offersSent: boolean };

/** What to do once a disconnect has released everything (OpenVMM `ConnectionAction`). */
export type NextAction =
  /** UNLOAD: answer with UNLOAD_COMPLETE, which exists from Win7 on. */
  | { readonly kind: 'unload-complete'; readonly version: number }
  /** INITIATE_CONTACT while connected: negotiate the new request. */
  | { readonly kind: 'reconnect'; readonly request: ContactRequest };

export type ConnectionState =
  | { readonly kind: 'disconnected' }
  | { readonly kind: 'connected'; readonly info: ConnectionInfo }
  /** Channels or GPADLs are still being let go of; no guest message but INITIATE_CONTACT is accepted. */
  | { readonly kind: 'disconnecting'; next: NextAction };

/** The life of a GPADL id (OpenVMM's `GpadlState`, channels.rs:1203-1216, with creation done at once). */
export type GpadlState =
  /** GPADL_HEADER seen; GPADL_BODY messages still fill `values` up to `capacity` u64s. */
  | { readonly kind: 'in-progress'; readonly count: number; readonly capacity: number; readonly values: bigint[] }
  /** In the table, answered with GPADL_CREATED(0). `ranges` are kept to check ring GPADLs. */
  | { readonly kind: 'created'; readonly ranges: readonly GpaRange[] }
  /** The guest asked for teardown while the host maps it: GPADL_TORNDOWN follows the last unmap. Ranges kept for a save. */
  | { readonly kind: 'tearing-down'; readonly ranges: readonly GpaRange[] }
  /** The guest released the channel while the host maps it: it goes away with the last unmap, silently. */
  | { readonly kind: 'releasing' };

export interface GpadlRecord {
  readonly gpadlId: number;
  readonly offerId: OfferId;
  /** The channel id the guest created it on. */
  readonly channelId: number;
  state: GpadlState;
}

/**
 * The phase between a restore and its end (`finishRestore`), when the
 * devices re-offer their channels and claim the restored ones (OpenVMM's
 * `RestoreState`, channels.rs).
 */
export interface RestoreSession {
  /** Restored channels no offer has matched yet: rescinded when the restore ends. */
  readonly unmatched: Set<OfferId>;
  /** Matched by an offer, waiting for the device's claim: rescinded and offered again if it never comes. */
  readonly unclaimed: Set<OfferId>;
  /** GPADLs saved mid-teardown: created in the table now, their teardown starts again when the restore ends. */
  readonly teardowns: number[];
}

export class ServerCore {
  readonly config: ServerConfig;
  readonly outbox: Outbox;
  readonly trace: TraceSink;
  /** The registry of created GPADLs and of the host's mappings of them. */
  readonly table: GpadlTable;
  readonly channels = new Map<OfferId, ChannelRecord>();
  readonly channelIds = new IdPool(1, MAX_CHANNEL_ID);
  readonly monitorIds = new IdPool(0, MAX_MONITOR_ID);
  /** By GPADL id: ids are unique per connection, as GPADL_BODY and GPADL_TORNDOWN carry no channel id. */
  readonly gpadls = new Map<number, GpadlRecord>();
  readonly hvsockRequests: HvsockConnectRequest[] = [];
  connection: ConnectionState = { kind: 'disconnected' };
  /** The VP of the last connection's messages, kept for UNLOAD_COMPLETE after the connection is gone. */
  messageVp = 0;
  nextOfferId = 1;
  /** Set from a restore until `finishRestore`. */
  restoring: RestoreSession | null = null;
  /** Negotiates a contact request that waited for a disconnect; set by the server (connection.ts). */
  readonly reconnect: (request: ContactRequest) => void;

  constructor(options: ServerOptions, reconnect: (core: ServerCore, request: ContactRequest) => void) {
    this.config = resolveOptions(options);
    this.outbox = new Outbox(options.notifier);
    this.trace = options.trace ?? NULL_TRACE;
    this.table = new GpadlTable(options.memory);
    this.reconnect = (request) => reconnect(this, request);
  }

  /** The live connection, if any. */
  connected(): ConnectionInfo | undefined {
    return this.connection.kind === 'connected' ? this.connection.info : undefined;
  }

  /** Where messages to the guest go: its message VP, SINT 2 (openvmm-vmbus.md §6.1). */
  target(): MessageTarget {
    return { vp: this.messageVp, sint: VMBUS_SINT };
  }

  /** Sends to the connection's target (held while paused). */
  send(message: ChannelMessage): void {
    this.outbox.send(message, this.target());
  }

  /**
   * The channel a guest message names, if the guest may use that id now;
   * otherwise why not. Released channels hold no id, so their old ids are unknown.
   */
  visibleChannel(channelId: number): ChannelRecord | string {
    const offerId = this.channelIds.ownerOf(channelId);
    const channel = offerId === undefined ? undefined : this.channels.get(offerId);
    if (channel === undefined || isReleased(channel.state)) return `no channel has id ${channelId}`;
    return channel;
  }

  /** Reports a guest message that had no effect and no answer. */
  dropped(message: string, reason: string, detail: Readonly<Record<string, number | string | boolean>> = {}): void {
    this.trace.emit({ layer: 'bus', source: 'server', kind: 'message-dropped', reason, detail: { message, ...detail } });
  }

  /** Reports a guest message answered with a failure (a status, or a refusing VERSION_RESPONSE). */
  rejected(message: string, reason: string, detail: Readonly<Record<string, number | string | boolean>> = {}): void {
    this.trace.emit({ layer: 'bus', source: 'server', kind: 'message-rejected', reason, detail: { message, ...detail } });
  }
}
