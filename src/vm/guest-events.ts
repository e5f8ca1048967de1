/**
 * The structured events guest modules emit (`GuestContext.emit`), as the VM's
 * owner receives them: handed to the `onEvent` option as they arrive, and
 * kept so `waitForEvent` also finds one that came before it was asked for.
 */
import type { VmGuestEvent } from './vm-types.js';

interface Waiter {
  readonly matches: (event: VmGuestEvent) => boolean;
  readonly resolve: (event: VmGuestEvent) => void;
}

export class GuestEvents {
  readonly #received: VmGuestEvent[] = [];
  readonly #waiters = new Set<Waiter>();
  readonly #onEvent: ((event: VmGuestEvent) => void) | null;

  constructor(onEvent: ((event: VmGuestEvent) => void) | null) {
    this.#onEvent = onEvent;
  }

  /** Every event so far, in arrival order. */
  get received(): readonly VmGuestEvent[] {
    return this.#received;
  }

  deliver(event: VmGuestEvent): void {
    this.#received.push(event);
    this.#onEvent?.(event);
    for (const waiter of [...this.#waiters]) {
      if (!waiter.matches(event)) continue;
      this.#waiters.delete(waiter);
      waiter.resolve(event);
    }
  }

  /** The first event of `kind` (from `guest`, when given), already received or still to come. */
  waitFor(kind: string, guest?: string): Promise<VmGuestEvent> {
    const matches = (event: VmGuestEvent): boolean => event.kind === kind && (guest === undefined || event.guest === guest);
    const found = this.#received.find(matches);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve) => this.#waiters.add({ matches, resolve }));
  }
}
