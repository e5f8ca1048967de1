/**
 * What a server channel needs from the host side of a guest's bus: the
 * subset of `HostBus` (src/bus/host-bus.ts) it calls. `HostBus` fits it as
 * is; the KMCL depends on this seam only, so a test may stand in for the bus.
 */
import type { HostChannelHandlers, HostOffer, HostOfferOptions } from '../../bus/index.js';
import type { GpadlMapping, MemoryError } from '../../memory/index.js';

export type { HostChannelHandlers, HostOffer, HostOfferOptions, HostOpenRequest, HostRestoreRequest } from '../../bus/index.js';

/** The host bus operations a server channel uses; `HostBus` provides them. */
export interface HostBusPort {
  /** Offers a channel; throws a status-carrying error (`BusError`) for an offer the bus refuses. */
  offerChannel(offer: HostOfferOptions, handlers: HostChannelHandlers): HostOffer;
  /** Maps a GPADL the guest created on `channelId`; a MemoryError says why not (unknown, read-only, tearing down). */
  mapGpadl(channelId: number, gpadlId: number, options: { readonly writable: boolean }): GpadlMapping | MemoryError;
  /** Releases a mapping; the last one of a GPADL the guest tears down lets GPADL_TORNDOWN go out. */
  unmapGpadl(mapping: GpadlMapping): void;
}
