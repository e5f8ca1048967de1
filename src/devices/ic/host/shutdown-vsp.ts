/**
 * The shutdown host device: asks the guest to power off, restart or
 * hibernate, and resolves with the IC status the guest answered with (the
 * guest answers before it acts, linux-vmbus.md §A.5.5).
 */
import {
  SHUTDOWN_HOST,
  type ShutdownOrder,
  type ShutdownResult,
} from '../protocol/index.js';
import { IcHostChannel, type IcVspOptions } from './ic-host-channel.js';
import { IcTransactionError, icResultStatus } from './ic-host-transactions.js';

/** The shutdown message's flag bits (bit 0 force, bit 1 restart, bit 2 hibernate); at most one of restart and hibernate. */
export interface ShutdownFlags {
  readonly force?: boolean;
  readonly restart?: boolean;
  readonly hibernate?: boolean;
}

export interface ShutdownRequestOptions {
  /** The reason code (default SHTDN_REASON_FLAG_PLANNED, as OpenVMM sends). */
  readonly reason?: number;
  /** Default: a power-off that is not forced. */
  readonly flags?: ShutdownFlags;
  /** Shown to the guest's users (UTF-16, up to 1023 characters). */
  readonly message?: string;
  /** Seconds the guest may take (default 0). */
  readonly timeoutSeconds?: number;
}

/** The options of the channel it offers (device, instance, versions, timeout, negotiation callbacks). */
export type ShutdownVspOptions = IcVspOptions;

export class ShutdownVsp {
  readonly ic: IcHostChannel<ShutdownOrder, ShutdownResult>;

  /** Offers the shutdown service to the guest. Throws a KmclError on a KMCL failure. */
  constructor(options: ShutdownVspOptions) {
    this.ic = IcHostChannel.offer({ ...options, service: SHUTDOWN_HOST });
  }

  /**
   * Asks the guest to shut down. Resolves with the guest's IC status
   * (IC_STATUS.HV_S_OK: it accepted); rejects with an IcTransactionError when
   * no answer came (or with 'bad-request' for restart and hibernate together).
   */
  async requestShutdown(options: ShutdownRequestOptions = {}): Promise<number> {
    const flags = options.flags ?? {};
    if (flags.restart === true && flags.hibernate === true) {
      throw new IcTransactionError('bad-request', 'a shutdown cannot be both a restart and a hibernation');
    }
    const kind = flags.restart === true ? 'restart' : flags.hibernate === true ? 'hibernate' : 'power-off';
    const result = await this.ic.request({
      kind,
      force: flags.force === true,
      ...(options.reason !== undefined && { reasonCode: options.reason }),
      ...(options.timeoutSeconds !== undefined && { timeoutSeconds: options.timeoutSeconds }),
      ...(options.message !== undefined && { message: options.message }),
    });
    return icResultStatus(result);
  }

  /** Rescinds the offer. */
  stop(): Promise<void> {
    return this.ic.stop();
  }
}
