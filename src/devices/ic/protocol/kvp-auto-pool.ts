/**
 * The guest's AUTO pool: facts the guest publishes about itself, enumerated by
 * the host at fixed indices (Linux `include/uapi/linux/hyperv.h` key-name
 * enum, served by `tools/hv/hv_kvp_daemon.c`: index past the list → HV_S_CONT).
 * The values come from a provider function so a device can answer from live
 * state; every value is a REG_SZ string.
 */
import type { KvpEntry, KvpValue } from './kvp-record.js';

/** Index → key name, in wire order. */
export const KVP_AUTO_POOL_KEYS = [
  'FullyQualifiedDomainName',
  'IntegrationServicesVersion',
  'NetworkAddressIPv4',
  'NetworkAddressIPv6',
  'OSBuildNumber',
  'OSName',
  'OSMajorVersion',
  'OSMinorVersion',
  'OSVersion',
  'ProcessorArchitecture',
] as const;
export type KvpAutoPoolKey = (typeof KVP_AUTO_POOL_KEYS)[number];

/** Supplies the text of one AUTO-pool key. */
export type KvpAutoPoolProvider = (key: KvpAutoPoolKey) => string;

/** The entry at an enumeration index, or undefined past the end of the list. */
export function kvpAutoPoolEntry(index: number, provider: KvpAutoPoolProvider): KvpEntry | undefined {
  const key = KVP_AUTO_POOL_KEYS[index];
  return key === undefined ? undefined : { key, value: { type: 'string', text: provider(key) } };
}

/** The value of a key by name (a GET on the AUTO pool), or undefined for a key not in the list. */
export function kvpAutoPoolValue(key: string, provider: KvpAutoPoolProvider): KvpValue | undefined {
  const known = KVP_AUTO_POOL_KEYS.find((k) => k === key);
  return known === undefined ? undefined : { type: 'string', text: provider(known) };
}
