/**
 * Waiting on a shared word without blocking the thread's event loop, as a
 * guest module must (its partition's deliveries run on that loop): one
 * pending Atomics.waitAsync costs no CPU while it waits.
 */

type WaitAsyncResult =
  | { readonly async: false; readonly value: 'not-equal' | 'timed-out' }
  | { readonly async: true; readonly value: Promise<'ok' | 'timed-out'> };

// Atomics.waitAsync is ES2024 (Node ≥ 16 has it); the project compiles against the ES2023 library.
const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number): WaitAsyncResult }).waitAsync;

/** Resolves once `words[index]` holds something other than `value` (at once if it already does). */
export async function wordChange(words: Int32Array, index: number, value: number): Promise<void> {
  while (Atomics.load(words, index) === value) {
    const wait = waitAsync(words, index, value);
    if (wait.async) await wait.value;
  }
}

/** Sets `words[index]` and wakes every thread waiting on it. */
export function setWord(words: Int32Array, index: number, value: number): void {
  Atomics.store(words, index, value);
  Atomics.notify(words, index);
}
