/**
 * The drivers' ordered message posting through the simulated hypervisor: a
 * burst larger than the port's 16 message buffers (TLFS HvCreatePort, see
 * src/hv/hv-memory.ts) is held back and retried, in order, until the receiver
 * has drained it; a post the hypervisor refuses for good is reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_POST_WAIT, MessagePoster, type PostFailure } from '../../../src/bus/message-poster.js';
import { HV_STATUS, SeededScheduler, createHypervisor } from '../../../src/hv/index.js';
import { VMBUS_MESSAGE_TYPE } from '../../../src/wire/messages/index.js';
import { testSeed } from '../../support/seed.js';

const SENDER = 0;
const RECEIVER = 1;
const PORT = 5;
const CONNECTION = 9;

function setup(name: string) {
  const scheduler = new SeededScheduler(testSeed(name));
  const hv = createHypervisor({ partitions: [{ id: SENDER, vpCount: 1 }, { id: RECEIVER, vpCount: 1 }] }, scheduler);
  const receiver = hv.partition(RECEIVER);
  assert.equal(receiver.createMessagePort(PORT, { vp: 0, sint: 2 }), HV_STATUS.SUCCESS);
  assert.equal(hv.partition(SENDER).connect(CONNECTION, { partitionId: RECEIVER, portId: PORT }), HV_STATUS.SUCCESS);
  const failures: PostFailure[] = [];
  const poster = new MessagePoster(hv.partition(SENDER), scheduler, (failure) => failures.push(failure));
  return { scheduler, hv, receiver, poster, failures };
}

test('a burst beyond the port buffers arrives complete and in order', (t) => {
  const { scheduler, receiver, poster, failures } = setup(t.name);
  const received: number[] = [];
  receiver.onMessage(0, 2, (message) => {
    assert.equal(message.messageType, VMBUS_MESSAGE_TYPE);
    received.push(new DataView(message.payload.buffer, message.payload.byteOffset).getUint32(0, true));
  });
  const count = 300;
  for (let i = 0; i < count; i++) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, i, true);
    poster.post(CONNECTION, bytes);
  }
  assert.ok(poster.backlog > 0, 'the hypervisor refused part of the burst for now');
  scheduler.runUntilIdle();
  assert.deepEqual(received, Array.from({ length: count }, (_, i) => i));
  assert.equal(poster.backlog, 0);
  assert.deepEqual(failures, []);
});

test('a receiver that never drains makes the poster give up on each refused message after 10 s, and report it', (t) => {
  const { scheduler, poster, failures } = setup(t.name);
  // Nobody receives: the slot and the port's buffers fill, then every retry is refused.
  for (let i = 0; i < 20; i++) poster.post(CONNECTION, new Uint8Array(8));
  const start = scheduler.now();
  scheduler.runUntilIdle();
  assert.equal(poster.backlog, 0);
  assert.ok(failures.length > 0);
  assert.ok(failures.every((f) => f.status === HV_STATUS.INSUFFICIENT_BUFFERS && f.connectionId === CONNECTION));
  // Each refused message waited its full MAX_POST_WAIT of virtual time before the next was tried.
  assert.ok(scheduler.now() - start >= failures.length * MAX_POST_WAIT);
});

test('a post to an unknown connection is reported at once and does not hold back the rest', (t) => {
  const { scheduler, receiver, poster, failures } = setup(t.name);
  let received = 0;
  receiver.onMessage(0, 2, () => received++);
  poster.post(CONNECTION + 1, new Uint8Array(8));
  poster.post(CONNECTION, new Uint8Array(8));
  scheduler.runUntilIdle();
  assert.equal(received, 1);
  assert.deepEqual(failures.map((f) => f.status), [HV_STATUS.INVALID_CONNECTION_ID]);
});
