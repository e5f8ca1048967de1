/**
 * The heartbeat guest driver: answers each of the host's heartbeats with the
 * sequence number plus one and this guest's application state
 * (`protocol/heartbeat.ts`), so the host sees the guest alive.
 */
import type { Guid, PDEVICE_OBJECT } from '../../../index.js';
import type { WireError } from '../../../wire/index.js';
import {
  HEARTBEAT_APPLICATION_STATE,
  IC_SERVICES,
  respondHeartbeat,
  type HeartbeatApplicationState,
  type HeartbeatBeat,
} from '../protocol/index.js';
import { IcGuestChannel } from './ic-channel.js';

export interface HeartbeatVscOptions {
  /** The VMBus device object. */
  readonly device: PDEVICE_OBJECT;
  readonly instanceId?: Guid;
  /** The state reported with each beat (default HEALTHY); change it later through `applicationState`. */
  readonly applicationState?: HeartbeatApplicationState;
  /** Each answered heartbeat, once its answer is in the ring. */
  readonly onBeat?: (beat: HeartbeatBeat) => void;
  readonly onFailure?: (error: WireError) => void;
}

export class HeartbeatVsc {
  /** Reported to the host with every following beat. */
  applicationState: HeartbeatApplicationState;
  /** The channel: its state, negotiated versions and counters. */
  readonly ic: IcGuestChannel<HeartbeatBeat>;

  /** Starts the driver: the channel opens when the host offers the service. Throws a KmclError on a KMCL failure. */
  constructor(options: HeartbeatVscOptions) {
    this.applicationState = options.applicationState ?? HEARTBEAT_APPLICATION_STATE.HEALTHY;
    this.ic = IcGuestChannel.open<HeartbeatBeat>({
      device: options.device,
      spec: IC_SERVICES.heartbeat,
      instanceId: options.instanceId,
      respond: (request, versions) => respondHeartbeat(request, { versions, applicationState: this.applicationState }),
      onEvent: options.onBeat,
      onFailure: options.onFailure,
    });
  }

  /** Closes and disposes of the channel. */
  stop(): Promise<void> {
    return this.ic.stop();
  }
}
