/**
 * What happens when driver code (a callback) throws. The KMCL state must
 * stay consistent, so the library catches the error where it calls the
 * driver and rethrows it on a fresh microtask: the bug surfaces as an
 * uncaught exception, as a faulting driver would, instead of being lost.
 */
export function reportDriverFault(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
