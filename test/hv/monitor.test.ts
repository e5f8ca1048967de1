import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HV_STATUS } from '../../src/hv/hv-status.js';
import { createHypervisor } from '../../src/hv/hypervisor.js';
import {
  MONITOR_ID_COUNT,
  MONITOR_PAGE_LAYOUT,
  MONITOR_PAGE_SIZE,
  MonitorPage,
} from '../../src/hv/monitor-page.js';
import { SeededScheduler } from '../../src/hv/seeded-scheduler.js';
import { sharedBytes } from '../../src/hv/shared-bytes.js';
import { testSeed } from '../support/seed.js';

test('monitor page golden layout: state @0, groups @8, next_check_time @64, latency @576, parameter @1088', () => {
  // linux-vmbus.md §A.3.1 (struct hv_monitor_page, hyperv_vmbus.h:60-94); openvmm-vmbus.md §6.8 (hvdef lib.rs:4167-4211).
  const { TRIGGER_STATE, TRIGGER_GROUP, NEXT_CHECK_TIME, LATENCY, PARAMETER } = MONITOR_PAGE_LAYOUT;
  assert.deepEqual([TRIGGER_STATE, TRIGGER_GROUP, NEXT_CHECK_TIME, LATENCY, PARAMETER], [0, 8, 64, 576, 1088]);
  assert.equal(MONITOR_PAGE_SIZE, 4096);
  assert.equal(MONITOR_ID_COUNT, 128);
  const page = new MonitorPage(sharedBytes(new SharedArrayBuffer(2 * MONITOR_PAGE_SIZE)), MONITOR_PAGE_SIZE);
  // Monitor id 37 = group 1, bit 5 (channel_mgmt.c:977-978: group id/32, bit id%32).
  page.setGroupEnabled(2, true);
  page.setPending(37);
  page.arm(37);
  page.setNextCheckTime(37, -2);
  page.setLatency(37, 0x1234);
  page.setParameter(37, { connectionId: 0x00ab_cdef, flagNumber: 0x0102 });
  const expected = new Uint8Array(MONITOR_PAGE_SIZE);
  expected[0] = 0x04; // trigger_state.group_enable bit 2
  expected[8 + 1 * 8 + 0] = 0x20; // trigger_group[1].pending bit 5
  expected[8 + 1 * 8 + 4] = 0x20; // trigger_group[1].armed bit 5
  expected.set([0xfe, 0xff, 0xff, 0xff], 64 + 37 * 4); // next_check_time[1][5], s32
  expected.set([0x34, 0x12], 576 + 37 * 2); // latency[1][5], u16
  expected.set([0xef, 0xcd, 0xab, 0x00, 0x02, 0x01, 0x00, 0x00], 1088 + 37 * 8); // parameter[1][5]
  assert.deepEqual(page.bytes, expected);
  assert.deepEqual(page.parameter(37), { connectionId: 0x00ab_cdef, flagNumber: 0x0102 });
  assert.equal(page.latency(37), 0x1234);
  assert.equal(page.nextCheckTime(37), -2);
});

test('monitor id 127 is the top bit of trigger group 3', () => {
  const page = new MonitorPage(sharedBytes(new SharedArrayBuffer(MONITOR_PAGE_SIZE)), 0);
  assert.equal(page.setPending(127), true);
  assert.equal(page.setPending(127), false, 'already pending');
  assert.equal(page.pending(3), 0x8000_0000);
  assert.deepEqual([page.pending(0), page.pending(1), page.pending(2)], [0, 0, 0]);
  assert.equal(page.bytes[8 + 3 * 8 + 3], 0x80);
});

const HOST = 0;
const GUEST = 1;
const SINT = 2;
const FLAG_BASE = 100;

/** A guest whose monitor page signals the host's event port through connection 9. */
function machine(name: string) {
  const scheduler = new SeededScheduler(testSeed(name));
  const hv = createHypervisor({ partitions: [{ id: HOST, vpCount: 1 }, { id: GUEST, vpCount: 1 }] }, scheduler);
  const host = hv.partition(HOST);
  const guest = hv.partition(GUEST);
  assert.equal(host.createEventPort(1, { vp: 0, sint: SINT, baseFlagNumber: FLAG_BASE, flagCount: 4 }), HV_STATUS.SUCCESS);
  assert.equal(guest.connect(9, { partitionId: HOST, portId: 1 }), HV_STATUS.SUCCESS);
  const signals: { flag: number; at: number }[] = [];
  host.onEvent(0, SINT, (flag) => signals.push({ flag, at: scheduler.now() }));
  scheduler.runUntilIdle();
  return { scheduler, host, guest, signals };
}

test('allocate hands out the lowest free ids, enables their groups, and runs out after 128', (t) => {
  const { guest } = machine(t.name);
  const monitor = guest.monitor;
  const ids = Array.from({ length: MONITOR_ID_COUNT }, () => monitor.allocate({ connectionId: 9, flagNumber: 0 }, 10));
  assert.deepEqual(ids, Array.from({ length: MONITOR_ID_COUNT }, (_, i) => i));
  assert.equal(monitor.allocate({ connectionId: 9, flagNumber: 0 }, 10), undefined);
  assert.equal(monitor.page.bytes[MONITOR_PAGE_LAYOUT.TRIGGER_STATE], 0x0f, 'all four groups enabled');
  assert.equal(monitor.release(40), true);
  assert.equal(monitor.release(40), false);
  assert.equal(monitor.allocate({ connectionId: 9, flagNumber: 1 }, 10), 40);
  assert.throws(() => monitor.allocate({ connectionId: 9, flagNumber: 0 }, 0x1_0000), RangeError);
});

test('claim takes one given id (the server chose it at offer time) and refuses it while taken', (t) => {
  const { guest } = machine(t.name);
  const monitor = guest.monitor;
  // Monitor id m is bit m % 32 of trigger group m / 32 (openvmm-vmbus.md §6.8): 70 is group 2.
  assert.equal(monitor.claim(70, { connectionId: 9, flagNumber: 3 }, 1000), true);
  assert.equal(monitor.isAllocated(70), true);
  assert.equal(monitor.isAllocated(0), false, 'ids below are left free');
  assert.equal(monitor.page.bytes[MONITOR_PAGE_LAYOUT.TRIGGER_STATE], 0b0100, 'only group 2 enabled');
  assert.equal(monitor.page.latency(70), 1000);
  assert.equal(monitor.claim(70, { connectionId: 9, flagNumber: 3 }, 1000), false);
  assert.equal(monitor.claim(128, { connectionId: 9, flagNumber: 0 }, 10), false);
  assert.equal(monitor.claim(-1, { connectionId: 9, flagNumber: 0 }, 10), false);
  assert.equal(monitor.allocate({ connectionId: 9, flagNumber: 0 }, 10), 0, 'allocate still takes the lowest free id');
});

test('a trigger becomes the event signal of its parameter after the latency (100 ns units)', (t) => {
  const { scheduler, guest, signals } = machine(t.name);
  const id = guest.monitor.allocate({ connectionId: 9, flagNumber: 2 }, 500);
  assert.equal(id, 0);
  const start = scheduler.now();
  assert.equal(guest.monitor.trigger(0), true);
  scheduler.runUntil(start + 499);
  assert.deepEqual(signals, [], 'nothing before the latency');
  assert.equal(guest.monitor.page.armed(0), 1, 'seen and armed while waiting');
  assert.equal(guest.monitor.page.nextCheckTime(0), start + 500);
  scheduler.runUntilIdle();
  assert.deepEqual(signals, [{ flag: FLAG_BASE + 2, at: start + 500 }]);
  assert.deepEqual([guest.monitor.page.pending(0), guest.monitor.page.armed(0)], [0, 0], 'pending and armed are cleared');
});

test('triggers during the latency coalesce into one signal; a later trigger signals again', (t) => {
  const { scheduler, guest, signals } = machine(t.name);
  guest.monitor.allocate({ connectionId: 9, flagNumber: 0 }, 1000);
  guest.monitor.trigger(0);
  scheduler.runUntil(scheduler.now() + 300);
  guest.monitor.trigger(0);
  guest.monitor.trigger(0);
  scheduler.runUntilIdle();
  assert.equal(signals.length, 1);
  const first = signals[0]!.at;
  guest.monitor.trigger(0);
  scheduler.runUntilIdle();
  assert.deepEqual(signals.map((s) => s.at), [first, first + 1000]);
});

test('each id keeps its own latency, and setLatency reprograms it', (t) => {
  const { scheduler, guest, signals } = machine(t.name);
  const slow = guest.monitor.allocate({ connectionId: 9, flagNumber: 1 }, 2000)!;
  const fast = guest.monitor.allocate({ connectionId: 9, flagNumber: 3 }, 0)!;
  const start = scheduler.now();
  guest.monitor.trigger(slow);
  guest.monitor.trigger(fast);
  scheduler.runUntilIdle();
  assert.deepEqual(signals, [
    { flag: FLAG_BASE + 3, at: start },
    { flag: FLAG_BASE + 1, at: start + 2000 },
  ]);
  assert.equal(guest.monitor.setLatency(slow, 50), true);
  assert.equal(guest.monitor.setLatency(77, 50), false, 'not allocated');
  guest.monitor.trigger(slow);
  scheduler.runUntilIdle();
  assert.equal(signals[2]!.at, start + 2050);
});

test('triggers of free or impossible ids signal nothing; a signal whose connection is gone is counted', (t) => {
  const { scheduler, guest, signals } = machine(t.name);
  assert.equal(guest.monitor.trigger(5), true, 'a free id in a disabled group');
  assert.equal(guest.monitor.trigger(MONITOR_ID_COUNT), false);
  assert.equal(guest.monitor.trigger(-1), false);
  const id = guest.monitor.allocate({ connectionId: 9, flagNumber: 0 }, 0)!;
  assert.equal(guest.monitor.release(id), true);
  guest.monitor.trigger(id);
  scheduler.runUntilIdle();
  assert.deepEqual(signals, []);
  const orphan = guest.monitor.allocate({ connectionId: 77, flagNumber: 0 }, 0)!;
  guest.monitor.trigger(orphan);
  scheduler.runUntilIdle();
  assert.equal(guest.monitor.failedSignals, 1);
  assert.deepEqual(signals, []);
});
