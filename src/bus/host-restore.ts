/**
 * A host bus between its restore and `completeRestore`: the saved state it
 * came from, the hypervisor objects of the old bus's open channels that no
 * restored channel has taken over yet, and the endpoints handed back to
 * devices, which may need the guest signalled once the restore completes.
 */
import { FIRST_PORT_SINT, SINT_COUNT, type Partition } from '../hv/index.js';
import type { OfferKey, SavedChannel } from './server/index.js';
import { SavedStateError, findSavedChannel } from './server/index.js';
import type { RingEndpoint } from './channel-endpoint.js';
import type { HostBusSavedState, HostSavedChannel } from './host-saved-state.js';
import { hostEventPortId } from './hv-ids.js';
import { guestSignalDue } from './ring-unstick.js';

/** What the bus's options say, to check a saved state against. */
export interface HostBusSetup {
  readonly hostVp: number;
  readonly hostSint: number;
  readonly messageConnectionIds: readonly number[];
  readonly guest: Partition;
}

/** What a saved state holds for one offer key: the server's channel and the device's saved bytes. */
export interface SavedOfferState {
  readonly channel: SavedChannel;
  readonly deviceState: Uint8Array | null;
}

export class HostRestore {
  readonly state: HostBusSavedState;
  /** Endpoints handed back to their devices, to unstick when the restore completes. */
  readonly restored: RingEndpoint[] = [];
  /** By channel id: open channels of the old bus whose ports, connections and monitor id may still exist. */
  readonly #kept = new Map<number, HostSavedChannel>();

  constructor(state: HostBusSavedState) {
    this.state = state;
    for (const channel of state.channels) this.#kept.set(channel.channelId, channel);
  }

  /** The old bus's channel `channelId`, while no restored channel has taken over its hypervisor objects. */
  kept(channelId: number): HostSavedChannel | undefined {
    return this.#kept.get(channelId);
  }

  /** A restored channel took over (or deleted) the hypervisor objects of `channelId`. */
  taken(channelId: number): void {
    this.#kept.delete(channelId);
  }

  /** What the saved state holds for `key`, if the guest knew the channel. */
  savedOffer(key: OfferKey): SavedOfferState | undefined {
    const channel = findSavedChannel(this.state.server, key);
    if (channel === undefined) return undefined;
    const host = this.state.channels.find((c) => c.channelId === channel.ids.channelId);
    return { channel, deviceState: host?.deviceState ?? null };
  }

  /**
   * Signals the guest on each restored channel whose rings say it waits for
   * a signal the old host may never have sent; returns their channel ids.
   */
  unstick(): number[] {
    const unstuck: number[] = [];
    for (const endpoint of this.restored) {
      if (!endpoint.isOpen || !guestSignalDue(endpoint)) continue;
      endpoint.signalPeer();
      unstuck.push(endpoint.channelId);
    }
    return unstuck;
  }

  /**
   * Deletes what the old bus kept for channels nobody took over (their
   * channels are rescinded). Statuses are ignored: a predecessor that was
   * closed without servicing left nothing behind.
   */
  releaseLeftovers(host: Partition, guest: Partition, hostSint: number): void {
    for (const { channelId, connectionId, monitorId } of this.#kept.values()) {
      guest.disconnect(connectionId);
      host.deletePort(hostEventPortId(hostSint, channelId));
      if (monitorId !== null) guest.monitor.release(monitorId);
    }
    this.#kept.clear();
  }
}

/** Why `state` cannot be restored on a bus set up as `setup`, or undefined. */
export function hostSetupProblem(state: HostBusSavedState, setup: HostBusSetup): SavedStateError | undefined {
  const sameIds =
    state.messageConnectionIds.length === setup.messageConnectionIds.length &&
    state.messageConnectionIds.every((id) => setup.messageConnectionIds.includes(id));
  if (state.hostVp !== setup.hostVp || state.hostSint !== setup.hostSint || !sameIds) {
    return new SavedStateError(
      'incompatible',
      `saved by a bus on host VP ${state.hostVp} SINT ${state.hostSint} with message connections ${state.messageConnectionIds.join(', ')}; ` +
        `this one is on VP ${setup.hostVp} SINT ${setup.hostSint} with ${setup.messageConnectionIds.join(', ')}`,
    );
  }
  const vps = setup.guest.vpCount;
  for (const { vp, sint } of state.guestMessagePorts) {
    if (vp >= vps || sint < FIRST_PORT_SINT || sint >= SINT_COUNT) {
      return new SavedStateError('bad-value', `a guest message port on VP ${vp} SINT ${sint}`);
    }
  }
  for (const vp of state.guestEventPorts) if (vp >= vps) return new SavedStateError('bad-value', `a guest event port on VP ${vp}`);
  return undefined;
}
