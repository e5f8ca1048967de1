import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HV_STATUS } from '../../src/hv/hv-status.js';
import { HvMemory } from '../../src/hv/hv-memory.js';
import { Hypercalls } from '../../src/hv/hypercalls.js';
import { createHypervisor } from '../../src/hv/hypervisor.js';
import { HV_PORT_TYPE } from '../../src/hv/port-table.js';
import { SeededScheduler } from '../../src/hv/seeded-scheduler.js';
import { EVENT_FLAG_COUNT } from '../../src/hv/synic-message.js';
import { testSeed } from '../support/seed.js';

const HOST = 0;
const GUEST = 1;
const SINT = 2;

function machine(name: string) {
  const scheduler = new SeededScheduler(testSeed(name));
  const hv = createHypervisor({ partitions: [{ id: HOST, vpCount: 2 }, { id: GUEST, vpCount: 1 }] }, scheduler);
  return { scheduler, host: hv.partition(HOST), guest: hv.partition(GUEST) };
}

test('every one of the 2048 flags of a SINT can be signalled and is seen exactly once, flag 0 included', (t) => {
  const { scheduler, host, guest } = machine(t.name);
  assert.equal(host.createEventPort(1, { vp: 1, sint: SINT, baseFlagNumber: 0, flagCount: EVENT_FLAG_COUNT }), HV_STATUS.SUCCESS);
  assert.equal(guest.connect(2, { partitionId: HOST, portId: 1 }), HV_STATUS.SUCCESS);
  const seen: number[] = [];
  host.onEvent(1, SINT, (flag) => seen.push(flag));
  for (let flag = EVENT_FLAG_COUNT - 1; flag >= 0; flag--) assert.equal(guest.signalEvent(2, flag), HV_STATUS.SUCCESS);
  scheduler.runUntilIdle();
  assert.deepEqual(seen, Array.from({ length: EVENT_FLAG_COUNT }, (_, i) => i), 'ascending: the scan walks the flags in order');
  assert.equal(guest.signalEvent(2, EVENT_FLAG_COUNT), HV_STATUS.INVALID_PARAMETER);
});

test('the flag number is relative to the port base; flags at or past the port flag count are INVALID_PARAMETER', (t) => {
  // TLFS HvCallSignalEvent: SIEF bit = base flag number + FlagNumber; FlagNumber ≥ flag count → HV_STATUS_INVALID_PARAMETER.
  const { scheduler, host, guest } = machine(t.name);
  host.createEventPort(1, { vp: 0, sint: SINT, baseFlagNumber: 40, flagCount: 3 });
  guest.connect(2, { partitionId: HOST, portId: 1 });
  const seen: number[] = [];
  host.onEvent(0, SINT, (flag) => seen.push(flag));
  assert.equal(guest.signalEvent(2), HV_STATUS.SUCCESS);
  assert.equal(guest.signalEvent(2, 2), HV_STATUS.SUCCESS);
  for (const bad of [3, 0xffff, 0x1_0000, -1, 0.5]) assert.equal(guest.signalEvent(2, bad), HV_STATUS.INVALID_PARAMETER, `flag ${bad}`);
  scheduler.runUntilIdle();
  assert.deepEqual(seen, [40, 42]);
});

test('signals of a flag that is still set merge: test-and-clear reports it once', (t) => {
  const { scheduler, host, guest } = machine(t.name);
  host.createEventPort(1, { vp: 0, sint: SINT, baseFlagNumber: 5 });
  guest.connect(2, { partitionId: HOST, portId: 1 });
  const seen: number[] = [];
  host.onEvent(0, SINT, (flag) => seen.push(flag));
  for (let i = 0; i < 3; i++) guest.signalEvent(2);
  scheduler.runUntilIdle();
  assert.deepEqual(seen, [5]);
  guest.signalEvent(2);
  scheduler.runUntilIdle();
  assert.deepEqual(seen, [5, 5], 'once cleared, the flag signals again');
});

test('flag n is bit n%8 of byte n/8 of the SINT area of the SIEF page, cleared by the scan', () => {
  // TLFS HV_SYNIC_EVENT_FLAGS: "the first byte of the array contains flags 0 through 7 (0 being the least significant bit)".
  const memory = HvMemory.allocate({ partitions: [{ id: 0, vpCount: 1 }] });
  const calls = new Hypercalls(memory, new SeededScheduler(1));
  const partition = memory.partitions[0]!;
  const area = partition.eventFlagsOffset(0, SINT);
  // The SIEFP holds 256 bytes per SINT: SINT 2 starts 512 bytes into the page.
  assert.equal(area - partition.eventFlagsOffset(0, 0), 2 * 256);
  const u8 = partition.bytes.u8;
  for (const flag of [0, 9, 31, 32, 2047]) assert.equal(calls.synic.setEventFlag(0, 0, SINT, flag), true, `flag ${flag} was clear`);
  assert.equal(calls.synic.setEventFlag(0, 0, SINT, 9), false, 'already set');
  assert.deepEqual([u8[area], u8[area + 1], u8[area + 3], u8[area + 4], u8[area + 255]], [0x01, 0x02, 0x80, 0x01, 0x80]);
  const taken: number[] = [];
  assert.equal(calls.synic.takeEventFlags(0, 0, SINT, (flag) => taken.push(flag)), 5);
  assert.deepEqual(taken, [0, 9, 31, 32, 2047]);
  assert.ok(u8.subarray(area, area + 256).every((b) => b === 0));
});

test('event and message ports are not interchangeable: the wrong call is INVALID_PORT_ID', (t) => {
  // TLFS: HvCallPostMessage / HvCallSignalEvent fail with HV_STATUS_INVALID_PORT_ID when the port is of the other type.
  const { host, guest } = machine(t.name);
  host.createEventPort(1, { vp: 0, sint: SINT, baseFlagNumber: 0 });
  host.createMessagePort(2, { vp: 0, sint: SINT });
  guest.connect(10, { partitionId: HOST, portId: 1 });
  guest.connect(20, { partitionId: HOST, portId: 2 });
  assert.equal(guest.postMessage(10, 1, new Uint8Array(1)), HV_STATUS.INVALID_PORT_ID);
  assert.equal(guest.signalEvent(20), HV_STATUS.INVALID_PORT_ID);
});

test('events and messages share a SINT: one raise dispatches both', (t) => {
  // VMBus uses SINT 2 for control messages and channel events alike (linux-vmbus.md §A.3.1 VMBUS_MESSAGE_SINT).
  const { scheduler, host, guest } = machine(t.name);
  host.createEventPort(1, { vp: 0, sint: SINT, baseFlagNumber: 7 });
  host.createMessagePort(2, { vp: 0, sint: SINT });
  guest.connect(10, { partitionId: HOST, portId: 1 });
  guest.connect(20, { partitionId: HOST, portId: 2 });
  const log: string[] = [];
  host.onEvent(0, SINT, (flag) => log.push(`event ${flag}`));
  host.onMessage(0, SINT, (m) => log.push(`message ${m.payload[0]}`));
  guest.signalEvent(10);
  guest.postMessage(20, 1, Uint8Array.of(3));
  scheduler.runUntilIdle();
  assert.deepEqual(log.sort(), ['event 7', 'message 3']);
  assert.equal(host.stats.events, 1);
});

test('event port flag ranges must fit the 2048 flags and name at least one', (t) => {
  const { host } = machine(t.name);
  const bad = [
    { baseFlagNumber: 2048, flagCount: 1 },
    { baseFlagNumber: 2000, flagCount: 49 },
    { baseFlagNumber: 0, flagCount: 0 },
    { baseFlagNumber: -1, flagCount: 1 },
  ];
  bad.forEach((range, i) => assert.equal(host.createEventPort(100 + i, { vp: 0, sint: SINT, ...range }), HV_STATUS.INVALID_PARAMETER));
  assert.equal(host.createEventPort(1, { vp: 0, sint: SINT, baseFlagNumber: 2000, flagCount: 48 }), HV_STATUS.SUCCESS);
});

test('the port type constants are the TLFS HV_PORT_TYPE values', () => {
  // TLFS HV_PORT_TYPE / Linux hv_port_type: HvPortTypeMessage = 1, HvPortTypeEvent = 2.
  assert.deepEqual(HV_PORT_TYPE, { MESSAGE: 1, EVENT: 2 });
});

test('a handler that throws loses no flags: the ones it was not handed stay set for the next scan', (t) => {
  const { scheduler, host, guest } = machine(t.name);
  host.createEventPort(1, { vp: 0, sint: SINT, baseFlagNumber: 0, flagCount: 64 });
  guest.connect(2, { partitionId: HOST, portId: 1 });
  const seen: number[] = [];
  let fail = true;
  host.onEvent(0, SINT, (flag) => {
    seen.push(flag);
    if (flag === 3 && fail) {
      fail = false;
      throw new Error('handler bug');
    }
  });
  for (const flag of [1, 3, 4, 40]) guest.signalEvent(2, flag);
  assert.throws(() => scheduler.runUntilIdle(), /handler bug/);
  guest.signalEvent(2, 50);
  scheduler.runUntilIdle();
  assert.deepEqual(seen, [1, 3, 4, 40, 50]);
});
