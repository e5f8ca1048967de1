/**
 * The seam between the hypervisor and time/threads. The same hypervisor and
 * partition code runs over either implementation:
 * - `SeededScheduler`: every partition in one thread; deliveries and timers are
 *   events drained in an order chosen by a seeded PRNG, on a virtual clock;
 * - `ThreadScheduler`: one partition per worker; a raised SINT bumps the
 *   partition's doorbell in shared memory and `Atomics.notify`s it, and the
 *   partition's thread sleeps in `Atomics.waitAsync` until then.
 */
export interface HvScheduler {
  /** Current time, in 100 ns units (the unit of monitor latencies). */
  now(): number;
  /**
   * Runs `task` in this thread after `delay100ns` (0: as soon as possible).
   * Returns its cancel: the task will not run; idempotent, and a no-op once it ran.
   */
  schedule(task: () => void, delay100ns: number): () => void;
  /**
   * A SINT of the partition at `partitionIndex` was just raised (its pending bit
   * went 0→1): get `dispatch` run in the thread that receives for that partition.
   */
  wake(partitionIndex: number, dispatch: () => void): void;
  /**
   * This thread now receives for the partition: call `drain` (which dispatches
   * every pending SINT) whenever it is woken. Returns the function that stops it.
   */
  listen(partitionIndex: number, drain: () => void): () => void;
}
