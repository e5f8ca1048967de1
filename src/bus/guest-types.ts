/**
 * What the guest bus is given and what it reports: its options, how a
 * channel's rings are laid out, and what it holds for leak checks.
 */
import type { Partition } from '../hv/index.js';
import type { GuestMemory, PageAllocator, PagePlacement } from '../memory/index.js';
import type { TraceSink } from '../trace/index.js';
import type { VmbusVersion } from '../wire/messages/index.js';
import type { RetryScheduler } from './message-poster.js';

export interface GuestBusOptions {
  /** The guest partition; this thread receives its SINT 2 messages and events. */
  readonly partition: Partition;
  readonly memory: GuestMemory;
  /** Where ring and monitor pages come from (and go back to). */
  readonly allocator: PageAllocator;
  /** The VP that receives the host's messages (default 0). */
  readonly vp?: number;
  /** The newest version to try (default 6.0); older ones follow when the host refuses. */
  readonly maxVersion?: VmbusVersion;
  /** The oldest version to try (default 0.13). */
  readonly minVersion?: VmbusVersion;
  /** Copper feature flags to ask for at 6.0 (default: the client's). */
  readonly featureFlags?: number;
  /** Offer the host two monitor pages so it may give channels monitor ids (default true, as Linux does). */
  readonly monitorPages?: boolean;
  /** Where message retries wait: the SeededScheduler of a seeded hypervisor; default the Node event loop. */
  readonly scheduler?: RetryScheduler;
  readonly trace?: TraceSink;
}

/** How `openChannel` lays out a channel's rings. */
export interface GuestOpenOptions {
  /** Pages of the guest→host ring, its control page included (at least 2). */
  readonly outgoingRingPages: number;
  /** Pages of the host→guest ring, its control page included (at least 2). */
  readonly incomingRingPages: number;
  /** The VP host→guest signals go to (default the bus's message VP). */
  readonly targetVp?: number;
  /** Up to 120 bytes for the host's device. */
  readonly userData?: Uint8Array;
  /** Where the ring pages lie (default 'any'). */
  readonly placement?: PagePlacement;
}

/** What a guest bus holds, for leak checks: all zero after `unload`. */
export interface GuestBusResources {
  readonly openChannels: number;
  /** Pages of rings and monitor pages not yet freed. */
  readonly pages: number;
  readonly routedFlags: number;
  readonly pendingRequests: number;
  readonly backlog: number;
}
