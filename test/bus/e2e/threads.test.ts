/**
 * End to end across threads: the host partition in this thread, the guest in
 * a worker (guest.worker.ts), sharing the hypervisor and the guest's memory
 * through SharedArrayBuffers only, as partitions share them on Hyper-V.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { HostBus } from '../../../src/bus/index.js';
import { createHypervisor } from '../../../src/hv/index.js';
import { GuestMemory } from '../../../src/memory/index.js';
import { VMBUS_VERSION } from '../../../src/wire/messages/index.js';
import { EchoDevice } from './echo-device.js';
import type { GuestWorkerReport, GuestWorkerSetup } from './guest.worker.js';

const HOST_ID = 0;
const GUEST_ID = 7;
const PACKETS = 200;

test('a guest in a worker thread exchanges packets with the host and unloads without leaks', { timeout: 120_000 }, async () => {
  const hv = createHypervisor({ partitions: [{ id: HOST_ID, vpCount: 1 }, { id: GUEST_ID, vpCount: 2 }] }, 'threads');
  const memory = new GuestMemory(512);
  const hostBus = HostBus.create({ host: hv.partition(HOST_ID), guest: hv.partition(GUEST_ID), guestMemory: memory });
  const device = new EchoDevice();
  for (let n = 0; n < 4; n++) {
    hostBus.offerChannel(
      {
        interfaceId: 'e0e1e2e3-4444-4555-8666-000000000001',
        instanceId: `e0e1e2e3-4444-4555-8666-00000000010${n}`,
        monitoredNotification: n % 2 === 1,
      },
      device,
    );
  }
  const setup: GuestWorkerSetup = {
    descriptor: hv.exportShared(),
    guestId: GUEST_ID,
    memory: memory.buffer,
    rings: [
      { outgoingRingPages: 2, incomingRingPages: 2 },
      { outgoingRingPages: 3, incomingRingPages: 8 },
      { outgoingRingPages: 16, incomingRingPages: 4 },
    ],
    packets: PACKETS,
  };
  const worker = new Worker(new URL('./guest.worker.js', import.meta.url), { workerData: setup });
  const exited = new Promise<number>((resolve) => worker.on('exit', resolve));
  const reply = await new Promise<{ report?: GuestWorkerReport; error?: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  assert.equal(reply.error, undefined);
  const report = reply.report!;
  assert.equal(report.version, VMBUS_VERSION.Copper);
  assert.equal(report.channelIds.length, 4);
  assert.deepEqual(
    report.exchanges.map((e) => [e.completions, e.mismatches]),
    report.channelIds.map(() => [PACKETS, 0]),
  );
  assert.ok(report.signalsReceived.every((n) => n > 0), 'the host signalled the worker on every channel');
  assert.equal(device.echoed, 4 * PACKETS);
  assert.deepEqual([...device.closed].sort(), [...report.channelIds].sort());
  assert.equal(report.pagesLeft, 0, 'every guest page is free');
  assert.deepEqual(report.resources, { openChannels: 0, pages: 0, routedFlags: 0, pendingRequests: 0, backlog: 0 });
  assert.deepEqual(report.invariants, []);

  // UNLOAD_COMPLETE left only after the host had let go of everything.
  const snapshot = hostBus.snapshot();
  assert.equal(snapshot.connection, 'disconnected');
  assert.deepEqual(snapshot.table, { gpadls: 0, mappings: 0, mappedPages: 0 });
  assert.deepEqual(hostBus.checkInvariants(), []);
  const held = hostBus.resources();
  assert.deepEqual([held.channels, held.routedFlags, held.backlog], [0, 0, 0]);
  hostBus.close();
  hv.close();
  assert.equal(await exited, 0);
});
