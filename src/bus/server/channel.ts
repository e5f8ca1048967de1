/**
 * One offered channel as the server tracks it, and the states it moves
 * through. The states are OpenVMM's (channels.rs:471-522) minus the ones that
 * wait for a device's close: here a close is complete when the `close` action
 * is delivered, and the GPADL table's mapping counts keep guest memory safe
 * until the device lets go of the ring.
 */
import type { OfferId } from './notifier.js';
import type { Offer } from './offer-params.js';

/** What the guest asked for in OPEN_CHANNEL, after the feature gates (channels.rs:3038-3070). */
export interface OpenRequest {
  readonly openId: number;
  readonly ringGpadlId: number;
  /** null = interrupts disabled (target_vp 0xFFFFFFFF). */
  readonly targetVp: number | null;
  readonly downstreamRingPageOffset: number;
  readonly userData: Uint8Array;
  /** OpenChannel2 connection id and event flag, only with guest_specified_signal_parameters. */
  readonly guestSignal: { readonly connectionId: number; readonly eventFlag: number } | null;
  /** OpenChannel2 redirect_interrupt, only with channel_interrupt_redirection. */
  readonly redirectInterrupt: boolean;
}

/** The ids a channel holds while the guest knows it. */
export interface ChannelIds {
  readonly channelId: number;
  /** The guest→host event connection id sent in the offer (`0x2000 + channelId` at VTL0). */
  readonly connectionId: number;
  readonly monitorId: number | null;
}

export type ChannelState =
  /** Not known to the guest: never sent on this connection, or released by it. */
  | { readonly kind: 'client-released' }
  /** Offered to the guest, not open. */
  | { readonly kind: 'closed' }
  /** The device was told to open; waiting for `openComplete`. */
  | { readonly kind: 'opening'; readonly request: OpenRequest }
  | { readonly kind: 'open'; readonly request: OpenRequest }
  /** Rescinded; the guest has not yet sent REL_ID_RELEASED, so the channel id stays taken. */
  | { readonly kind: 'revoked' }
  /** Offered again while still revoked: sent anew, with the same channel id, once the guest releases it. */
  | { readonly kind: 'reoffered' }
  /**
   * The guest let go (unload, reconnect) while the device was opening: a
   * successful `openComplete` still owed is answered with a `close` action for
   * the channel id the device was given; if `rescinded`, the offer then ends.
   */
  | { readonly kind: 'opening-released'; readonly channelId: number; readonly rescinded: boolean };

export type ChannelStateKind = ChannelState['kind'];

export interface ChannelRecord {
  readonly offerId: OfferId;
  /** Replaced when a revoked channel is offered again. */
  offer: Offer;
  state: ChannelState;
  /** Present exactly while the guest may refer to the channel (`!isReleased`). */
  ids: ChannelIds | null;
}

/** True when the guest holds no reference to the channel and must not use its id (channels.rs:528-543). */
export function isReleased(state: ChannelState): boolean {
  switch (state.kind) {
    case 'client-released':
    case 'opening-released':
      return true;
    case 'closed':
    case 'opening':
    case 'open':
    case 'revoked':
    case 'reoffered':
      return false;
  }
}

/** True when the channel was rescinded and the guest has not released it yet. */
export function isRevoked(state: ChannelState): boolean {
  switch (state.kind) {
    case 'revoked':
    case 'reoffered':
      return true;
    case 'client-released':
    case 'opening-released':
    case 'closed':
    case 'opening':
    case 'open':
      return false;
  }
}
