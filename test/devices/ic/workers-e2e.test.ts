/**
 * The four integration components end to end across threads: the host
 * devices in this thread, the guest drivers in a guest partition's worker
 * (createVm, workers mode), sharing only the hypervisor and guest memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { createVm } from '../../../src/vm/index.js';
import { HEARTBEAT_APPLICATION_STATE, IC_STATUS, KVP_POOL } from '../../../src/devices/ic/protocol/index.js';
import type { IcGuestCounters } from '../../../src/devices/ic/guest/index.js';
import { icHostModule, type IcHostDevices } from './support/ic-host-module.js';
import type { TimeSampleEvent } from './support/ic-guest.js';

const IC_GUEST = new URL('./support/ic-guest.js', import.meta.url);
/** The host's wall clock runs 5 s ahead of the guest's. */
const HOST_AHEAD_MS = 5000;

test('workers: heartbeat, shutdown, time sync and KVP between host devices and guest drivers in a worker', { timeout: 60_000 }, async () => {
  const found = new Map<string, IcHostDevices>();
  const vm = await createVm({
    guests: [{ name: 'ic-guest' }],
    mode: { kind: 'workers' },
    host: icHostModule(found, { heartbeatIntervalMs: 20, timeSyncIntervalMs: 50, hostAheadMs: HOST_AHEAD_MS }),
    guest: IC_GUEST,
  });
  try {
    const host = found.get('ic-guest')!;
    const ready = await vm.run(
      Promise.all([host.heartbeat.ic.whenReady(), host.shutdown.ic.whenReady(), host.timeSync.ic.whenReady(), host.kvp.ic.whenReady()]),
    );
    // The guest's first choices, all offered: heartbeat 3.0, shutdown 3.2, time sync 4.0, KVP 4.0 (linux-vmbus.md §A.5.3-7).
    assert.deepEqual(ready.map((versions) => `${versions.message.major}.${versions.message.minor}`), ['3.0', '3.2', '4.0', '4.0']);

    await vm.run(host.beatsReached(3));
    assert.deepEqual(host.beats.slice(0, 3).map((beat) => beat.sequenceNumber), [1n, 2n, 3n]);
    assert.ok(host.beats.every((beat) => beat.applicationState === HEARTBEAT_APPLICATION_STATE.HEALTHY));

    await vm.run(host.kvp.set(KVP_POOL.EXTERNAL, 'from-host', { type: 'u64', value: 1n << 63n }));
    assert.deepEqual(await vm.run(host.kvp.get(KVP_POOL.EXTERNAL, 'from-host')), { type: 'u64', value: 1n << 63n });
    assert.deepEqual(await vm.run(host.kvp.enumerateAll(KVP_POOL.GUEST)), [{ key: 'GuestName', value: { type: 'string', text: 'ic-guest' } }]);
    // The worker is a thread of this process: its os module says what ours does.
    assert.deepEqual(await vm.run(host.kvp.get(KVP_POOL.AUTO, 'FullyQualifiedDomainName')), { type: 'string', text: os.hostname() });

    const sample = await vm.run(vm.waitForEvent('time-sample', 'ic-guest'));
    const { kind, offset } = sample.detail as TimeSampleEvent;
    assert.equal(kind, 'sync', 'the first message after negotiation sets the clock');
    const offsetMs = Number(offset / 10_000n);
    assert.ok(Math.abs(offsetMs - HOST_AHEAD_MS) < 1000, `the guest's offset is the host's lead: ${offsetMs} ms`);

    const status = await vm.run(host.shutdown.requestShutdown({ reason: 0x8000_0000, flags: { restart: true }, message: 'across threads' }));
    assert.equal(status, IC_STATUS.HV_S_OK);
    const shutdown = await vm.run(vm.waitForEvent('shutdown', 'ic-guest'));
    assert.deepEqual(shutdown.detail, { kind: 'restart', force: false, reasonCode: 0x8000_0000, timeoutSeconds: 0, message: 'across threads' });
    assert.equal(await vm.run(host.shutdown.requestShutdown({ flags: { hibernate: true } })), IC_STATUS.HV_E_FAIL);
  } finally {
    const report = await vm.stop();
    assert.deepEqual(report.failures, []);
    assert.equal(report.liveWorkers, 0);
    assert.deepEqual(report.guests.map((guest) => guest.pagesAllocated), [0], 'the drivers gave every page back');
  }
  const stopped = vm.events.find((event) => event.kind === 'ic-stopped');
  const counters = stopped?.detail as IcGuestCounters[];
  assert.ok(counters.every((c) => c.failed === 0 && c.refused === 0 && c.unsent === 0), JSON.stringify(counters));
});
