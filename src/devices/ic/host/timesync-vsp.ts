/**
 * The time sync host device: once the guest has negotiated, it sends a SYNC
 * (set your clock now), then a SAMPLE every `intervalMs` (OpenVMM: every
 * 5 s, linux-vmbus.md §A.5.6), each carrying the host's clock and the
 * guest's reference counter at the same instant; the form (v4 reference or
 * v1/v3 legacy) follows the negotiated version.
 */
import type { Guid, KmclHostDeviceObject } from '../../../index.js';
import type { WireError } from '../../../wire/index.js';
import {
  TIME_SYNC_HOST,
  filetimeFromUnixNs,
  type IcVersionLists,
  type IcVersions,
  type TimeSyncKind,
  type TimeSyncResult,
  type TimeSyncSampleOrder,
} from '../protocol/index.js';
import { IcHostChannel } from './ic-host-channel.js';
import { IcTransactionError, icResultStatus } from './ic-host-transactions.js';
import { PeriodicTimer } from './periodic-timer.js';

/** How often the host sends a sample unless told otherwise. */
export const TIME_SYNC_DEFAULT_INTERVAL_MS = 5000;

/** The host's two clocks, 100 ns units. */
export interface TimeSyncHostClocks {
  /** The host's wall clock, FILETIME (100 ns since 1601-01-01 UTC). Default: `Date.now()`. */
  readonly hostTime: () => bigint;
  /**
   * The guest's reference counter as the host reads it. Default: the KMCL
   * scheduler's clock of the host device, the simulated hypervisor's time,
   * which the guest reads through its own scheduler.
   */
  readonly referenceTime: () => bigint;
}

/** One sample the guest answered. */
export interface TimeSyncReport {
  readonly order: TimeSyncSampleOrder;
  /** The guest's IC status (IC_STATUS.HV_S_OK: taken). */
  readonly status: number;
}

export interface TimeSyncVspOptions {
  /** The host device object of the guest's VMBus. */
  readonly device: KmclHostDeviceObject;
  readonly instanceId?: Guid;
  readonly offer?: IcVersionLists;
  readonly intervalMs?: number;
  readonly clocks?: Partial<TimeSyncHostClocks>;
  /** Each message the guest answered, with its status. */
  readonly onSample?: (report: TimeSyncReport) => void;
  /** A periodic message that got no answer (malformed, timed out), not counting the channel closing. */
  readonly onFailure?: (error: IcTransactionError) => void;
  readonly onNegotiated?: (versions: IcVersions) => void;
  readonly onNegotiationFailed?: (error: WireError) => void;
}

export class TimeSyncVsp {
  readonly ic: IcHostChannel<TimeSyncSampleOrder, TimeSyncResult>;
  readonly clocks: TimeSyncHostClocks;
  #needSync = true;
  readonly #timer: PeriodicTimer;
  readonly #options: TimeSyncVspOptions;

  /** Offers the time sync service to the guest. Throws a KmclError on a KMCL failure. */
  constructor(options: TimeSyncVspOptions) {
    this.#options = options;
    const interval = options.intervalMs ?? TIME_SYNC_DEFAULT_INTERVAL_MS;
    this.ic = IcHostChannel.offer({
      device: options.device,
      service: TIME_SYNC_HOST,
      instanceId: options.instanceId,
      offer: options.offer,
      timeoutMs: interval,
      onNegotiated: (versions) => {
        // A new protocol run: the guest's clock is set afresh first.
        this.#needSync = true;
        options.onNegotiated?.(versions);
        this.#timer.start();
      },
      onNegotiationFailed: options.onNegotiationFailed,
    });
    const scheduler = this.ic.scheduler;
    this.clocks = {
      hostTime: options.clocks?.hostTime ?? (() => filetimeFromUnixNs(BigInt(Date.now()) * 1_000_000n)),
      referenceTime: options.clocks?.referenceTime ?? (() => BigInt(Math.round(scheduler.now()))),
    };
    this.#timer = new PeriodicTimer(scheduler, interval * 10_000, () => this.#tick());
  }

  /**
   * Sends one message of `kind` now, stamped with both clocks read together;
   * resolves with the guest's IC status, rejects with an IcTransactionError
   * when no answer came.
   */
  async send(kind: TimeSyncKind): Promise<number> {
    const order: TimeSyncSampleOrder = { kind, parentTime: this.clocks.hostTime(), vmReferenceTime: this.clocks.referenceTime() };
    const status = icResultStatus(await this.ic.request(order));
    this.#options.onSample?.({ order, status });
    return status;
  }

  /** Stops sampling and rescinds the offer. */
  stop(): Promise<void> {
    this.#timer.stop();
    return this.ic.stop();
  }

  #tick(): boolean {
    if (this.ic.state !== 'ready') return false;
    // A transaction still open (the timeout, one interval, normally ends it first): skip this tick.
    if (this.ic.pending > 0) return true;
    const kind = this.#needSync ? 'sync' : 'sample';
    this.#needSync = false;
    this.send(kind).catch((error: unknown) => {
      if (error instanceof IcTransactionError && error.reason !== 'closed') this.#options.onFailure?.(error);
    });
    return true;
  }
}
