/** The host side of the VMBus control plane: a sans-IO server state machine. */
export { VmbusServer, type OfferStatus } from './server.js';
export type { RestoredChannel } from './restore.js';
export {
  SERVER_SAVED_STATE_FORMAT,
  decodeServerSavedState,
  encodeServerSavedState,
  findSavedChannel,
  type OfferKey,
  type SavedChannel,
  type SavedChannelState,
  type SavedConnection,
  type SavedGpadl,
  type SavedGpadlState,
  type ServerSavedState,
} from './saved-state.js';
export { SavedStateError, type SavedStateErrorCode } from './saved-state-error.js';
export { SAVED_STATE_HEADER_SIZE, SavedStateReader, SavedStateWriter, openSavedState, sealSavedState, type SavedStateFormat } from './saved-bytes.js';
export { crc32 } from './crc32.js';
export { DEFAULT_SERVER_FEATURES, type ServerOptions } from './options.js';
export type {
  ConnectionParams,
  ContactRequest,
  HvsockConnectRequest,
  MessageTarget,
  MonitorPages,
  OfferId,
  OpenChannelAction,
  ServerAction,
  ServerNotifier,
} from './notifier.js';
export {
  HVSOCK_PARAMS_VERSION_RS5,
  PIPE_FLAG,
  PIPE_TYPE,
  PIPE_USER_DEFINED_SIZE,
  USER_DEFINED_SIZE,
  type ChannelType,
  type OfferParams,
} from './offer-params.js';
export { ServerRequestError, type ServerRequestErrorCode } from './request-error.js';
export type { ServerSnapshot } from './invariants.js';
export type { ChannelStateKind } from './channel.js';
export { MAX_PENDING_HVSOCK_REQUESTS } from './hvsock.js';
export { MAX_CHANNEL_ID, MAX_MONITOR_ID } from './core.js';
export { NO_MONITOR_ID } from './offers.js';
