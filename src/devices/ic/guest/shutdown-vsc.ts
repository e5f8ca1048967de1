/**
 * The shutdown guest driver: decodes the host's request (power off, restart
 * or hibernate, forced or not, with a reason and a message), asks the user's
 * `decide` whether to accept, answers with that status, and only once the
 * answer is in the ring calls `onShutdown` to act (Linux
 * `drivers/hv/hv_util.c` answers before it schedules the power-off).
 */
import type { Guid, PDEVICE_OBJECT } from '../../../index.js';
import type { WireError } from '../../../wire/index.js';
import {
  IC_SERVICES,
  IC_STATUS,
  respondShutdown,
  type ShutdownDecision,
  type ShutdownRequest,
} from '../protocol/index.js';
import { IcGuestChannel } from './ic-channel.js';

export interface ShutdownVscOptions {
  /** The VMBus device object. */
  readonly device: PDEVICE_OBJECT;
  readonly instanceId?: Guid;
  /** The IC status to answer with (default: accept every request, HV_S_OK). */
  readonly decide?: ShutdownDecision;
  /** Carries out an accepted request; called after the answer was sent, never for a refused one. */
  readonly onShutdown: (request: ShutdownRequest) => void;
  readonly onFailure?: (error: WireError) => void;
}

const acceptAll: ShutdownDecision = () => IC_STATUS.HV_S_OK;

export class ShutdownVsc {
  /** The channel: its state, negotiated versions and counters. */
  readonly ic: IcGuestChannel<ShutdownRequest>;

  /** Starts the driver: the channel opens when the host offers the service. Throws a KmclError on a KMCL failure. */
  constructor(options: ShutdownVscOptions) {
    const decide = options.decide ?? acceptAll;
    this.ic = IcGuestChannel.open<ShutdownRequest>({
      device: options.device,
      spec: IC_SERVICES.shutdown,
      instanceId: options.instanceId,
      respond: (request, versions) => respondShutdown(request, { versions, decide }),
      onEvent: options.onShutdown,
      onFailure: options.onFailure,
    });
  }

  /** Closes and disposes of the channel. */
  stop(): Promise<void> {
    return this.ic.stop();
  }
}
