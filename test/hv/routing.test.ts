import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HV_STATUS } from '../../src/hv/hv-status.js';
import { createHypervisor } from '../../src/hv/hypervisor.js';
import { HV_ID_LIMIT } from '../../src/hv/port-table.js';
import { SeededScheduler } from '../../src/hv/seeded-scheduler.js';
import type { HypervisorConfig } from '../../src/hv/hv-memory.js';
import { testSeed } from '../support/seed.js';

const SINT = 2;

function machine(seed: number, limits: Partial<HypervisorConfig> = {}) {
  const scheduler = new SeededScheduler(seed);
  const partitions = [0, 1, 2].map((id) => ({ id, vpCount: 1 }));
  const hv = createHypervisor({ partitions, ...limits }, scheduler);
  return { scheduler, hv, a: hv.partition(0), b: hv.partition(1), c: hv.partition(2) };
}

test('an unknown connection id is INVALID_CONNECTION_ID for post and signal', (t) => {
  const { a } = machine(testSeed(t.name));
  assert.equal(a.postMessage(1, 1, new Uint8Array(1)), HV_STATUS.INVALID_CONNECTION_ID);
  assert.equal(a.signalEvent(1), HV_STATUS.INVALID_CONNECTION_ID);
  assert.equal(a.postMessage(HV_ID_LIMIT, 1, new Uint8Array(1)), HV_STATUS.INVALID_CONNECTION_ID, 'ids are 24-bit');
});

test('connection ids belong to the sending partition: the same id routes differently per sender', (t) => {
  const { scheduler, a, b, c } = machine(testSeed(t.name));
  a.createMessagePort(1, { vp: 0, sint: SINT });
  b.createMessagePort(1, { vp: 0, sint: SINT });
  assert.equal(c.connect(5, { partitionId: 0, portId: 1 }), HV_STATUS.SUCCESS);
  assert.equal(b.connect(5, { partitionId: 0, portId: 1 }), HV_STATUS.SUCCESS);
  assert.equal(a.connect(5, { partitionId: 1, portId: 1 }), HV_STATUS.SUCCESS);
  const got: string[] = [];
  a.onMessage(0, SINT, (m) => got.push(`a<-${m.payload[0]}`), { eom: 'auto' });
  b.onMessage(0, SINT, (m) => got.push(`b<-${m.payload[0]}`));
  c.postMessage(5, 1, Uint8Array.of(2));
  b.postMessage(5, 1, Uint8Array.of(1));
  a.postMessage(5, 1, Uint8Array.of(0));
  scheduler.runUntilIdle();
  assert.deepEqual(got.sort(), ['a<-1', 'a<-2', 'b<-0']);
  assert.equal(c.signalEvent(6), HV_STATUS.INVALID_CONNECTION_ID);
});

test('ports and connections are checked when they are made', (t) => {
  const { a, b } = machine(testSeed(t.name));
  const cases: [string, () => number, number][] = [
    ['SINT 0 is the hypervisor\'s', () => a.createMessagePort(1, { vp: 0, sint: 0 }), HV_STATUS.INVALID_PARAMETER],
    ['SINT 16 does not exist', () => a.createMessagePort(1, { vp: 0, sint: 16 }), HV_STATUS.INVALID_PARAMETER],
    ['VP 1 does not exist', () => a.createMessagePort(1, { vp: 1, sint: SINT }), HV_STATUS.INVALID_VP_INDEX],
    ['port ids are 24-bit', () => a.createMessagePort(HV_ID_LIMIT, { vp: 0, sint: SINT }), HV_STATUS.INVALID_PORT_ID],
    ['a good port', () => a.createMessagePort(1, { vp: 0, sint: SINT }), HV_STATUS.SUCCESS],
    ['port ids are unique in their partition', () => a.createEventPort(1, { vp: 0, sint: 3, baseFlagNumber: 0 }), HV_STATUS.INVALID_PORT_ID],
    ['the same id in another partition', () => b.createMessagePort(1, { vp: 0, sint: SINT }), HV_STATUS.SUCCESS],
    ['connect to a missing port', () => b.connect(1, { partitionId: 0, portId: 2 }), HV_STATUS.INVALID_PORT_ID],
    ['connect to a missing partition', () => b.connect(1, { partitionId: 9, portId: 1 }), HV_STATUS.INVALID_PARTITION_ID],
    ['a good connection', () => b.connect(1, { partitionId: 0, portId: 1 }), HV_STATUS.SUCCESS],
    ['connection ids are unique in their partition', () => b.connect(1, { partitionId: 1, portId: 1 }), HV_STATUS.INVALID_CONNECTION_ID],
    ['disconnect an unknown id', () => b.disconnect(2), HV_STATUS.INVALID_CONNECTION_ID],
    ['delete an unknown port', () => a.deletePort(2), HV_STATUS.INVALID_PORT_ID],
  ];
  for (const [what, call, status] of cases) assert.equal(call(), status, what);
});

test('after disconnect the id is unknown and can be connected again', (t) => {
  const { scheduler, a, b } = machine(testSeed(t.name));
  a.createMessagePort(1, { vp: 0, sint: SINT });
  b.connect(3, { partitionId: 0, portId: 1 });
  assert.equal(b.disconnect(3), HV_STATUS.SUCCESS);
  assert.equal(b.postMessage(3, 1, new Uint8Array(1)), HV_STATUS.INVALID_CONNECTION_ID);
  assert.equal(b.connect(3, { partitionId: 0, portId: 1 }), HV_STATUS.SUCCESS);
  let got = 0;
  a.onMessage(0, SINT, () => got++);
  assert.equal(b.postMessage(3, 1, new Uint8Array(1)), HV_STATUS.SUCCESS);
  scheduler.runUntilIdle();
  assert.equal(got, 1);
});

test('a connection to a deleted port stays INVALID_PORT_ID even when a new port takes its id', (t) => {
  // TLFS HvCallPostMessage: HV_STATUS_INVALID_PORT_ID "The port associated with the specified connection has been deleted".
  const { a, b } = machine(testSeed(t.name));
  a.createEventPort(1, { vp: 0, sint: SINT, baseFlagNumber: 0 });
  b.connect(3, { partitionId: 0, portId: 1 });
  a.deletePort(1);
  assert.equal(b.signalEvent(3), HV_STATUS.INVALID_PORT_ID);
  a.createEventPort(1, { vp: 0, sint: SINT, baseFlagNumber: 0 });
  assert.equal(b.signalEvent(3), HV_STATUS.INVALID_PORT_ID, 'the old connection does not follow the new port');
  b.disconnect(3);
  b.connect(3, { partitionId: 0, portId: 1 });
  assert.equal(b.signalEvent(3), HV_STATUS.SUCCESS);
});

test('full port and connection tables are INSUFFICIENT_MEMORY', (t) => {
  const { a, b } = machine(testSeed(t.name), { portCapacity: 2, connectionCapacity: 2 });
  assert.equal(a.createMessagePort(1, { vp: 0, sint: SINT }), HV_STATUS.SUCCESS);
  assert.equal(a.createMessagePort(2, { vp: 0, sint: SINT }), HV_STATUS.SUCCESS);
  assert.equal(a.createMessagePort(3, { vp: 0, sint: SINT }), HV_STATUS.INSUFFICIENT_MEMORY);
  assert.equal(b.connect(1, { partitionId: 0, portId: 1 }), HV_STATUS.SUCCESS);
  assert.equal(b.connect(2, { partitionId: 0, portId: 1 }), HV_STATUS.SUCCESS);
  assert.equal(b.connect(3, { partitionId: 0, portId: 1 }), HV_STATUS.INSUFFICIENT_MEMORY);
  assert.equal(b.disconnect(1), HV_STATUS.SUCCESS);
  assert.equal(b.connect(3, { partitionId: 0, portId: 1 }), HV_STATUS.SUCCESS, 'a freed entry is reused');
});

test('the connection table agrees with a plain map over any sequence of connects and disconnects', (t) => {
  const seed = testSeed(t.name);
  const operation = fc.record({
    connect: fc.boolean(),
    partition: fc.integer({ min: 0, max: 2 }),
    // Few distinct ids in a small table: many collisions, tombstones and reuse.
    connectionId: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constant(HV_ID_LIMIT - 1)),
  });
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 200 }), (operations) => {
      const { a, b, c } = machine(seed, { connectionCapacity: 16 });
      const partitions = [a, b, c];
      a.createEventPort(1, { vp: 0, sint: SINT, baseFlagNumber: 0 });
      const model = new Set<string>();
      for (const { connect, partition, connectionId } of operations) {
        const key = `${partition}:${connectionId}`;
        const sender = partitions[partition]!;
        if (connect) {
          const expected = model.has(key)
            ? HV_STATUS.INVALID_CONNECTION_ID
            : model.size === 16
              ? HV_STATUS.INSUFFICIENT_MEMORY
              : HV_STATUS.SUCCESS;
          assert.equal(sender.connect(connectionId, { partitionId: 0, portId: 1 }), expected);
          if (expected === HV_STATUS.SUCCESS) model.add(key);
        } else {
          assert.equal(sender.disconnect(connectionId), model.delete(key) ? HV_STATUS.SUCCESS : HV_STATUS.INVALID_CONNECTION_ID);
        }
        for (let p = 0; p < 3; p++) {
          for (const id of [0, 5, 12, HV_ID_LIMIT - 1]) {
            const status = partitions[p]!.signalEvent(id);
            assert.equal(status, model.has(`${p}:${id}`) ? HV_STATUS.SUCCESS : HV_STATUS.INVALID_CONNECTION_ID);
          }
        }
      }
    }),
    { seed, numRuns: 200 },
  );
});
