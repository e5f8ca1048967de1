/**
 * The KVP host device: GET, SET, DELETE and ENUMERATE on the guest's pools
 * as promises, one transaction on the wire at a time (the others wait their
 * turn, linux-vmbus.md §A.5.7). "No more items" (HV_S_CONT) is an answer,
 * not an error: no such key for GET and DELETE, the end for ENUMERATE; any
 * other failure status rejects with an IcTransactionError carrying it.
 */
import {
  IC_STATUS,
  KVP_HOST,
  icStatusName,
  type KvpEntry,
  type KvpPool,
  type KvpRequest,
  type KvpResult,
  type KvpValue,
} from '../protocol/index.js';
import { IcHostChannel, type IcVspOptions } from './ic-host-channel.js';
import { IcTransactionError } from './ic-host-transactions.js';

/** How many entries `enumerateAll` reads at most unless told otherwise: a guest that never says "no more" cannot keep it going. */
export const KVP_ENUMERATE_DEFAULT_LIMIT = 1024;

/** The options of the channel it offers (device, instance, versions, timeout, negotiation callbacks). */
export type KvpVspOptions = IcVspOptions;

export class KvpVsp {
  readonly ic: IcHostChannel<KvpRequest, KvpResult>;

  /** Offers the KVP service to the guest. Throws a KmclError on a KMCL failure. */
  constructor(options: KvpVspOptions) {
    this.ic = IcHostChannel.offer({ ...options, service: KVP_HOST });
  }

  /** The value of `key` in `pool`, or undefined when the guest has no such key. */
  async get(pool: KvpPool, key: string): Promise<KvpValue | undefined> {
    const result = await this.#transact({ op: 'get', pool, key });
    return result.kind === 'value' ? result.value : undefined;
  }

  /** Stores `value` under `key`; rejects with the guest's status if it refuses. */
  async set(pool: KvpPool, key: string, value: KvpValue): Promise<void> {
    const result = await this.#transact({ op: 'set', pool, key, value });
    if (result.kind !== 'done') throw this.#refused('set', IC_STATUS.HV_S_CONT);
  }

  /** Deletes `key`; false when the guest had no such key. */
  async delete(pool: KvpPool, key: string): Promise<boolean> {
    return (await this.#transact({ op: 'delete', pool, key })).kind === 'done';
  }

  /** The entry at `index` of `pool`, or undefined past the last one. */
  async enumerate(pool: KvpPool, index: number): Promise<KvpEntry | undefined> {
    const result = await this.#transact({ op: 'enumerate', pool, index });
    return result.kind === 'value' ? { key: result.key, value: result.value } : undefined;
  }

  /** Every entry of `pool`, by index from 0 until the guest says there are no more (at most `limit`). */
  async enumerateAll(pool: KvpPool, limit = KVP_ENUMERATE_DEFAULT_LIMIT): Promise<KvpEntry[]> {
    const entries: KvpEntry[] = [];
    while (entries.length < limit) {
      const entry = await this.enumerate(pool, entries.length);
      if (entry === undefined) break;
      entries.push(entry);
    }
    return entries;
  }

  /** Rescinds the offer. */
  stop(): Promise<void> {
    return this.ic.stop();
  }

  /** One transaction whose answer is a value, "done", or "no more items"; any other status rejects. */
  async #transact(request: KvpRequest): Promise<Exclude<KvpResult, { kind: 'failed' }>> {
    const result = await this.ic.request(request);
    if (result.kind === 'failed') throw this.#refused(request.op, result.status);
    return result;
  }

  #refused(op: KvpRequest['op'], status: number): IcTransactionError {
    return new IcTransactionError('guest-status', `KVP ${op} answered ${icStatusName(status)}`, undefined, status);
  }
}
