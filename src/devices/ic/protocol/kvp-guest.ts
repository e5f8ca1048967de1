/**
 * The guest side of KVP: answer GET / SET / DELETE / ENUMERATE from a store,
 * and the AUTO pool from a provider. Statuses follow the Linux daemon
 * (`tools/hv/hv_kvp_daemon.c`): a missing key, a refused write, and an index
 * past the end all answer HV_S_CONT, which is how the host's enumeration
 * ends; a value that cannot be encoded answers HV_E_FAIL (Linux
 * `drivers/hv/hv_kvp.c` kvp_respond_to_host).
 *
 * Decisions of ours: the AUTO pool is the provider's and read-only, so SET and
 * DELETE on it answer HV_ERROR_NOT_SUPPORTED; so do the IP-info operations,
 * which this guest does not serve.
 */
import { WireError } from '../../../wire/wire-error.js';
import { respondToIcRequest, type IcGuestReply, type IcServiceOutcome } from './guest-responder.js';
import { IC_SERVICES } from './ic-services.js';
import { IC_STATUS } from './ic-status.js';
import { kvpAutoPoolEntry, kvpAutoPoolValue, type KvpAutoPoolProvider } from './kvp-auto-pool.js';
import {
  KVP_POOL,
  decodeKvpBody,
  kvpRecordOf,
  writeKvpKey,
  writeKvpValue,
  type KvpEntry,
  type KvpPool,
  type KvpRequest,
  type KvpValue,
} from './kvp-record.js';
import type { IcVersions } from './negotiation.js';

/** The guest's pools other than AUTO. */
export interface KvpGuestStore {
  get(pool: KvpPool, key: string): KvpValue | undefined;
  /** False when the store refuses the write. */
  set(pool: KvpPool, key: string, value: KvpValue): boolean;
  /** False when there is no such key. */
  delete(pool: KvpPool, key: string): boolean;
  /** The entry at an enumeration index, undefined past the end. */
  entryAt(pool: KvpPool, index: number): KvpEntry | undefined;
}

/** A store in memory: one map per pool, enumerated in insertion order. */
export class KvpMemoryStore implements KvpGuestStore {
  readonly #pools = new Map<KvpPool, Map<string, KvpValue>>();

  #pool(pool: KvpPool): Map<string, KvpValue> {
    let entries = this.#pools.get(pool);
    if (entries === undefined) this.#pools.set(pool, (entries = new Map()));
    return entries;
  }

  get(pool: KvpPool, key: string): KvpValue | undefined {
    return this.#pools.get(pool)?.get(key);
  }

  set(pool: KvpPool, key: string, value: KvpValue): boolean {
    this.#pool(pool).set(key, value);
    return true;
  }

  delete(pool: KvpPool, key: string): boolean {
    return this.#pools.get(pool)?.delete(key) ?? false;
  }

  entryAt(pool: KvpPool, index: number): KvpEntry | undefined {
    const entries = this.#pools.get(pool);
    if (entries === undefined || index >= entries.size) return undefined;
    let i = 0;
    for (const [key, value] of entries) if (i++ === index) return { key, value };
    return undefined;
  }
}

export interface KvpGuestState {
  readonly versions: IcVersions | undefined;
  readonly store: KvpGuestStore;
  readonly autoPool: KvpAutoPoolProvider;
}

/** Guest responder. The event is the request that succeeded (a SET carries the new value). */
export function respondKvp(request: Uint8Array, state: KvpGuestState): IcGuestReply<KvpRequest> | WireError {
  return respondToIcRequest<KvpRequest>(request, IC_SERVICES.kvp, state.versions, (body) => answerKvp(body, state));
}

function answerKvp(body: Uint8Array, state: KvpGuestState): IcServiceOutcome<KvpRequest> {
  const request = decodeKvpBody(body);
  if (request instanceof WireError) return { status: IC_STATUS.HV_E_FAIL, error: request };
  if (request.op === 'ip-info') return { status: IC_STATUS.HV_ERROR_NOT_SUPPORTED };
  const auto = request.pool === KVP_POOL.AUTO;
  const done = { status: IC_STATUS.HV_S_OK, event: request };
  const noItem = { status: IC_STATUS.HV_S_CONT };
  switch (request.op) {
    case 'get': {
      const value = auto ? kvpAutoPoolValue(request.key, state.autoPool) : state.store.get(request.pool, request.key);
      if (value === undefined) return noItem;
      const error = writeKvpValue(kvpRecordOf(body, 'get'), value);
      return error === undefined ? done : { status: IC_STATUS.HV_E_FAIL, error };
    }
    case 'set':
      if (auto) return { status: IC_STATUS.HV_ERROR_NOT_SUPPORTED };
      return state.store.set(request.pool, request.key, request.value) ? done : noItem;
    case 'delete':
      if (auto) return { status: IC_STATUS.HV_ERROR_NOT_SUPPORTED };
      return state.store.delete(request.pool, request.key) ? done : noItem;
    case 'enumerate': {
      const entry = auto ? kvpAutoPoolEntry(request.index, state.autoPool) : state.store.entryAt(request.pool, request.index);
      if (entry === undefined) return noItem;
      const record = kvpRecordOf(body, 'enumerate');
      const error = writeKvpKey(record, entry.key) ?? writeKvpValue(record, entry.value);
      return error === undefined ? done : { status: IC_STATUS.HV_E_FAIL, error };
    }
  }
}
