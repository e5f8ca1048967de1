/**
 * Hyper-V integration-component protocols without a channel: byte layouts,
 * version negotiation, and each service's guest responder and host requester
 * as pure functions and a sans-IO host session. The IC devices drive these
 * over KMCL channels; nothing here does I/O or keeps timers.
 */
export * from './ic-status.js';
export * from './ic-frame.js';
export * from './negotiation.js';
export * from './ic-services.js';
export * from './guest-responder.js';
export * from './host-session.js';
export * from './heartbeat.js';
export * from './shutdown.js';
export * from './timesync.js';
export * from './kvp-record.js';
export * from './kvp-auto-pool.js';
export * from './kvp-guest.js';
export * from './kvp-host.js';
export { readUtf16Sized, readUtf16UntilNul, writeUtf16Field } from './utf16.js';
