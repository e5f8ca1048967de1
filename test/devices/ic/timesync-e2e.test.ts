/**
 * Time sync end to end in one thread (seeded): the host device sends a SYNC
 * and then a SAMPLE every interval, stamped with its clock and the guest's
 * reference counter; the guest driver computes its clock offset from them.
 * Both sides read the reference counter from the simulated hypervisor's
 * clock, and the test ties both wall clocks to it, so the offset is exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimeSyncVsc } from '../../../src/devices/ic/guest/index.js';
import { TimeSyncVsp, type TimeSyncReport } from '../../../src/devices/ic/host/index.js';
import { IC_STATUS, type IcVersionLists } from '../../../src/devices/ic/protocol/index.js';
import { testSeed } from '../../support/seed.js';
import { IcMachine } from './support/ic-machine.js';

/** 2024-01-01T00:00:00Z as FILETIME, 100 ns since 1601 (linux-vmbus.md §A.5.6). */
const NEW_YEAR_2024 = 133_485_408_000_000_000n;
/** The host's clock runs 5 s (in 100 ns units) ahead of the guest's. */
const HOST_AHEAD = 50_000_000n;

async function run(seed: number, offer?: IcVersionLists): Promise<{ m: IcMachine; vsp: TimeSyncVsp; vsc: TimeSyncVsc; reports: TimeSyncReport[] }> {
  const m = new IcMachine(seed);
  const now = (): bigint => BigInt(m.scheduler.now());
  const reports: TimeSyncReport[] = [];
  const vsp = new TimeSyncVsp({
    device: m.hostDeviceObject,
    intervalMs: 1000,
    clocks: { hostTime: () => NEW_YEAR_2024 + HOST_AHEAD + now() },
    onSample: (report) => reports.push(report),
    ...(offer !== undefined && { offer }),
  });
  await m.connect();
  const vsc = new TimeSyncVsc({ device: m.device, clocks: { guestTime: () => NEW_YEAR_2024 + now() } });
  await m.settle();
  return { m, vsp, vsc, reports };
}

test('time sync v4: a SYNC first, then a SAMPLE every interval; the guest\'s offset is the host\'s lead', async (t) => {
  const { m, vsp, vsc, reports } = await run(testSeed(t.name));
  // The host offers 4.0 only (O hyperv_ic/src/timesync.rs:31): the v4 reference form.
  assert.deepEqual(vsc.ic.versions?.message, { major: 4, minor: 0 });
  assert.deepEqual(reports.map((r) => [r.order.kind, r.status]), [['sync', IC_STATUS.HV_S_OK]]);
  assert.equal(vsc.lastSample?.adjustment.kind, 'sync');
  assert.equal(vsc.lastSample?.adjustment.message.form, 'reference');
  assert.equal(vsc.lastSample?.offset, HOST_AHEAD);
  await m.advance(2000);
  assert.deepEqual(reports.map((r) => r.order.kind), ['sync', 'sample', 'sample']);
  assert.equal(vsc.lastSample?.adjustment.kind, 'sample');
  assert.equal(vsc.clockOffset(), HOST_AHEAD, 'carried forward by the reference counter');
  assert.equal(vsc.hostTimeNow(), NEW_YEAR_2024 + HOST_AHEAD + BigInt(m.scheduler.now()));
  assert.equal(await m.drive(vsp.send('probe')), IC_STATUS.HV_S_OK, 'a message sent on demand');
  await m.drive(vsc.stop());
  await m.drive(vsp.stop());
});

test('time sync v3: a host offering 3.0 only sends the legacy form, and the guest stamps it on arrival', async (t) => {
  const { m, vsp, vsc } = await run(testSeed(t.name), { framework: [{ major: 3, minor: 0 }], message: [{ major: 3, minor: 0 }] });
  assert.deepEqual(vsc.ic.versions?.message, { major: 3, minor: 0 });
  assert.equal(vsc.lastSample?.adjustment.message.form, 'legacy');
  assert.equal(vsc.lastSample?.offset, HOST_AHEAD, 'sent and taken in on the same tick of the virtual clock');
  await m.drive(vsc.stop());
  await m.drive(vsp.stop());
});
