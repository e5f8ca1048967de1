/**
 * The Hyper-V integration components (heartbeat, shutdown, time sync, KVP):
 * the protocols, the guest drivers (VSCs) on the KMCL client interface and
 * the host devices (VSPs) on the KMCL server interface.
 */
export * from './protocol/index.js';
export * from './guest/index.js';
export * from './host/index.js';
