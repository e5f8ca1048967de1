/**
 * What the KMCL core needs from the guest side of the bus: the subset of
 * `GuestBus` (src/bus) it calls, and the open channel it gets back (the bus's
 * `ChannelEndpoint` with its close). `GuestBus` fits it as is; the core
 * depends on this seam only, so it can also run over a loopback pair of rings.
 */
import type { ChannelEndpoint as BusChannelEndpoint } from '../bus/index.js';
import type { GpaRange } from '../memory/index.js';
import type { Guid } from '../wire/guid.js';
import type { NtStatus } from '../wire/ntstatus.js';

/**
 * The part of the bus's `ChannelEndpoint` the core uses: the two rings and
 * the signals, nothing else, so the core is bound to the data plane's shape
 * only (and a test or benchmark can supply just that).
 */
export type ChannelEndpoint = Pick<BusChannelEndpoint, 'channelId' | 'reader' | 'writer' | 'signalPeer' | 'onSignal'>;

/** A guest channel the bus opened: its data plane and its close. */
export interface OpenChannelPort extends ChannelEndpoint {
  /** CLOSE_CHANNEL, ring GPADL teardown, ring pages freed. */
  close(): Promise<void>;
}

/** An offer as the guest bus reports it (the fields of OFFER_CHANNEL the KMCL uses; `GuestOffer` has them). */
export interface OfferInfo {
  readonly channelId: number;
  readonly interfaceId: Guid;
  readonly instanceId: Guid;
  /** 0 for a primary channel, 1.. for its subchannels. */
  readonly subchannelIndex: number;
  /** OFFER_CHANNEL chn_flags. */
  readonly flags: number;
  /** MMIO space the host asks the guest to reserve for the device, in megabytes. */
  readonly mmioMegabytes: number;
  /** The monitor id guest→host signals go through, or null when the channel is not monitored. */
  readonly monitorId: number | null;
}

/**
 * The guest partition's monitored notifications (`Partition.monitor`): where
 * VmbChannelSetInterruptLatency programs the latency of a monitored channel.
 */
export interface MonitorLatencyPort {
  readonly page: { latency(monitorId: number): number };
  /** False when the monitor id is not allocated. */
  setLatency(monitorId: number, latency100ns: number): boolean;
}

/** Options of `openChannel`: ring sizes in pages, the target VP, OPEN_CHANNEL user data. */
export interface OpenChannelOptions {
  outgoingRingPages: number;
  incomingRingPages: number;
  targetVp?: number;
  userData?: Uint8Array;
}

/** The guest bus operations the KMCL core uses; `GuestBus` provides them. */
export interface GuestBusPort {
  offers(): readonly OfferInfo[];
  onOffer(handler: (offer: OfferInfo) => void): () => void;
  onRescind(channelId: number, handler: () => void): () => void;
  /** Resolves the GPADL id once the host confirmed it (GPADL_CREATED); rejects with a status-carrying error. */
  createGpadl(channelId: number, ranges: readonly GpaRange[], options?: { readOnly?: boolean }): Promise<number>;
  /** Resolves on GPADL_TORNDOWN, which the host sends once it no longer maps the GPADL. */
  teardownGpadl(channelId: number, gpadlId: number): Promise<void>;
  openChannel(channelId: number, options: OpenChannelOptions): Promise<OpenChannelPort>;
  releaseId(channelId: number): void;
}

/** The NTSTATUS a rejected bus call carries (`BusError.status`), or STATUS_UNSUCCESSFUL. */
export function busFailureStatus(error: unknown, fallback: NtStatus): NtStatus {
  if (typeof error === 'object' && error !== null && 'status' in error) {
    const status = (error as { status: unknown }).status;
    if (typeof status === 'number' && Number.isInteger(status)) return status >>> 0;
  }
  return fallback;
}
