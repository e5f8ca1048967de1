/**
 * The heartbeat host device: once the guest has negotiated, it sends a
 * heartbeat every `intervalMs` (Hyper-V: about every 2 s, linux-vmbus.md
 * §A.5.4), checks the guest answered with the sequence number plus one, and
 * reports each beat with the guest's application state. A beat still
 * unanswered when the next is due is reported missed; the host then
 * negotiates afresh (the late answer could not be told from the next one)
 * and beats on once the guest answers that.
 */
import type { Guid, KmclHostDeviceObject } from '../../../index.js';
import type { WireError } from '../../../wire/index.js';
import {
  HEARTBEAT_HOST,
  icStatusName,
  type HeartbeatApplicationState,
  type HeartbeatRequest,
  type HeartbeatResult,
  type IcVersionLists,
  type IcVersions,
} from '../protocol/index.js';
import { IcHostChannel } from './ic-host-channel.js';
import { IcTransactionError } from './ic-host-transactions.js';
import { PeriodicTimer } from './periodic-timer.js';

/** How often the host sends a heartbeat unless told otherwise. */
export const HEARTBEAT_DEFAULT_INTERVAL_MS = 2000;

/** One answered heartbeat. */
export interface HeartbeatReport {
  /** The sequence number the guest sent back (the one sent, plus one). */
  readonly sequenceNumber: bigint;
  readonly applicationState: HeartbeatApplicationState;
  /** The host scheduler's clock when the answer came, 100 ns units. */
  readonly time: number;
}

export interface HeartbeatVspOptions {
  /** The host device object of the guest's VMBus. */
  readonly device: KmclHostDeviceObject;
  readonly instanceId?: Guid;
  readonly offer?: IcVersionLists;
  readonly intervalMs?: number;
  /** Each beat the guest answered. */
  readonly onBeat?: (report: HeartbeatReport) => void;
  /** The beat with this sequence number was still unanswered when the next one was due. */
  readonly onMissed?: (sequenceNumber: bigint) => void;
  /** A beat answered badly (a failure status, a malformed answer). */
  readonly onFailure?: (error: IcTransactionError) => void;
  readonly onNegotiated?: (versions: IcVersions) => void;
  readonly onNegotiationFailed?: (error: WireError) => void;
}

export class HeartbeatVsp {
  readonly ic: IcHostChannel<HeartbeatRequest, HeartbeatResult>;
  /** Beats answered and beats found unanswered when the next was due. */
  readonly counts = { beats: 0, missed: 0 };
  #last: HeartbeatReport | undefined;
  #next = 0n;
  readonly #timer: PeriodicTimer;
  readonly #options: HeartbeatVspOptions;

  /** Offers the heartbeat service to the guest. Throws a KmclError on a KMCL failure. */
  constructor(options: HeartbeatVspOptions) {
    this.#options = options;
    this.ic = IcHostChannel.offer({
      device: options.device,
      service: HEARTBEAT_HOST,
      instanceId: options.instanceId,
      offer: options.offer,
      timeoutMs: options.intervalMs ?? HEARTBEAT_DEFAULT_INTERVAL_MS,
      onNegotiated: (versions) => {
        options.onNegotiated?.(versions);
        // A new protocol run beats at once, then every interval from now.
        this.#timer.start();
      },
      onNegotiationFailed: options.onNegotiationFailed,
    });
    const interval = (options.intervalMs ?? HEARTBEAT_DEFAULT_INTERVAL_MS) * 10_000;
    this.#timer = new PeriodicTimer(this.ic.scheduler, interval, () => this.#beat());
  }

  /** The latest answered beat. */
  get lastBeat(): HeartbeatReport | undefined {
    return this.#last;
  }

  /** Stops beating and rescinds the offer. */
  stop(): Promise<void> {
    this.#timer.stop();
    return this.ic.stop();
  }

  /** One tick: false stops the timer until the next negotiation. */
  #beat(): boolean {
    if (this.ic.state !== 'ready') return false;
    // The timeout (one interval) ends a beat before the next tick; should a tick come first, let the beat finish.
    if (this.ic.pending > 0) return true;
    const request = { sequenceNumber: this.#next };
    this.ic.request(request).then(
      (result) => this.#answered(request, result),
      (error: unknown) => this.#failed(error),
    );
    return true;
  }

  #answered(request: HeartbeatRequest, result: HeartbeatResult): void {
    if (!result.ok) {
      const message = `heartbeat ${request.sequenceNumber} answered ${icStatusName(result.status)}`;
      this.#options.onFailure?.(new IcTransactionError('guest-status', message, undefined, result.status));
      return;
    }
    this.#next = result.sequenceNumber;
    this.counts.beats++;
    this.#last = { sequenceNumber: result.sequenceNumber, applicationState: result.applicationState, time: this.ic.scheduler.now() };
    this.#options.onBeat?.(this.#last);
  }

  #failed(error: unknown): void {
    if (!(error instanceof IcTransactionError) || error.reason === 'closed') return;
    if (error.reason === 'timeout') {
      this.counts.missed++;
      this.#options.onMissed?.(this.#next);
    } else {
      this.#options.onFailure?.(error);
    }
  }
}
