/**
 * The benchmark's stand-in for the hypervisor's event: a ticket word in a
 * SharedArrayBuffer. Ringing bumps the ticket and wakes sleepers; a sleeper
 * passes the ticket it read before its last look at the ring, so a ring that
 * happens in between is never lost (the C reference does the same on a futex).
 */
export class Doorbell {
  readonly #words: Int32Array;
  readonly #index: number;

  constructor(words: Int32Array, index: number) {
    this.#words = words;
    this.#index = index;
  }

  /** The current ticket; read it before the last check that decides to sleep. */
  ticket(): number {
    return Atomics.load(this.#words, this.#index);
  }

  ring(): void {
    Atomics.add(this.#words, this.#index, 1);
    Atomics.notify(this.#words, this.#index);
  }

  /** Blocks the thread (workers only) until the ticket moves past `seen`. */
  sleep(seen: number): void {
    Atomics.wait(this.#words, this.#index, seen);
  }
}
