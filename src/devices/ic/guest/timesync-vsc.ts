/**
 * The time sync guest driver: takes the host's clock samples (v4 reference
 * form or the v1/v3 legacy form, chosen by the negotiated version), answers
 * each, and keeps the latest as an adjustment from which it computes how far
 * this guest's clock is from the host's. It exposes the offset rather than
 * setting any clock: the process does not own the machine's time.
 */
import type { Guid, PDEVICE_OBJECT } from '../../../index.js';
import type { WireError } from '../../../wire/index.js';
import {
  IC_SERVICES,
  filetimeFromUnixNs,
  respondTimeSync,
  timeSyncClockOffset,
  timeSyncHostTimeAt,
  type TimeSyncAdjustment,
} from '../protocol/index.js';
import { IcGuestChannel } from './ic-channel.js';

/** The guest's two clocks, both in 100 ns units. */
export interface TimeSyncGuestClocks {
  /**
   * The partition reference counter the host's v4 samples are stamped with.
   * Default: the KMCL scheduler's clock of the device, which is the
   * simulated hypervisor's time in both partitions.
   */
  readonly referenceTime: () => bigint;
  /** The guest's wall clock, FILETIME (100 ns since 1601-01-01 UTC). Default: `Date.now()`. */
  readonly guestTime: () => bigint;
}

/** What the guest made of one sample. */
export interface TimeSyncSample {
  readonly adjustment: TimeSyncAdjustment;
  /** Host clock minus guest clock when the sample was taken in, 100 ns units (positive: the guest is behind). */
  readonly offset: bigint;
}

export interface TimeSyncVscOptions {
  /** The VMBus device object. */
  readonly device: PDEVICE_OBJECT;
  readonly instanceId?: Guid;
  readonly clocks?: Partial<TimeSyncGuestClocks>;
  /** Each sample, once its answer is in the ring. */
  readonly onSample?: (sample: TimeSyncSample) => void;
  readonly onFailure?: (error: WireError) => void;
}

/** The wall clock as FILETIME. */
export function wallClockFiletime(): bigint {
  return filetimeFromUnixNs(BigInt(Date.now()) * 1_000_000n);
}

export class TimeSyncVsc {
  /** The channel: its state, negotiated versions and counters. */
  readonly ic: IcGuestChannel<TimeSyncAdjustment>;
  readonly clocks: TimeSyncGuestClocks;
  #last: TimeSyncSample | undefined;

  /** Starts the driver: the channel opens when the host offers the service. Throws a KmclError on a KMCL failure. */
  constructor(options: TimeSyncVscOptions) {
    const scheduler = options.device.context.scheduler;
    this.clocks = {
      referenceTime: options.clocks?.referenceTime ?? (() => BigInt(Math.round(scheduler.now()))),
      guestTime: options.clocks?.guestTime ?? wallClockFiletime,
    };
    this.ic = IcGuestChannel.open<TimeSyncAdjustment>({
      device: options.device,
      spec: IC_SERVICES.timeSync,
      instanceId: options.instanceId,
      respond: (request, versions) => respondTimeSync(request, { versions, referenceTime: this.clocks.referenceTime() }),
      onEvent: (adjustment) => {
        const offset = timeSyncClockOffset(adjustment, this.clocks.referenceTime(), this.clocks.guestTime());
        this.#last = { adjustment, offset };
        options.onSample?.(this.#last);
      },
      onFailure: options.onFailure,
    });
  }

  /** The latest sample and the offset computed from it; undefined before the first. */
  get lastSample(): TimeSyncSample | undefined {
    return this.#last;
  }

  /** The host's clock now (FILETIME), carried forward from the latest sample by the reference counter. */
  hostTimeNow(): bigint | undefined {
    return this.#last === undefined ? undefined : timeSyncHostTimeAt(this.#last.adjustment, this.clocks.referenceTime());
  }

  /** Host clock minus guest clock now, 100 ns units; undefined before the first sample. */
  clockOffset(): bigint | undefined {
    const last = this.#last;
    return last === undefined ? undefined : timeSyncClockOffset(last.adjustment, this.clocks.referenceTime(), this.clocks.guestTime());
  }

  /** Closes and disposes of the channel. */
  stop(): Promise<void> {
    return this.ic.stop();
  }
}
