/**
 * The idiomatic TypeScript API over the KMCL core: classes, options objects,
 * async/await, async iteration of incoming packets, and KmclError (with the
 * NTSTATUS the interface table returns for the same call) for every failure.
 */
export { Vmbus } from './vmbus.js';
export { Channel, type ChannelEvents, type ChannelState, type GpadlSource } from './channel.js';
export { DEFAULT_TRANSACTION_QUOTA, type ChannelOptions } from './channel-options.js';
export type { ExternalDataSource, RequestOptions, SendOptions } from './channel-send.js';
export { IncomingPacket } from './incoming-packet.js';
export { ExternalData } from './external-data.js';
export { Gpadl } from './gpadl.js';
export { GuestBuffer } from './guest-buffer.js';
