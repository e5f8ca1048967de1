/**
 * The demo's KVP exchange, both ways, from the host: it SETs keys in the
 * guest's external pool (what a host administrator pushes to a guest), GETs
 * what the guest publishes about itself in its auto pool, and ENUMERATEs the
 * external pool back until the guest answers "no more items".
 */
import { IC_STATUS, KVP_ENUMERATE_DEFAULT_LIMIT, KVP_POOL, icStatusName, type KvpAutoPoolKey, type KvpPool, type KvpValue, type KvpVsp } from '../devices/index.js';
import type { DemoRecorder } from './demo-recorder.js';

/** What the host pushes to the guest. */
export const DEMO_KVP_SETS: readonly { readonly key: string; readonly value: KvpValue }[] = [
  { key: 'kmcl.demo.greeting', value: { type: 'string', text: 'hello from the host' } },
  { key: 'kmcl.demo.answer', value: { type: 'u32', value: 42 } },
];

/** What the host asks the guest about itself: OS name, version, architecture, FQDN. */
export const DEMO_KVP_AUTO_KEYS: readonly KvpAutoPoolKey[] = ['OSName', 'OSVersion', 'ProcessorArchitecture', 'FullyQualifiedDomainName'];

const POOL_NAMES: Readonly<Record<KvpPool, string>> = { 0: 'external', 1: 'guest', 2: 'auto', 3: 'auto-external' };

/** A KVP value as text: strings as they are, numbers in decimal. */
export function kvpValueText(value: KvpValue): string {
  return value.type === 'string' || value.type === 'expand-string' ? value.text : value.value.toString();
}

/** Runs the exchange; rejects (IcTransactionError) on the first transaction the guest does not answer. */
export async function exchangeKvp(kvp: KvpVsp, recorder: DemoRecorder): Promise<void> {
  const external = KVP_POOL.EXTERNAL;
  for (const { key, value } of DEMO_KVP_SETS) {
    await kvp.set(external, key, value);
    recorder.report({ event: 'kvp-set', pool: POOL_NAMES[external], key, value: kvpValueText(value) });
  }
  for (const key of DEMO_KVP_AUTO_KEYS) {
    const value = await kvp.get(KVP_POOL.AUTO, key);
    recorder.report({ event: 'kvp-get', pool: POOL_NAMES[KVP_POOL.AUTO], key, value: value === undefined ? null : kvpValueText(value) });
  }
  // One ENUMERATE per index, as the host's KVP service reads a pool, until the guest says there are no more.
  for (let index = 0; index < KVP_ENUMERATE_DEFAULT_LIMIT; index++) {
    const entry = await kvp.enumerate(external, index);
    if (entry === undefined) {
      recorder.report({ event: 'kvp-enumerate-end', pool: POOL_NAMES[external], count: index, status: icStatusName(IC_STATUS.HV_S_CONT) });
      return;
    }
    recorder.report({ event: 'kvp-enumerate', pool: POOL_NAMES[external], index, key: entry.key, value: kvpValueText(entry.value) });
  }
  throw new Error(`the guest listed ${KVP_ENUMERATE_DEFAULT_LIMIT} entries of its external pool without saying "no more items"`);
}
