/** 100 ns units per millisecond: Node timers have millisecond resolution. */
const UNITS_PER_MS = 10_000;

/**
 * Runs `task` on this thread's event loop after `delay100ns` (0 or less: on
 * its next turn, `setImmediate`; else a `setTimeout` rounded up to whole ms).
 * Returns the cancel, which clears the immediate or timer: a cancelled task
 * never runs and no longer keeps the process alive.
 */
export function scheduleOnEventLoop(task: () => void, delay100ns: number): () => void {
  if (delay100ns <= 0) {
    const immediate = setImmediate(task);
    return () => clearImmediate(immediate);
  }
  const timeout = setTimeout(task, Math.ceil(delay100ns / UNITS_PER_MS));
  return () => clearTimeout(timeout);
}
