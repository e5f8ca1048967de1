/**
 * Runs a seeded simulation until nothing is left to do now: ready scheduler
 * events (without moving the virtual clock to future timers) and the promise
 * continuations they release, alternately.
 */
import type { SeededScheduler } from '../../../src/hv/index.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function settle(scheduler: SeededScheduler, maxRounds = 10_000): Promise<void> {
  for (let round = 0; round < maxRounds; round++) {
    await nextTurn();
    if (scheduler.runUntil(scheduler.now()) === 0) {
      await nextTurn();
      if (scheduler.runUntil(scheduler.now()) === 0) return;
    }
  }
  throw new Error(`simulation still busy after ${maxRounds} rounds (seed ${scheduler.seed})`);
}

/** Moves the virtual clock forward by `delay100ns`, running what falls due, then settles. */
export async function advance(scheduler: SeededScheduler, delay100ns: number): Promise<void> {
  await settle(scheduler);
  scheduler.runUntil(scheduler.now() + delay100ns);
  await settle(scheduler);
}

/** Settles the simulation until `promise` resolves; throws if it is still pending when nothing is left to run. */
export async function drive<T>(scheduler: SeededScheduler, promise: Promise<T>): Promise<T> {
  let done = false;
  const tracked = promise.finally(() => {
    done = true;
  });
  await settle(scheduler);
  if (!done) throw new Error(`stuck: the promise is still pending with nothing left to run (seed ${scheduler.seed})`);
  return tracked;
}
