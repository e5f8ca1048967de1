import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHypervisor } from '../../src/hv/hypervisor.js';
import { SeededRandom } from '../../src/hv/seeded-random.js';
import { SeededScheduler } from '../../src/hv/seeded-scheduler.js';
import { testSeed } from '../support/seed.js';

/**
 * Three partitions post messages and signal events to each other on several
 * SINTs and VPs, and each delivery sends one more; returns the order in which
 * partition code saw the deliveries.
 */
function deliveryOrder(seed: number): string[] {
  const scheduler = new SeededScheduler(seed);
  const hv = createHypervisor({ partitions: [0, 1, 2].map((id) => ({ id, vpCount: 2 })) }, scheduler);
  const log: string[] = [];
  for (const receiver of hv.partitions) {
    for (const vp of [0, 1]) {
      for (const sint of [2, 3]) {
        const port = vp * 16 + sint;
        receiver.createMessagePort(port, { vp, sint });
        receiver.createEventPort(100 + port, { vp, sint, baseFlagNumber: port });
        for (const sender of hv.partitions) {
          sender.connect(receiver.id * 1000 + port, { partitionId: receiver.id, portId: port });
          sender.connect(receiver.id * 1000 + 100 + port, { partitionId: receiver.id, portId: 100 + port });
        }
        receiver.onMessage(vp, sint, (m) => {
          log.push(`${receiver.id}/${vp}/${sint} message ${m.payload[0]}`);
          const hops = m.payload[0]!;
          if (hops > 0) receiver.postMessage(((receiver.id + 1) % 3) * 1000 + port, 1, Uint8Array.of(hops - 1));
        });
        receiver.onEvent(vp, sint, (flag) => log.push(`${receiver.id}/${vp}/${sint} event ${flag}`));
      }
    }
  }
  scheduler.runUntilIdle();
  log.length = 0;
  for (const sender of hv.partitions) {
    for (const receiver of [0, 1, 2]) {
      for (const port of [2, 3, 18, 19]) {
        sender.postMessage(receiver * 1000 + port, 1, Uint8Array.of(2));
        sender.signalEvent(receiver * 1000 + 100 + port);
      }
    }
  }
  scheduler.runUntilIdle();
  return log;
}

test('the same seed gives the same delivery order', (t) => {
  const seed = testSeed(t.name);
  const first = deliveryOrder(seed);
  assert.equal(first.length, 3 * 3 * 4 * 3 + 3 * 4, 'every message with its two forwards, and one merged event per event port');
  assert.deepEqual(deliveryOrder(seed), first);
});

test('different seeds give different delivery orders', (t) => {
  const base = testSeed(t.name);
  const orders = new Set<string>();
  for (let i = 0; i < 8; i++) orders.add(deliveryOrder(base + i).join('\n'));
  assert.ok(orders.size > 1, `8 seeds gave ${orders.size} distinct order(s)`);
});

test('timers run in due order on the virtual clock, which moves only when nothing is ready', (t) => {
  const scheduler = new SeededScheduler(testSeed(t.name));
  const ran: string[] = [];
  scheduler.schedule(() => ran.push(`30@${scheduler.now()}`), 30);
  scheduler.schedule(() => ran.push(`10@${scheduler.now()}`), 10);
  scheduler.schedule(() => {
    ran.push(`20@${scheduler.now()}`);
    scheduler.schedule(() => ran.push(`20+0@${scheduler.now()}`), 0);
  }, 20);
  scheduler.schedule(() => ran.push(`0@${scheduler.now()}`), 0);
  assert.equal(scheduler.runUntil(15), 2);
  assert.equal(scheduler.now(), 15);
  assert.equal(scheduler.pending, 2);
  scheduler.runUntilIdle();
  assert.deepEqual(ran, ['0@0', '10@10', '20@20', '20+0@20', '30@30']);
  assert.equal(scheduler.step(), false);
});

test('a simulation that keeps feeding itself is reported instead of spinning forever', (t) => {
  const scheduler = new SeededScheduler(testSeed(t.name));
  const again = (): void => {
    scheduler.schedule(again, 0);
  };
  again();
  assert.throws(() => scheduler.runUntilIdle(1000), /still busy after 1000 steps/);
});

test('a cancelled timer does not run and the virtual clock never moves to it; cancel is idempotent, and a no-op once the task ran', (t) => {
  const scheduler = new SeededScheduler(testSeed(t.name));
  const ran: string[] = [];
  const cancelFirst = scheduler.schedule(() => ran.push('10'), 10);
  const cancelLast = scheduler.schedule(() => ran.push('50'), 50);
  scheduler.schedule(() => ran.push('30'), 30);
  cancelLast();
  cancelLast();
  assert.equal(scheduler.pending, 2);
  scheduler.runUntilIdle();
  assert.deepEqual(ran, ['10', '30']);
  assert.equal(scheduler.now(), 30, 'the clock stopped at the last timer left');
  cancelFirst();
  assert.equal(scheduler.pending, 0);
});

test('a ready event cancelled before its turn, or a timer cancelled once its time came (in the ready pool), does not run', (t) => {
  const scheduler = new SeededScheduler(testSeed(t.name));
  const ran: string[] = [];
  const cancelReady = scheduler.schedule(() => ran.push('cancelled'), 0);
  scheduler.schedule(() => ran.push('kept'), 0);
  cancelReady();
  // Two timers due together: the one picked first cancels the other, which already waits in the ready pool.
  const cancels: (() => void)[] = [];
  const cancelling = (other: number) => (): void => {
    ran.push('first');
    cancels[other]!();
  };
  cancels.push(scheduler.schedule(cancelling(1), 10), scheduler.schedule(cancelling(0), 10));
  scheduler.runUntilIdle();
  assert.deepEqual(ran, ['kept', 'first']);
  assert.equal(scheduler.pending, 0);
});

/** Tasks that schedule more tasks and cancel some of those still waiting, all chosen by a PRNG; the order they ran in. */
function runWithCancels(seed: number): { ran: string[]; cancelled: Set<string> } {
  const scheduler = new SeededScheduler(seed);
  const choices = new SeededRandom(seed ^ 0xc0ffee);
  const ran: string[] = [];
  const cancelled = new Set<string>();
  const waiting = new Map<string, () => void>();
  let next = 0;
  const spawn = (): void => {
    const name = `t${next++}`;
    const delay = choices.nextBelow(3) === 0 ? 0 : 1 + choices.nextBelow(100);
    waiting.set(
      name,
      scheduler.schedule(() => {
        waiting.delete(name);
        ran.push(`${name}@${scheduler.now()}`);
        if (next < 400) for (let i = choices.nextBelow(3); i > 0; i--) spawn();
        const names = [...waiting.keys()];
        // Half the runs cancel one task still waiting (ready or timer).
        const victim = choices.nextBelow(2) === 0 ? names[choices.nextBelow(names.length)] : undefined;
        if (victim === undefined) return;
        waiting.get(victim)!();
        waiting.delete(victim);
        cancelled.add(victim);
      }, delay),
    );
  };
  for (let i = 0; i < 100; i++) spawn();
  scheduler.runUntilIdle();
  assert.equal(scheduler.pending, 0);
  return { ran, cancelled };
}

test('cancelling keeps a seeded run deterministic, and no cancelled task runs', (t) => {
  const seed = testSeed(t.name);
  const first = runWithCancels(seed);
  assert.ok(first.cancelled.size > 0 && first.ran.length > 100, `ran ${first.ran.length}, cancelled ${first.cancelled.size}`);
  assert.deepEqual(runWithCancels(seed), first);
  const names = new Set(first.ran.map((entry) => entry.split('@')[0]!));
  assert.ok([...first.cancelled].every((name) => !names.has(name)));
});
