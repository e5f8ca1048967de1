import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { HV_STATUS } from '../../src/hv/hv-status.js';
import { attachHypervisor, createHypervisor, type Hypervisor } from '../../src/hv/hypervisor.js';
import type { Partition, PortRef } from '../../src/hv/partition.js';
import { SeededScheduler } from '../../src/hv/seeded-scheduler.js';
import type { SharedHypervisorDescriptor } from '../../src/hv/hv-memory.js';
import { TOPOLOGY, type WorkerCommand, type WorkerSetup } from './partition.worker.js';

interface Reply {
  readonly cmd: string;
  readonly [field: string]: unknown;
}

/** A partition's worker thread, with replies awaited by command name. */
class PartitionThread {
  private readonly worker: Worker;
  private readonly replies: Reply[] = [];
  private readonly waiters: { cmd: string; resolve: (reply: Reply) => void; reject: (error: Error) => void }[] = [];
  private failure: Error | undefined;
  readonly exited: Promise<number>;

  constructor(setup: WorkerSetup) {
    this.worker = new Worker(new URL('./partition.worker.js', import.meta.url), { workerData: setup });
    this.worker.on('message', (reply: Reply) => {
      const waiter = this.waiters.findIndex((w) => w.cmd === reply.cmd);
      if (waiter >= 0) this.waiters.splice(waiter, 1)[0]!.resolve(reply);
      else this.replies.push(reply);
    });
    this.worker.on('error', (error) => {
      this.failure = error;
      for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    });
    this.exited = new Promise((resolve) => this.worker.on('exit', resolve));
  }

  send(command: WorkerCommand): void {
    this.worker.postMessage(command);
  }

  next(cmd: string): Promise<Reply> {
    const queued = this.replies.findIndex((r) => r.cmd === cmd);
    if (queued >= 0) return Promise.resolve(this.replies.splice(queued, 1)[0]!);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ cmd, resolve, reject }));
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/** Made from the main thread: the workers must see these connections through the shared routing table. */
function connectPartitions(hv: Hypervisor): void {
  const { host, guest } = TOPOLOGY;
  const connections: [from: Partition, connectionId: number, to: PortRef][] = [
    [hv.partition(guest.id), TOPOLOGY.guestToHostMessages, { partitionId: host.id, portId: host.messagePort }],
    [hv.partition(guest.id), TOPOLOGY.guestToHostEvents, { partitionId: host.id, portId: host.eventPort }],
    [hv.partition(host.id), TOPOLOGY.hostToGuestMessages, { partitionId: guest.id, portId: guest.messagePort }],
    [hv.partition(host.id), TOPOLOGY.hostToGuestEvents, { partitionId: guest.id, portId: guest.eventPort }],
  ];
  for (const [from, connectionId, to] of connections) assert.equal(from.connect(connectionId, to), HV_STATUS.SUCCESS);
}

const TWO_THREADS = 'two partitions in two worker threads exchange messages and events both ways, and idle waits sleep';

test(TWO_THREADS, { timeout: 30_000 }, async () => {
  const partitions = [{ id: TOPOLOGY.host.id, vpCount: 1 }, { id: TOPOLOGY.guest.id, vpCount: 2 }];
  const hv = createHypervisor({ partitions }, 'threads');
  const descriptor: SharedHypervisorDescriptor = hv.exportShared();
  const host = new PartitionThread({ descriptor, role: 'host' });
  const guest = new PartitionThread({ descriptor, role: 'guest' });
  try {
    await Promise.all([host.next('ready'), guest.next('ready')]);
    connectPartitions(hv);

    // 40 messages overrun the host port's 16 buffers, so the guest also exercises INSUFFICIENT_BUFFERS and retry.
    const count = 40;
    guest.send({ cmd: 'ping', count });
    const done = await guest.next('done');
    assert.deepEqual(done['echoes'], Array.from({ length: count }, (_, i) => i), 'echoes come back in order');
    assert.deepEqual(done['flags'], Array.from({ length: count }, (_, i) => i), 'host→guest event flags, each seen once');
    assert.deepEqual(done['portIds'], [TOPOLOGY.guest.messagePort]);

    // Idle: the host's listener must sleep in Atomics.waitAsync, not poll.
    host.send({ cmd: 'idle', ms: 300 });
    const idle = await host.next('idle-result');
    console.log(`# host thread idle for 300 ms: process CPU ${idle['cpuMicros']} µs (informative)`);
    assert.equal(idle['drainsWhileIdle'], 0, 'no wake-up without a notify');
    const events = idle['events'] as number;
    assert.ok(events >= 1 && events <= count, `guest→host events merge while pending: ${events}`);
    assert.deepEqual(idle['flags'], [TOPOLOGY.host.eventBase]);

    // ...and a notify wakes it.
    guest.send({ cmd: 'poke' });
    const woken = await host.next('woken');
    assert.ok((woken['drains'] as number) >= 1);

    host.send({ cmd: 'close' });
    guest.send({ cmd: 'close' });
    assert.deepEqual(await Promise.all([host.exited, guest.exited]), [0, 0], 'closed partitions let their threads end');
  } finally {
    await Promise.all([host.terminate(), guest.terminate()]);
  }
});

test('a seeded hypervisor cannot be exported, and attach accepts only a hypervisor descriptor', () => {
  const seeded = createHypervisor({ partitions: [{ id: 0, vpCount: 1 }] }, new SeededScheduler(1));
  assert.throws(() => seeded.exportShared(), TypeError);
  const shared = createHypervisor({ partitions: [{ id: 0, vpCount: 1 }] }, 'threads');
  const descriptor = shared.exportShared();
  assert.equal(attachHypervisor(structuredClone(descriptor)).partition(0).vpCount, 1, 'survives structured cloning');
  assert.throws(() => attachHypervisor({ ...descriptor, kind: 'other' } as unknown as SharedHypervisorDescriptor), TypeError);
  assert.throws(() => attachHypervisor({ ...descriptor, partitionBuffers: [new SharedArrayBuffer(4096)] }), RangeError);
});
