/**
 * What the VMBus server hands to the layer above: messages for the guest and
 * actions for the devices and the hypervisor glue. The server is sans-IO: it
 * calls a `ServerNotifier` and never sends, maps, signals or waits itself.
 *
 * Delivery order is the order in which the server decided things, and every
 * callback runs after the server's state is consistent again. A notifier may
 * therefore call back into the server (e.g. `unmapGpadl` from a `close`
 * action); the effects of that nested call are delivered after the ones
 * already queued.
 */
import type { Guid } from '../../wire/guid.js';

/** The local handle of an offer. Stable for the offer's life, never reused; unlike a channel id it exists before the guest asks for offers. */
export type OfferId = number;

/** Where a message to the guest goes: the message slot of this VP's SINT. */
export interface MessageTarget {
  readonly vp: number;
  readonly sint: number;
}

/** The two monitor pages of a connection (linux-vmbus.md §A.3.1: [0] parent→child, [1] child→parent). */
export interface MonitorPages {
  readonly parentToChild: bigint;
  readonly childToParent: bigint;
}

/** What a successful INITIATE_CONTACT established (openvmm-vmbus.md §6.8). */
export interface ConnectionParams {
  readonly version: number;
  /** Copper feature flags both sides support; 0 before 6.0. */
  readonly features: number;
  /** The VP that receives control messages (0 before 3.0, when the field was not honoured). */
  readonly targetMessageVp: number;
  /** The pre-Win8 interrupt page GPA, or null. */
  readonly interruptPage: bigint | null;
  /** The monitor pages in use, the guest's or the server's; null when MNF is not used. */
  readonly monitorPages: MonitorPages | null;
  /** True when `monitorPages` are the server's own (server_specified_monitor_pages). */
  readonly serverMonitorPages: boolean;
  /** InitiateContact2's client id, or the nil GUID. */
  readonly clientId: Guid;
}

/**
 * An INITIATE_CONTACT addressed to a server of another VTL (multiclient port,
 * 5.1+): the layer above may pass it to the server of that VTL.
 */
export interface ContactRequest {
  readonly versionRequested: number;
  readonly targetMessageVp: number;
  readonly targetSint: number;
  readonly targetVtl: number;
  readonly featureFlags: number;
  readonly interruptPage: bigint | null;
  /** 'invalid' when exactly one of the two GPAs was zero. */
  readonly monitorPages: MonitorPages | null | 'invalid';
  readonly clientId: Guid;
}

/** A guest's hvsocket connect request (TL_CONNECT_REQUEST, openvmm-vmbus.md §6.9). */
export interface HvsockConnectRequest {
  readonly serviceId: Guid;
  readonly endpointId: Guid;
  /** The nil GUID for the 40-byte TlConnectRequest. */
  readonly siloId: Guid;
  /** Before 5.2 the guest knows nothing of silos (channels.rs:3405). */
  readonly hostedSiloUnaware: boolean;
}

/** Everything a device needs to open its channel (OpenVMM `OpenParams`, channels.rs:1256-1300). */
export interface OpenChannelAction {
  readonly type: 'open';
  readonly offerId: OfferId;
  readonly channelId: number;
  readonly openId: number;
  readonly ringGpadlId: number;
  /** Page where the host→guest ring starts; pages before it are the guest→host ring (openvmm-vmbus.md §6.4). */
  readonly downstreamRingPageOffset: number;
  /** Host→guest interrupts go to this VP; null when the guest disabled them (0xFFFFFFFF). */
  readonly targetVp: number | null;
  /** The event flag the host signals the guest with: the channel id unless the guest chose one. */
  readonly eventFlag: number;
  /** The connection id the guest signals the host on: the offer's unless the guest chose one. */
  readonly connectionId: number;
  /** OpenChannel2 redirect_interrupt, honoured only with channel_interrupt_redirection. */
  readonly redirectInterrupt: boolean;
  /** The monitor id the guest may use for guest→host MNF, or null. */
  readonly monitorId: number | null;
  readonly userData: Uint8Array;
  readonly version: number;
  readonly features: number;
}

/** Something the layer above must do or know. */
export type ServerAction =
  /** Set up message delivery and monitor pages for a new connection; sent before its VERSION_RESPONSE. */
  | { readonly type: 'connected'; readonly connection: ConnectionParams }
  /** The connection is gone and every channel and GPADL of it released. */
  | { readonly type: 'disconnected' }
  /** MODIFY_CONNECTION replaced the monitor pages (sent before its response). */
  | { readonly type: 'monitor-pages-changed'; readonly monitorPages: MonitorPages | null }
  /** A contact request for another VTL's server. */
  | { readonly type: 'contact-for-other-vtl'; readonly request: ContactRequest }
  /** Open the channel, then call `openComplete(offerId, status)`. */
  | OpenChannelAction
  /** Stop the channel: the guest closed it or let go of it. Unmap its GPADLs when done with them. */
  | { readonly type: 'close'; readonly offerId: OfferId; readonly channelId: number }
  /** Retarget host→guest interrupts; delivered before MODIFY_CHANNEL_RESPONSE, so retarget synchronously. */
  | { readonly type: 'modify'; readonly offerId: OfferId; readonly channelId: number; readonly targetVp: number }
  /** The guest created a GPADL on the channel (it is in the table; map it with `mapGpadl`). */
  | { readonly type: 'gpadl-created'; readonly offerId: OfferId; readonly channelId: number; readonly gpadlId: number }
  /**
   * The guest tears down a GPADL the host still maps, or lets go of its channel:
   * unmap it. A requested teardown ends in GPADL_TORNDOWN after the last unmap.
   */
  | { readonly type: 'gpadl-teardown'; readonly offerId: OfferId; readonly channelId: number; readonly gpadlId: number }
  /** A guest wants an hvsocket connection: answer with `acceptHvsockConnect` or `refuseHvsockConnect`. */
  | { readonly type: 'hvsock-connect'; readonly request: HvsockConnectRequest };

/** The server's only way out. */
export interface ServerNotifier {
  /** Posts one channel-management message (header included, ≤ 240 bytes) to the guest. */
  sendMessage(bytes: Uint8Array, target: MessageTarget): void;
  /** Tells the layer above to act. */
  action(action: ServerAction): void;
}
