/**
 * A host VSP written against the KMCL server interface table and a guest
 * driver written against the client table, through createVm: one thread
 * (seeded, with random request counts and sizes) and one worker per guest.
 * Requests go both ways, each echoed in its completion; the guest's teardown
 * closes the channel (Suspend, Closed at the VSP), the VSP's rescinds it, and
 * the VM stops with nothing left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NTSTATUS } from '../../../src/index.js';
import { createVm, type VmOptions } from '../../../src/vm/index.js';
import { testSeed } from '../../support/seed.js';
import { assertNothingLeft } from '../../vm/leaks.js';
import type { TableVscData, TableVscDone } from './support/table-vsc.js';
import { tableVsp, type TableVspReport } from './support/table-vsp.js';

const TABLE_VSC = new URL('./support/table-vsc.js', import.meta.url);

async function exchange(mode: VmOptions['mode'], guests: readonly { name: string; data: TableVscData }[]): Promise<void> {
  const reports = new Map<string, TableVspReport>();
  const hostRequests = guests[0]!.data.hostRequests;
  const vm = await createVm({
    guests: guests.map(({ name, data }) => ({ name, memoryPages: 512, data })),
    mode,
    host: tableVsp(reports, hostRequests, guests[0]!.data.seed),
    guest: TABLE_VSC,
  });
  try {
    const done = await vm.run(Promise.all(guests.map(({ name }) => vm.waitForEvent('vsc-done', name))));
    // The guest is done once it sent its last completion; the host may not have read it yet.
    await vm.run(Promise.all(guests.map(({ name }) => reports.get(name)!.answered)));
    guests.forEach(({ name, data }, i) => {
      assert.deepEqual(done[i]!.detail as TableVscDone, { completed: data.requests, mismatches: 0, echoed: data.hostRequests }, name);
      const report = reports.get(name)!;
      assert.equal(report.echoed, data.requests, `${name}: the VSP echoed every guest request`);
      assert.deepEqual([report.completed, report.mismatches], [hostRequests, 0], `${name}: the guest echoed every VSP request`);
    });
  } catch (error) {
    // A failed check must not leave guest workers running (the test process would never end).
    await vm.stop();
    throw error;
  }
  const stopped = await vm.stop();
  for (const { name } of guests) {
    const report = reports.get(name)!;
    assert.deepEqual(report.events, ['opened', 'started', 'post-started', 'suspend', 'closed'], `${name}: the guest's close`);
    assert.equal(report.disableStatus, NTSTATUS.STATUS_SUCCESS, `${name}: the rescind completed`);
  }
  assertNothingLeft(vm, stopped, mode.kind === 'workers' ? 'clean' : 'in-thread');
}

test('one thread, seeded: the server-table VSP and the client-table guest exchange random requests both ways', async (t) => {
  const runs = fc.sample(
    fc.record({ requests: fc.integer({ min: 1, max: 60 }), hostRequests: fc.integer({ min: 0, max: 60 }), seed: fc.nat(1000) }),
    { numRuns: 4, seed: testSeed(t.name) },
  );
  for (const [i, data] of runs.entries()) {
    await exchange({ kind: 'single-thread', seed: data.seed + i }, [{ name: `guest-${i}`, data }]);
  }
});

test('workers: two guests in their own threads, each against its own VSP instance on the host', { timeout: 60_000 }, async (t) => {
  const seed = testSeed(t.name) & 0x3ff;
  await exchange({ kind: 'workers' }, [
    { name: 'left', data: { requests: 120, hostRequests: 40, seed } },
    { name: 'right', data: { requests: 70, hostRequests: 40, seed } },
  ]);
});
