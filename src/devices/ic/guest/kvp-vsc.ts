/**
 * The KVP guest driver: answers the host's GET / SET / DELETE / ENUMERATE
 * transactions, one at a time as they come, from a store for the EXTERNAL,
 * GUEST and AUTO_EXTERNAL pools and from the AUTO-pool provider (by default
 * the facts of the running process, `kvp-os-auto-pool.ts`).
 */
import type { Guid, PDEVICE_OBJECT } from '../../../index.js';
import type { WireError } from '../../../wire/index.js';
import {
  IC_SERVICES,
  KvpMemoryStore,
  respondKvp,
  type KvpAutoPoolProvider,
  type KvpGuestStore,
  type KvpRequest,
} from '../protocol/index.js';
import { IcGuestChannel } from './ic-channel.js';
import { osAutoPool } from './kvp-os-auto-pool.js';

export interface KvpVscOptions {
  /** The VMBus device object. */
  readonly device: PDEVICE_OBJECT;
  readonly instanceId?: Guid;
  /** Default: an empty KvpMemoryStore. */
  readonly store?: KvpGuestStore;
  /** Default: `osAutoPool`. */
  readonly autoPool?: KvpAutoPoolProvider;
  /** Each transaction that succeeded (a SET carries the new value), once its answer is in the ring. */
  readonly onRequest?: (request: KvpRequest) => void;
  readonly onFailure?: (error: WireError) => void;
}

export class KvpVsc {
  /** The channel: its state, negotiated versions and counters. */
  readonly ic: IcGuestChannel<KvpRequest>;
  /** The pools the host reads and writes. */
  readonly store: KvpGuestStore;

  /** Starts the driver: the channel opens when the host offers the service. Throws a KmclError on a KMCL failure. */
  constructor(options: KvpVscOptions) {
    const store = options.store ?? new KvpMemoryStore();
    const autoPool = options.autoPool ?? osAutoPool;
    this.store = store;
    this.ic = IcGuestChannel.open<KvpRequest>({
      device: options.device,
      spec: IC_SERVICES.kvp,
      instanceId: options.instanceId,
      respond: (request, versions) => respondKvp(request, { versions, store, autoPool }),
      onEvent: options.onRequest,
      onFailure: options.onFailure,
    });
  }

  /** Closes and disposes of the channel. */
  stop(): Promise<void> {
    return this.ic.stop();
  }
}
