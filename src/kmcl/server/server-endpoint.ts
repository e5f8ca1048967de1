/**
 * Turning a channel handle into a server channel: the channel core and its
 * server part together, or null (a bad handle, a client channel, or a
 * channel in the wrong state), which the server functions answer with
 * STATUS_INVALID_PARAMETER_1.
 */
import { configurableChannel } from '../channel/init-setters.js';
import type { KmclChannel } from '../channel/channel.js';
import { channelFrom } from '../handles.js';
import type { ServerChannel } from './server-channel.js';

export interface ServerEndpoint {
  readonly channel: KmclChannel;
  readonly server: ServerChannel;
}

function endpointOf(channel: KmclChannel | null): ServerEndpoint | null {
  const server = channel?.server ?? null;
  return channel !== null && server !== null ? { channel, server } : null;
}

/** Any live server channel. */
export function serverEndpoint(handle: unknown): ServerEndpoint | null {
  return endpointOf(channelFrom(handle));
}

/** A server channel that may be configured now: disabled and not changing state (the Init functions' rule). */
export function configurableServer(handle: unknown): ServerEndpoint | null {
  return endpointOf(configurableChannel(handle));
}
