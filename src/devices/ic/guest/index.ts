/**
 * The guest side of the integration components: one driver (VSC) per
 * service on the KMCL client interface, and the channel plumbing they share.
 */
export { IC_MAXIMUM_PACKET_SIZE, IC_RING_PAGE_COUNT, IcGuestChannel } from './ic-channel.js';
export type { IcGuestChannelOptions, IcGuestChannelState, IcGuestCounters, IcResponder } from './ic-channel.js';
export { HeartbeatVsc, type HeartbeatVscOptions } from './heartbeat-vsc.js';
export { ShutdownVsc, type ShutdownVscOptions } from './shutdown-vsc.js';
export { TimeSyncVsc, wallClockFiletime, type TimeSyncGuestClocks, type TimeSyncSample, type TimeSyncVscOptions } from './timesync-vsc.js';
export { KvpVsc, type KvpVscOptions } from './kvp-vsc.js';
export { KVP_INTEGRATION_SERVICES_VERSION, osAutoPool } from './kvp-os-auto-pool.js';
