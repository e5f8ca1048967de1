/**
 * What the client hands to the layer above: messages to post and events. Both
 * go through one injected `ClientNotifier`, in the order the client decided
 * them, after the client's own state is updated (so a notifier may call back
 * into the client).
 *
 * Request/response matching is by ids: every request that waits for the host
 * ends in exactly one completion event carrying the ids the request returned
 * (GPADL id, open id, channel id, hvsocket endpoint/service ids), so an async
 * driver can keep a promise per id. A completion says who completed it in
 * `cause`: the host's message, or a local rule when the host will never answer.
 */
import type { Guid } from '../../wire/guid.js';
import { NTSTATUS } from '../../wire/ntstatus.js';
import type { VmbusVersion } from '../../wire/messages/index.js';

/** The two monitor pages of a connection (InitiateContact, VersionResponse3, ModifyConnection). */
export interface MonitorPageGpas {
  readonly parentToChild: bigint;
  readonly childToParent: bigint;
}

/** A channel as the host offered it (OFFER_CHANNEL, openvmm-vmbus.md §6.6), copied out of the message. */
export interface ChannelOffer {
  readonly channelId: number;
  readonly interfaceId: Guid;
  readonly instanceId: Guid;
  /** 0 for a primary channel. */
  readonly subchannelIndex: number;
  /** OFFER_FLAG bits, as sent; their meaning depends on the negotiated features. */
  readonly flags: number;
  readonly mmioMegabytes: number;
  readonly mmioMegabytesOptional: number;
  /** The channel's monitor id (0..127), or null when the host allocated none. */
  readonly monitorId: number | null;
  readonly isDedicated: boolean;
  /** The guest→host event connection id the host chose for the channel. */
  readonly connectionId: number;
  readonly userDefined: Uint8Array;
}

/**
 * Who completed a request:
 * - `host`: the host's answer;
 * - `unacknowledged`: the negotiated version has no answer message, so sending completed it
 *   (MODIFY_CHANNEL before 5.3, UNLOAD before Win7);
 * - `rescinded`: the host rescinded the channel first and will not answer;
 * - `closed`: the local user closed the channel first (the host answers no modify on a closed channel);
 * - `released`: the local user released the channel id; the host drops the channel's GPADLs with it;
 * - `unloaded`: the connection was unloaded; the host drops everything with it.
 */
export type CompletionCause = 'host' | 'unacknowledged' | 'rescinded' | 'closed' | 'released' | 'unloaded';

/** The status a locally completed request reports (a host answer carries the host's status). */
export const LOCAL_COMPLETION_STATUS: Readonly<Record<Exclude<CompletionCause, 'host'>, number>> = {
  unacknowledged: NTSTATUS.STATUS_SUCCESS,
  rescinded: NTSTATUS.STATUS_DEVICE_REMOVED,
  closed: NTSTATUS.STATUS_CANCELLED,
  released: NTSTATUS.STATUS_DEVICE_REMOVED,
  unloaded: NTSTATUS.STATUS_CANCELLED,
};

/** Why `connect` failed. */
export type ConnectFailure =
  /** The host refused every version the client offered. */
  | 'no-supported-version'
  /** The host accepted the version but reported a connection_state failure. */
  | 'connection-state'
  /** The host accepted a 5.0+ version but named a message connection id that cannot be posted to. */
  | 'bad-connection-id';

/** Everything the client reports to the layer above, discriminated by `kind`. */
export type ClientEvent =
  | {
      readonly kind: 'connected';
      readonly version: VmbusVersion;
      /** Negotiated feature flags: requested ∩ reported by the host. */
      readonly features: number;
      /** Where every later message is posted. */
      readonly messageConnectionId: number;
      /** The host's own monitor pages (VersionResponse3 with server_specified_monitor_pages), else null. */
      readonly serverMonitorPages: MonitorPageGpas | null;
    }
  | {
      readonly kind: 'connect-failed';
      readonly reason: ConnectFailure;
      /** The version last tried. */
      readonly version: VmbusVersion;
      /** The host's connection_state for 'connection-state', else null. */
      readonly connectionState: number | null;
    }
  | { readonly kind: 'offer'; readonly offer: ChannelOffer }
  | { readonly kind: 'all-offers-delivered' }
  | { readonly kind: 'rescinded'; readonly channelId: number }
  | {
      readonly kind: 'gpadl-created';
      readonly channelId: number;
      readonly gpadlId: number;
      /** 0: the GPADL is live. Anything else: it is gone (and its id with it). */
      readonly status: number;
      readonly cause: 'host' | 'released' | 'unloaded';
    }
  | {
      readonly kind: 'gpadl-torndown';
      readonly channelId: number;
      readonly gpadlId: number;
      readonly cause: 'host' | 'released' | 'unloaded';
    }
  | {
      readonly kind: 'open-result';
      readonly channelId: number;
      readonly openId: number;
      /** 0: the channel is open. */
      readonly status: number;
      readonly cause: 'host' | 'rescinded' | 'unloaded';
    }
  | {
      readonly kind: 'modify-channel-result';
      readonly channelId: number;
      readonly targetVp: number;
      readonly status: number;
      readonly cause: 'host' | 'unacknowledged' | 'rescinded' | 'closed' | 'unloaded';
    }
  | {
      readonly kind: 'tl-connect-result';
      readonly endpointId: Guid;
      readonly serviceId: Guid;
      /** TL_CONNECT_REQUEST_RESULT's status; 0 when the hvsocket offer arrived. */
      readonly status: number;
      /** The offered hvsocket channel on success, else null. */
      readonly channelId: number | null;
      readonly cause: 'host' | 'unloaded';
    }
  | {
      readonly kind: 'modify-connection-result';
      /** CONNECTION_STATE; SUCCESSFUL (0) means the new monitor pages are in use. */
      readonly connectionState: number;
      readonly cause: 'host' | 'unloaded';
    }
  | { readonly kind: 'paused' }
  | {
      /** The connection is gone: every channel record, channel id and GPADL id with it. */
      readonly kind: 'unloaded';
      readonly cause: 'host' | 'unacknowledged';
    };

export type ClientEventKind = ClientEvent['kind'];

/**
 * The client's only way out. `sendMessage` gets a complete VMBus message (header
 * included, ≤ 240 bytes) and the connection id to post it on: 1 before 5.0, 4 for
 * INITIATE_CONTACT from 5.0 on, then the id the host chose in VERSION_RESPONSE.
 */
export interface ClientNotifier {
  sendMessage(bytes: Uint8Array, connectionId: number): void;
  event(e: ClientEvent): void;
}
