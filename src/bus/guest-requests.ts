/**
 * The guest driver's requests that wait for the host, as promises keyed by
 * the ids the sans-IO client matches answers with (GPADL id, channel id and
 * open id). Every request the client accepted ends in exactly one completion
 * event (src/bus/client/events.ts), so every promise here settles once.
 */
import { NTSTATUS, ntStatusName } from '../wire/ntstatus.js';
import { formatVersion } from '../wire/messages/index.js';
import type { ClientEvent } from './client/index.js';
import { BusError } from './bus-error.js';
import { deferred, type Deferred } from './deferred.js';

type EventOf<K extends ClientEvent['kind']> = Extract<ClientEvent, { kind: K }>;

/** What a successful negotiation settled. */
export type Connected = EventOf<'connected'>;

export class GuestRequests {
  #connect: Deferred<Connected> | null = null;
  #offersDelivered: Deferred<void> | null = null;
  #unload: Deferred<void> | null = null;
  readonly #gpadlCreates = new Map<number, Deferred<number>>();
  readonly #gpadlTeardowns = new Map<number, Deferred<void>>();
  readonly #opens = new Map<number, { readonly openId: number; readonly deferred: Deferred<void> }>();

  /** Waits for 'connected' or 'connect-failed'. Call before `VmbusClient.connect`. */
  expectConnect(): Promise<Connected> {
    this.#connect = deferred();
    return this.#connect.promise;
  }

  /** Waits for ALL_OFFERS_DELIVERED. */
  expectOffersDelivered(): Promise<void> {
    this.#offersDelivered = deferred();
    return this.#offersDelivered.promise;
  }

  /** Waits for 'unloaded'; call before `VmbusClient.unload`, which may complete it at once (pre-Win7). */
  expectUnload(): Promise<void> {
    this.#unload = deferred();
    return this.#unload.promise;
  }

  /** The client refused the UNLOAD, so no 'unloaded' will come for it. */
  abandonUnload(): void {
    this.#unload = null;
  }

  /** Resolves with the GPADL id on GPADL_CREATED(0), rejects with the status otherwise. */
  expectGpadlCreated(gpadlId: number): Promise<number> {
    const pending = deferred<number>();
    this.#gpadlCreates.set(gpadlId, pending);
    return pending.promise;
  }

  /**
   * Resolves when the GPADL is gone (GPADL_TORNDOWN, or released with its
   * channel or the connection). Everyone waiting for one GPADL shares one promise.
   */
  expectGpadlTorndown(gpadlId: number): Promise<void> {
    let pending = this.#gpadlTeardowns.get(gpadlId);
    if (pending === undefined) {
      pending = deferred<void>();
      this.#gpadlTeardowns.set(gpadlId, pending);
    }
    return pending.promise;
  }

  /** Resolves on OPEN_RESULT(0) for this open id, rejects with the status otherwise. */
  expectOpenResult(channelId: number, openId: number): Promise<void> {
    const pending = deferred<void>();
    this.#opens.set(channelId, { openId, deferred: pending });
    return pending.promise;
  }

  /** Settles whatever `event` completes; false if it completes no request of ours. */
  settle(event: ClientEvent): boolean {
    switch (event.kind) {
      case 'connected': {
        const pending = this.#connect;
        this.#connect = null;
        pending?.resolve(event);
        return pending !== null;
      }
      case 'connect-failed': {
        const pending = this.#connect;
        this.#connect = null;
        const why =
          event.reason === 'connection-state'
            ? `the host accepted ${formatVersion(event.version)} with connection state ${event.connectionState}`
            : `${event.reason} (last version tried ${formatVersion(event.version)})`;
        pending?.reject(new BusError(NTSTATUS.STATUS_REVISION_MISMATCH, `VMBus connect failed: ${why}`));
        return pending !== null;
      }
      case 'all-offers-delivered': {
        const pending = this.#offersDelivered;
        this.#offersDelivered = null;
        pending?.resolve();
        return pending !== null;
      }
      case 'unloaded': {
        const pending = this.#unload;
        this.#unload = null;
        pending?.resolve();
        return pending !== null;
      }
      case 'gpadl-created': {
        const pending = this.#gpadlCreates.get(event.gpadlId);
        this.#gpadlCreates.delete(event.gpadlId);
        if (event.status === NTSTATUS.STATUS_SUCCESS) pending?.resolve(event.gpadlId);
        else pending?.reject(failed(event.status, `GPADL ${event.gpadlId} on channel ${event.channelId} (${event.cause})`));
        return pending !== undefined;
      }
      case 'gpadl-torndown': {
        const pending = this.#gpadlTeardowns.get(event.gpadlId);
        this.#gpadlTeardowns.delete(event.gpadlId);
        pending?.resolve();
        return pending !== undefined;
      }
      case 'open-result': {
        const pending = this.#opens.get(event.channelId);
        if (pending === undefined || pending.openId !== event.openId) return false;
        this.#opens.delete(event.channelId);
        if (event.status === NTSTATUS.STATUS_SUCCESS) pending.deferred.resolve();
        else pending.deferred.reject(failed(event.status, `open of channel ${event.channelId} (${event.cause})`));
        return true;
      }
      case 'offer':
      case 'rescinded':
      case 'modify-channel-result':
      case 'tl-connect-result':
      case 'modify-connection-result':
      case 'paused':
        return false;
    }
  }

  /** Requests still waiting, for leak checks. */
  get pendingCount(): number {
    const singles = [this.#connect, this.#offersDelivered, this.#unload].filter((d) => d !== null).length;
    return singles + this.#gpadlCreates.size + this.#gpadlTeardowns.size + this.#opens.size;
  }
}

function failed(status: number, what: string): BusError {
  return new BusError(status, `${what} failed with ${ntStatusName(status)}`);
}
