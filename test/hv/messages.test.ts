import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HV_STATUS } from '../../src/hv/hv-status.js';
import { HvMemory, type HypervisorConfig } from '../../src/hv/hv-memory.js';
import { Hypercalls } from '../../src/hv/hypercalls.js';
import { createHypervisor } from '../../src/hv/hypervisor.js';
import { Partition } from '../../src/hv/partition.js';
import { HV_PORT_TYPE } from '../../src/hv/port-table.js';
import { SeededScheduler } from '../../src/hv/seeded-scheduler.js';
import { HV_MESSAGE_FLAG_PENDING, HV_MESSAGE_LAYOUT, type HvMessage } from '../../src/hv/synic-message.js';
import { testSeed } from '../support/seed.js';

// VMBus uses SINT 2 for its messages (openvmm-vmbus.md §6.1, vmbus_core/src/lib.rs:24); any SINT 1..15 works here.
const SINT = 2;
const HOST = 0;
const GUEST = 7;
const PORT = 1;
const CONNECTION = 4;

function machine(name: string, limits: Partial<HypervisorConfig> = {}) {
  const scheduler = new SeededScheduler(testSeed(name));
  const hv = createHypervisor({ partitions: [{ id: HOST, vpCount: 1 }, { id: GUEST, vpCount: 2 }], ...limits }, scheduler);
  const host = hv.partition(HOST);
  const guest = hv.partition(GUEST);
  assert.equal(host.createMessagePort(PORT, { vp: 0, sint: SINT }), HV_STATUS.SUCCESS);
  assert.equal(guest.connect(CONNECTION, { partitionId: HOST, portId: PORT }), HV_STATUS.SUCCESS);
  return { scheduler, hv, host, guest };
}

function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

test('a posted message reaches the handler of its port with type, port id and payload', (t) => {
  const { scheduler, host, guest } = machine(t.name);
  const received: HvMessage[] = [];
  host.onMessage(0, SINT, (m) => received.push(m));
  assert.equal(guest.postMessage(CONNECTION, 1, bytes(1, 2, 3)), HV_STATUS.SUCCESS);
  assert.equal(received.length, 0, 'delivery is an event, not part of the post');
  scheduler.runUntilIdle();
  assert.equal(received.length, 1);
  assert.equal(received[0]!.messageType, 1);
  assert.equal(received[0]!.portId, PORT);
  assert.deepEqual(received[0]!.payload, bytes(1, 2, 3));
});

test('messages on one SINT are delivered in post order, one slot at a time', (t) => {
  const { scheduler, host, guest } = machine(t.name);
  const order: number[] = [];
  host.onMessage(0, SINT, (m) => order.push(m.payload[0]!));
  for (let i = 0; i < 17; i++) assert.equal(guest.postMessage(CONNECTION, 1, bytes(i)), HV_STATUS.SUCCESS);
  scheduler.runUntilIdle();
  assert.deepEqual(order, Array.from({ length: 17 }, (_, i) => i));
});

test('a busy slot queues messages with MessagePending set; each EOM moves the next one in', () => {
  const memory = HvMemory.allocate({ partitions: [{ id: 0, vpCount: 1 }] });
  const calls = new Hypercalls(memory, new SeededScheduler(1));
  calls.createPort(0, PORT, { type: HV_PORT_TYPE.MESSAGE, vp: 0, sint: SINT, baseFlagNumber: 0, flagCount: 0 });
  calls.connect(0, CONNECTION, 0, PORT);
  for (const i of [10, 11, 12]) assert.equal(calls.postMessage(0, CONNECTION, 1, bytes(i)), HV_STATUS.SUCCESS);
  const slot = memory.partitions[0]!.slotOffset(0, SINT);
  const u8 = memory.partitions[0]!.bytes.u8;
  // Flags bit 0 = MessagePending (linux-vmbus.md §A.3.1, struct hv_message_header).
  const look = () => [u8[slot + HV_MESSAGE_LAYOUT.PAYLOAD]!, u8[slot + HV_MESSAGE_LAYOUT.FLAGS]!, u8[slot + HV_MESSAGE_LAYOUT.TYPE]!];
  assert.deepEqual(look(), [10, HV_MESSAGE_FLAG_PENDING, 1]);
  calls.endOfMessage(0, 0, SINT);
  assert.deepEqual(look(), [11, HV_MESSAGE_FLAG_PENDING, 1]);
  calls.endOfMessage(0, 0, SINT);
  assert.deepEqual(look(), [12, 0, 1]);
  calls.endOfMessage(0, 0, SINT);
  assert.equal(u8[slot + HV_MESSAGE_LAYOUT.TYPE], 0, 'HVMSG_NONE: the slot is free');
});

test('with manual EOM the next message waits until eom()', (t) => {
  const { scheduler, host, guest } = machine(t.name);
  const order: number[] = [];
  host.onMessage(0, SINT, (m) => order.push(m.payload[0]!), { eom: 'manual' });
  for (const i of [1, 2, 3]) guest.postMessage(CONNECTION, 1, bytes(i));
  scheduler.runUntilIdle();
  assert.deepEqual(order, [1]);
  assert.equal(host.eom(0, SINT), true);
  assert.equal(host.eom(0, SINT), false, 'nothing is awaiting EOM until the next delivery');
  scheduler.runUntilIdle();
  assert.deepEqual(order, [1, 2]);
  host.eom(0, SINT);
  scheduler.runUntilIdle();
  assert.deepEqual(order, [1, 2, 3]);
});

test('a handler may EOM early; the message after it is neither lost nor ended twice', (t) => {
  const { scheduler, host, guest } = machine(t.name);
  const order: number[] = [];
  host.onMessage(0, SINT, (m) => {
    assert.equal(host.eom(0, SINT), true);
    order.push(m.payload[0]!);
  });
  for (const i of [1, 2, 3]) guest.postMessage(CONNECTION, 1, bytes(i));
  scheduler.runUntilIdle();
  assert.deepEqual(order, [1, 2, 3]);
});

test('payloads of up to 240 bytes post; 241 bytes, type 0 and hypervisor types are INVALID_PARAMETER', (t) => {
  // TLFS HvCallPostMessage: payload ≤ 240, type ≠ 0 with the top bit clear, else HV_STATUS_INVALID_PARAMETER.
  const { scheduler, host, guest } = machine(t.name);
  const sizes: number[] = [];
  host.onMessage(0, SINT, (m) => sizes.push(m.payload.length));
  assert.equal(guest.postMessage(CONNECTION, 1, new Uint8Array(240)), HV_STATUS.SUCCESS);
  assert.equal(guest.postMessage(CONNECTION, 0x7fff_ffff, new Uint8Array(0)), HV_STATUS.SUCCESS);
  const invalid: [type: number, size: number][] = [
    [1, 241],
    [1, 4096],
    [0, 8],
    [0x8000_0000, 8],
    [0xffff_ffff, 8],
    [-1, 8],
    [1.5, 8],
  ];
  for (const [type, size] of invalid) {
    assert.equal(guest.postMessage(CONNECTION, type, new Uint8Array(size)), HV_STATUS.INVALID_PARAMETER, `type ${type} size ${size}`);
  }
  scheduler.runUntilIdle();
  assert.deepEqual(sizes, [240, 0]);
});

test('a port buffers 16 messages behind a busy slot; the next post gets INSUFFICIENT_BUFFERS', (t) => {
  // HV_PORT_MESSAGE_BUFFER_COUNT = 16 (hvgdk.h); TLFS HvCallPostMessage: "The port has no available guest message buffers".
  const { scheduler, host, guest } = machine(t.name);
  assert.equal(host.createMessagePort(PORT + 1, { vp: 0, sint: SINT }), HV_STATUS.SUCCESS);
  assert.equal(guest.connect(CONNECTION + 1, { partitionId: HOST, portId: PORT + 1 }), HV_STATUS.SUCCESS);
  assert.equal(guest.postMessage(CONNECTION, 1, bytes(0)), HV_STATUS.SUCCESS, 'into the slot');
  for (let i = 1; i <= 16; i++) assert.equal(guest.postMessage(CONNECTION, 1, bytes(i)), HV_STATUS.SUCCESS, `buffer ${i}`);
  assert.equal(guest.postMessage(CONNECTION, 1, bytes(17)), HV_STATUS.INSUFFICIENT_BUFFERS);
  assert.equal(guest.postMessage(CONNECTION + 1, 1, bytes(100)), HV_STATUS.SUCCESS, 'another port has its own buffers');
  const received: number[] = [];
  host.onMessage(0, SINT, (m) => received.push(m.payload[0]!));
  scheduler.runUntilIdle();
  assert.deepEqual(received, [...Array.from({ length: 17 }, (_, i) => i), 100]);
  assert.equal(guest.postMessage(CONNECTION, 1, bytes(18)), HV_STATUS.SUCCESS, 'buffers are returned as messages are delivered');
});

test('the SINT queue depth bounds the messages of all ports together', (t) => {
  const { host, guest } = machine(t.name, { sintQueueDepth: 4 });
  host.createMessagePort(PORT + 1, { vp: 0, sint: SINT });
  guest.connect(CONNECTION + 1, { partitionId: HOST, portId: PORT + 1 });
  for (const connection of [CONNECTION, CONNECTION, CONNECTION, CONNECTION + 1, CONNECTION + 1]) {
    assert.equal(guest.postMessage(connection, 1, bytes(0)), HV_STATUS.SUCCESS);
  }
  assert.equal(guest.postMessage(CONNECTION + 1, 1, bytes(0)), HV_STATUS.INSUFFICIENT_BUFFERS);
  assert.equal(guest.postMessage(CONNECTION, 1, bytes(0)), HV_STATUS.INSUFFICIENT_BUFFERS);
});

test('deleting a port drops its queued messages; a message already in the slot is still delivered', (t) => {
  // TLFS HvDeletePort remarks: undelivered messages are lost, messages already in the SIM page may still arrive.
  const { scheduler, host, guest } = machine(t.name);
  host.createMessagePort(PORT + 1, { vp: 0, sint: SINT });
  guest.connect(CONNECTION + 1, { partitionId: HOST, portId: PORT + 1 });
  guest.postMessage(CONNECTION, 1, bytes(1));
  guest.postMessage(CONNECTION, 1, bytes(2));
  guest.postMessage(CONNECTION + 1, 1, bytes(3));
  guest.postMessage(CONNECTION, 1, bytes(4));
  assert.equal(host.deletePort(PORT), HV_STATUS.SUCCESS);
  assert.equal(guest.postMessage(CONNECTION, 1, bytes(5)), HV_STATUS.INVALID_PORT_ID);
  const received: number[] = [];
  host.onMessage(0, SINT, (m) => received.push(m.payload[0]!));
  scheduler.runUntilIdle();
  assert.deepEqual(received, [1, 3]);
});

test('messages that arrived before any handler are delivered once one registers', (t) => {
  const { scheduler, host, guest } = machine(t.name);
  guest.postMessage(CONNECTION, 1, bytes(9));
  scheduler.runUntilIdle();
  const received: number[] = [];
  host.onMessage(0, SINT, (m) => received.push(m.payload[0]!));
  scheduler.runUntilIdle();
  assert.deepEqual(received, [9]);
});

test('stopping a manual handler ends its message, so the next handler gets the rest', (t) => {
  const { scheduler, host, guest } = machine(t.name);
  const first: number[] = [];
  const stop = host.onMessage(0, SINT, (m) => first.push(m.payload[0]!), { eom: 'manual' });
  guest.postMessage(CONNECTION, 1, bytes(1));
  guest.postMessage(CONNECTION, 1, bytes(2));
  scheduler.runUntilIdle();
  stop();
  const second: number[] = [];
  host.onMessage(0, SINT, (m) => second.push(m.payload[0]!));
  scheduler.runUntilIdle();
  assert.deepEqual([first, second], [[1], [2]]);
});

test('one message handler per VP and SINT; VP and SINT outside the partition are RangeErrors', (t) => {
  const { host } = machine(t.name);
  host.onMessage(0, SINT, () => undefined);
  assert.throws(() => host.onMessage(0, SINT, () => undefined), /already has a message handler/);
  assert.throws(() => host.onMessage(1, SINT, () => undefined), RangeError);
  assert.throws(() => host.onMessage(0, 16, () => undefined), RangeError);
});

test('a slot whose header was corrupted is ended and counted, not delivered', () => {
  const scheduler = new SeededScheduler(1);
  const memory = HvMemory.allocate({ partitions: [{ id: 0, vpCount: 1 }] });
  const calls = new Hypercalls(memory, scheduler);
  const partition = new Partition(calls, 0);
  partition.createMessagePort(PORT, { vp: 0, sint: SINT });
  partition.connect(CONNECTION, { partitionId: 0, portId: PORT });
  partition.postMessage(CONNECTION, 1, bytes(1));
  partition.postMessage(CONNECTION, 1, bytes(2));
  memory.partitions[0]!.bytes.u8[memory.partitions[0]!.slotOffset(0, SINT) + HV_MESSAGE_LAYOUT.PAYLOAD_SIZE] = 250;
  const received: number[] = [];
  partition.onMessage(0, SINT, (m) => received.push(m.payload[0]!));
  scheduler.runUntilIdle();
  assert.deepEqual(received, [2]);
  assert.equal(partition.stats.invalidMessages, 1);
  assert.equal(partition.stats.messages, 1);
});
