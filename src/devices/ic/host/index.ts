/**
 * The host side of the integration components: one device (VSP) per service
 * on the KMCL server interface, the channel plumbing they share, and the
 * promise layer over the protocol's host session.
 */
export { IcHostChannel, type IcHostChannelOptions } from './ic-host-channel.js';
export {
  IcHostTransactions,
  IcTransactionError,
  icResultStatus,
  type IcHostSend,
  type IcHostTransactionsOptions,
  type IcTransactionFailure,
} from './ic-host-transactions.js';
export { PeriodicTimer } from './periodic-timer.js';
export { HEARTBEAT_DEFAULT_INTERVAL_MS, HeartbeatVsp, type HeartbeatReport, type HeartbeatVspOptions } from './heartbeat-vsp.js';
export { ShutdownVsp, type ShutdownFlags, type ShutdownRequestOptions, type ShutdownVspOptions } from './shutdown-vsp.js';
export {
  TIME_SYNC_DEFAULT_INTERVAL_MS,
  TimeSyncVsp,
  type TimeSyncHostClocks,
  type TimeSyncReport,
  type TimeSyncVspOptions,
} from './timesync-vsp.js';
export { KVP_ENUMERATE_DEFAULT_LIMIT, KvpVsp, type KvpVspOptions } from './kvp-vsp.js';
