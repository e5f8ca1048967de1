/**
 * A mutual-exclusion word in shared memory, shared by every thread that posts
 * to or receives from the simulated hypervisor.
 *
 * It spins instead of sleeping because critical sections are a few table
 * lookups and one 256-byte copy, and because the main thread may not block
 * with `Atomics.wait`. Nothing inside a critical section may call back into
 * partition code (handlers run after release), so it is never held for long
 * and never taken twice by one thread.
 */
export class SpinLock {
  constructor(
    private readonly words: Int32Array,
    private readonly index: number,
  ) {}

  /** Runs `section` while holding the lock. */
  hold<T>(section: () => T): T {
    while (Atomics.compareExchange(this.words, this.index, 0, 1) !== 0) {
      // Another thread is inside a short critical section: try again.
    }
    try {
      return section();
    } finally {
      Atomics.store(this.words, this.index, 0);
    }
  }
}
