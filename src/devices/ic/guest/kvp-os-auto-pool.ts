/**
 * The AUTO pool of this guest, answered from the running Node.js process's
 * `os` module, the way the Linux KVP daemon answers it from uname(2) and the
 * network interfaces (`tools/hv/hv_kvp_daemon.c`). Decisions where Node.js
 * offers something else than uname: the OS name is `os.type()`, the build
 * number is the release (`os.release()`), the major and minor versions are
 * its first two numbers, the version is `os.version()`, and addresses are the
 * non-internal ones, separated by ';' as the KVP IP strings are.
 */
import os from 'node:os';
import type { KvpAutoPoolKey, KvpAutoPoolProvider } from '../protocol/index.js';

/** The integration-services version this guest reports (Linux's hv_utils reports HV_DRV_VERSION, "3.1"). */
export const KVP_INTEGRATION_SERVICES_VERSION = '3.1';

function releaseNumber(index: number): string {
  return /^(\d+)(?:\.(\d+))?/.exec(os.release())?.[index + 1] ?? '0';
}

function addresses(family: 'IPv4' | 'IPv6'): string {
  const found: string[] = [];
  for (const entries of Object.values(os.networkInterfaces())) {
    for (const entry of entries ?? []) if (entry.family === family && !entry.internal) found.push(entry.address);
  }
  return found.join(';');
}

const ANSWERS: Record<KvpAutoPoolKey, () => string> = {
  FullyQualifiedDomainName: () => os.hostname(),
  IntegrationServicesVersion: () => KVP_INTEGRATION_SERVICES_VERSION,
  NetworkAddressIPv4: () => addresses('IPv4'),
  NetworkAddressIPv6: () => addresses('IPv6'),
  OSBuildNumber: () => os.release(),
  OSName: () => os.type(),
  OSMajorVersion: () => releaseNumber(0),
  OSMinorVersion: () => releaseNumber(1),
  OSVersion: () => os.version(),
  ProcessorArchitecture: () => os.machine(),
};

/** The AUTO-pool provider over the `os` module, read afresh on every request. */
export const osAutoPool: KvpAutoPoolProvider = (key) => ANSWERS[key]();
