/**
 * Version negotiation between the host devices and the guest drivers over
 * the real channel (one thread, seeded), for a few offers: the guest takes
 * the first of its own preferences that the host offered (linux-vmbus.md
 * §A.5.3), and when there is none the host reports it and refuses requests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeartbeatVsc, KvpVsc, ShutdownVsc, TimeSyncVsc } from '../../../src/devices/ic/guest/index.js';
import { HeartbeatVsp, IcTransactionError, KvpVsp, ShutdownVsp, TimeSyncVsp } from '../../../src/devices/ic/host/index.js';
import type { IcVersion, IcVersionLists, IcVersions } from '../../../src/devices/ic/protocol/index.js';
import type { WireError } from '../../../src/wire/index.js';
import { testSeed } from '../../support/seed.js';
import { IcMachine } from './support/ic-machine.js';

const v = (major: number, minor: number): IcVersion => ({ major, minor });

interface Pair {
  readonly name: string;
  readonly service: 'heartbeat' | 'shutdown' | 'timeSync' | 'kvp';
  readonly offer: IcVersionLists;
  /** The versions both sides settle on, or undefined for no common version. */
  readonly expected: IcVersions | undefined;
}

// Guest preferences: framework 3.0, 1.0; heartbeat 3.0, 1.0; shutdown 3.2, 3.1, 3.0, 1.0; time sync 4.0, 3.0, 1.0;
// KVP 4.0, 3.0, 1.0 (linux-vmbus.md §A.5.3-7).
const PAIRS: Pair[] = [
  { name: 'an old heartbeat host (1.0 / 1.0)', service: 'heartbeat', offer: { framework: [v(1, 0)], message: [v(1, 0)] }, expected: { framework: v(1, 0), message: v(1, 0) } },
  { name: 'a shutdown host offering 3.0 and 3.1', service: 'shutdown', offer: { framework: [v(1, 0), v(3, 0)], message: [v(3, 0), v(3, 1)] }, expected: { framework: v(3, 0), message: v(3, 1) } },
  { name: 'a KVP host offering 3.0 and 5.0', service: 'kvp', offer: { framework: [v(3, 0)], message: [v(3, 0), v(5, 0)] }, expected: { framework: v(3, 0), message: v(3, 0) } },
  { name: 'a time sync host offering 5.0 only: no common version', service: 'timeSync', offer: { framework: [v(3, 0)], message: [v(5, 0)] }, expected: undefined },
  { name: 'a heartbeat host offering framework 2.0 only: no common version', service: 'heartbeat', offer: { framework: [v(2, 0)], message: [v(3, 0)] }, expected: undefined },
];

/** What the test asks of either side, whatever the service. */
interface Sides {
  readonly host: { readonly ic: { readonly versions: IcVersions | undefined; readonly state: string; whenReady(): Promise<IcVersions> }; stop(): Promise<void> };
  readonly guest: { readonly ic: { readonly versions: IcVersions | undefined }; stop(): Promise<void> };
  /** One of the service's requests from the host. */
  request(): Promise<unknown>;
}

/** Starts the pair's host device and guest driver. */
function start(m: IcMachine, pair: Pair, failures: WireError[]): Sides {
  const common = { device: m.hostDeviceObject, offer: pair.offer, onNegotiationFailed: (error: WireError) => failures.push(error) };
  switch (pair.service) {
    case 'heartbeat': {
      const host = new HeartbeatVsp({ ...common, intervalMs: 1_000_000 });
      return { host, guest: new HeartbeatVsc({ device: m.device }), request: () => host.ic.request({ sequenceNumber: 1n }) };
    }
    case 'shutdown': {
      const host = new ShutdownVsp(common);
      return { host, guest: new ShutdownVsc({ device: m.device, onShutdown: () => undefined }), request: () => host.requestShutdown() };
    }
    case 'timeSync': {
      const host = new TimeSyncVsp({ ...common, intervalMs: 1_000_000 });
      return { host, guest: new TimeSyncVsc({ device: m.device }), request: () => host.send('probe') };
    }
    case 'kvp': {
      const host = new KvpVsp(common);
      return { host, guest: new KvpVsc({ device: m.device }), request: () => host.get(0, 'k') };
    }
  }
}

for (const pair of PAIRS) {
  test(`negotiation host↔guest: ${pair.name}`, async (t) => {
    const m = new IcMachine(testSeed(t.name));
    const failures: WireError[] = [];
    await m.connect();
    const { host, guest, request } = start(m, pair, failures);
    const ready = host.ic.whenReady().then((versions) => versions, (error: unknown) => error);
    const outcome = await m.drive(ready);
    if (pair.expected === undefined) {
      assert.ok(outcome instanceof IcTransactionError);
      assert.equal(outcome.reason, 'not-negotiated');
      assert.deepEqual(failures.map((f) => f.code), ['not-negotiated'], 'the host reports it');
      assert.equal(host.ic.state, 'failed');
      assert.equal(guest.ic.versions, undefined);
      const refused = await m.drive(request().then(() => undefined, (error: unknown) => error));
      assert.ok(refused instanceof IcTransactionError);
      assert.equal(refused.reason, 'not-negotiated');
    } else {
      assert.deepEqual(outcome, pair.expected);
      assert.deepEqual(host.ic.versions, pair.expected);
      assert.deepEqual(guest.ic.versions, pair.expected);
      assert.deepEqual(failures, []);
      await m.drive(request());
    }
    await m.drive(guest.stop());
    await m.drive(host.stop());
  });
}
