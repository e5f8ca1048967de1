import { setImmediate as nextTurn } from 'node:timers/promises';
import { scheduleOnEventLoop } from './event-loop-timer.js';
import type { HvScheduler } from './scheduler.js';

type WaitAsyncResult =
  | { readonly async: false; readonly value: 'not-equal' | 'timed-out' }
  | { readonly async: true; readonly value: Promise<'ok' | 'timed-out'> };

// Atomics.waitAsync is ES2024 (Node ≥ 16 has it); the project compiles against the ES2023 library.
const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number): WaitAsyncResult })
  .waitAsync;

/** Node's longest timer; the keep-alive timer below never needs to fire. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/**
 * One partition per thread. A raised SINT bumps the target partition's
 * doorbell word in shared memory and notifies it; the thread that listens for
 * that partition sleeps in `Atomics.waitAsync` on the doorbell, so an idle
 * partition costs no CPU. Timers are real (`setTimeout`, ms resolution).
 */
export class ThreadScheduler implements HvScheduler {
  constructor(
    private readonly doorbells: Int32Array,
    private readonly firstDoorbell: number,
  ) {}

  /** Monotonic time shared by all threads of the process, in 100 ns units. */
  now(): number {
    return Number(process.hrtime.bigint() / 100n);
  }

  schedule(task: () => void, delay100ns: number): () => void {
    return scheduleOnEventLoop(task, delay100ns);
  }

  /** The dispatch runs in the listening thread, which finds the SINT through its pending bit. */
  wake(partitionIndex: number): void {
    const index = this.firstDoorbell + partitionIndex;
    Atomics.add(this.doorbells, index, 1);
    Atomics.notify(this.doorbells, index);
  }

  listen(partitionIndex: number, drain: () => void): () => void {
    const index = this.firstDoorbell + partitionIndex;
    let listening = true;
    // A pending waitAsync does not keep Node's event loop alive; this idle timer does, while we listen.
    const keepAlive = setInterval(() => undefined, LONGEST_TIMER_MS);
    const loop = async (): Promise<void> => {
      while (listening) {
        // Read the doorbell before draining: a raise after this read changes it, so the wait below cannot miss it.
        const seen = Atomics.load(this.doorbells, index);
        drain();
        if (!listening) break;
        const wait = waitAsync(this.doorbells, index, seen);
        if (wait.async) await wait.value;
        // Rung while we drained: go again, but let timers and I/O of this thread run first.
        else await nextTurn();
      }
    };
    void loop().finally(() => clearInterval(keepAlive));
    return () => {
      listening = false;
      Atomics.add(this.doorbells, index, 1);
      Atomics.notify(this.doorbells, index);
    };
  }
}
