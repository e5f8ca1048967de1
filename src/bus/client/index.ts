/** The VMBus control-plane client (guest side), sans-IO: the public surface. */
export { VmbusClient } from './client.js';
export type { ChannelView, GpadlView, VmbusClientOptions } from './client.js';
export { DEFAULT_CLIENT_FEATURES, MAX_CONNECTION_ID } from './connect.js';
export type { ConnectRequest } from './connect.js';
export { LOCAL_COMPLETION_STATUS } from './events.js';
export type {
  ChannelOffer,
  ClientEvent,
  ClientEventKind,
  ClientNotifier,
  CompletionCause,
  ConnectFailure,
  MonitorPageGpas,
} from './events.js';
export { FIRST_GPADL_ID, GPADL_BODY_MAX_VALUES, GPADL_HEADER_MAX_VALUES, GPADL_MAX_VALUES } from './gpadls.js';
export type { GpadlState } from './gpadls.js';
export type { TlConnectRequest } from './hvsock.js';
export type { ClientCounts } from './invariants.js';
export { MAX_CHANNEL_ID, MONITOR_ID_COUNT } from './offers.js';
export type { ChannelState } from './offers.js';
export { OPEN_USER_DATA_SIZE } from './open-close.js';
export type { OpenRequest } from './open-close.js';
export { ClientRequestError } from './request-error.js';
export type { ClientRequestErrorCode } from './request-error.js';
export type { ConnectionPhaseName } from './session.js';
