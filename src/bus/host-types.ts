/**
 * What the host bus and the devices on it say to each other: an offer with
 * its handlers going in, open requests and the offer's handle coming out.
 */
import type { GuestMemory } from '../memory/index.js';
import type { Partition } from '../hv/index.js';
import type { TraceSink } from '../trace/index.js';
import type { NtStatus } from '../wire/ntstatus.js';
import type { OfferParams } from './server/index.js';
import type { ChannelEndpoint } from './channel-endpoint.js';
import type { RetryScheduler } from './message-poster.js';

export interface HostBusOptions {
  /** The host (root) partition; this thread receives for it on `hostVp`/`hostSint`. */
  readonly host: Partition;
  /** The guest partition the bus serves; the host bus makes its ports and connections. */
  readonly guest: Partition;
  /** The guest's memory, which its GPADLs describe. */
  readonly guestMemory: GuestMemory;
  /** The host VP that receives the bus's messages and events (default 0). */
  readonly hostVp?: number;
  /**
   * The host SINT of the bus (default 2, VMBUS_SINT). One host bus owns a SINT
   * of the host partition: another guest needs another SINT.
   */
  readonly hostSint?: number;
  /** Refuse versions above this one, to emulate an older host. */
  readonly maxVersion?: number;
  /** Copper feature flags offered (default: the server's). */
  readonly features?: number;
  /** The message connection id a 5.0+ VERSION_RESPONSE names (default 1). */
  readonly messageConnectionId?: number;
  /** Where message retries wait: the SeededScheduler of a seeded hypervisor; default the Node event loop. */
  readonly scheduler?: RetryScheduler;
  readonly trace?: TraceSink;
}

/** Hyper-V's default monitor scan interval, 100 µs in 100 ns units (linux-vmbus.md §D). */
export const DEFAULT_MONITOR_LATENCY = 1000;

/** An offer, as a device makes it. */
export interface HostOfferOptions extends Omit<OfferParams, 'monitored'> {
  /** Give the channel a monitor id, so the guest signals through the monitor page (coalesced over the latency). */
  readonly monitoredNotification?: boolean;
  /** Delay between the guest's trigger and the host's signal, 100 ns units (default DEFAULT_MONITOR_LATENCY). */
  readonly monitorLatency?: number;
}

/** The guest opened a channel; the device says yes or no. */
export interface HostOpenRequest {
  readonly offerId: number;
  readonly channelId: number;
  /**
   * The data plane, ready before the device answers, so a device that talks at
   * once (an integration component) can (OpenVMM #1850). Its incoming ring
   * starts masked: drain it, then `reader.unmaskInterruptsIfEmpty()` to wait.
   */
  readonly endpoint: ChannelEndpoint;
  /** The guest VP host→guest signals go to; null when the guest opened with interrupts disabled. */
  readonly targetVp: number | null;
  /** OPEN_CHANNEL's 120 user-data bytes (a copy). */
  readonly userData: Uint8Array;
  readonly ringGpadlId: number;
  /** The guest→host monitor id, or null when the guest signals by hypercall. */
  readonly monitorId: number | null;
  /** The negotiated protocol version and Copper features. */
  readonly version: number;
  readonly features: number;
}

/**
 * Servicing: a channel the guest kept open across a restore of the host bus,
 * handed back to its device. The endpoint is over the same rings, in guest
 * memory, so nothing in flight was lost; its incoming ring starts masked, as
 * after an open: drain it once.
 */
export interface HostRestoreRequest extends HostOpenRequest {
  /** What the device's `save` returned for this channel when the bus was saved, or null. */
  readonly savedState: Uint8Array | null;
  /** The GPADLs the guest created on the channel (the ring's included): map again the ones the device used. */
  readonly gpadlIds: readonly number[];
}

/** How the bus reaches a device. Handlers may be async; a throw or rejection counts as a failure. */
export interface HostChannelHandlers {
  /** Accepts (STATUS_SUCCESS) or refuses (an error NTSTATUS, sent to the guest in OPEN_RESULT) an open. */
  open(request: HostOpenRequest): Promise<NtStatus> | NtStatus;
  /** The channel closed (guest close, unload, or rescind): stop using the endpoint; the ring is unmapped after. */
  close(channelId: number): Promise<void> | void;
  /** The guest created a GPADL on the channel (map it with `HostBus.mapGpadl`). */
  gpadlCreated?(channelId: number, gpadlId: number): void;
  /** The guest tears down a GPADL the device maps: unmap it; GPADL_TORNDOWN follows the last unmap. */
  gpadlTeardown?(channelId: number, gpadlId: number): void;
  /**
   * Servicing: the device's own state of an open channel (what it has not yet
   * put in the ring, for example), saved with the bus by `HostBus.save`.
   */
  save?(channelId: number): Uint8Array;
  /**
   * Servicing: takes back a channel the guest kept open (synchronously).
   * STATUS_SUCCESS keeps it; any other answer, a throw, or no handler, and the
   * channel is rescinded when the restore completes, then offered again once
   * the guest releases it (OpenVMM revokes unclaimed channels the same way).
   */
  restore?(request: HostRestoreRequest): NtStatus;
}

/** A device's handle on its offer. */
export interface HostOffer {
  /** The server's handle of the offer; stable, never reused. */
  readonly offerId: number;
  /** The channel id while the guest holds the channel (after REQUEST_OFFERS), else null. */
  readonly channelId: number | null;
  /** The open channel's endpoint, or null. */
  readonly endpoint: ChannelEndpoint | null;
  /**
   * Rescinds the offer (its subchannels first); an open channel is closed
   * through the `close` handler. Resolves once the guest released the channel
   * id (REL_ID_RELEASED) or the connection went away.
   */
  rescind(): Promise<void>;
}

/** What a host bus holds, for leak checks: all zero (but `messagePorts`) once the guest unloaded. */
export interface HostBusResources {
  /** Offers not yet gone. */
  readonly offers: number;
  /** Channels with rings mapped and ports made. */
  readonly channels: number;
  /** Event flags routed to endpoints. */
  readonly routedFlags: number;
  /** Ports (with their connections) made in the guest for messages and events. */
  readonly guestPorts: number;
  /** The host's message ports (1 and 4, and the server's own id): kept until `close`. */
  readonly messagePorts: number;
  /** Messages waiting for the guest's buffers. */
  readonly backlog: number;
}
