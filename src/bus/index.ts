/**
 * The bus drivers: the sans-IO VMBus server (host) and client (guest) tied to
 * the simulated hypervisor, with promises over their request/response
 * matching, and the data plane of each open channel (`ChannelEndpoint`: two
 * rings and the signals between the ends). This is the seam `src/kmcl/` builds on.
 */
export type { ChannelEndpoint, EndpointStats } from './channel-endpoint.js';
export { BusError } from './bus-error.js';
export { GuestBus } from './guest-bus.js';
export type { GuestBusOptions, GuestBusResources, GuestOpenOptions } from './guest-types.js';
export type { GuestOpenChannel } from './guest-channel.js';
export type { GuestOffer, OfferMatch } from './guest-offers.js';
export { HostBus } from './host-bus.js';
export {
  DEFAULT_MONITOR_LATENCY,
  type HostBusOptions,
  type HostBusResources,
  type HostChannelHandlers,
  type HostOffer,
  type HostOfferOptions,
  type HostOpenRequest,
  type HostRestoreRequest,
} from './host-types.js';
export type { SavedOfferState } from './host-restore.js';
export {
  HOST_BUS_SAVED_STATE_FORMAT,
  decodeHostBusSavedState,
  type BacklogMessage,
  type HostBusSavedState,
  type HostSavedChannel,
} from './host-saved-state.js';
export { EVENT_LOOP_RETRY, MAX_POST_WAIT, type RetryScheduler } from './message-poster.js';
export type { ChannelType, OfferKey, SavedChannel, SavedStateErrorCode, SavedStateFormat } from './server/index.js';
export {
  SAVED_STATE_HEADER_SIZE,
  SavedStateError,
  SavedStateReader,
  SavedStateWriter,
  crc32,
  openSavedState,
  sealSavedState,
} from './server/index.js';
