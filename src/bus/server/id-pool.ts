import type { OfferId } from './notifier.js';

/**
 * A range of small ids handed out lowest-free-first, each remembering the offer
 * that holds it: channel ids 1..2047 (channels.rs:979-998, 1067-1069) and
 * monitor ids 0..127 (vmbus_server/src/monitor.rs).
 */
export class IdPool {
  readonly first: number;
  readonly last: number;
  readonly #owners: (OfferId | undefined)[];
  #used = 0;

  constructor(first: number, last: number) {
    this.first = first;
    this.last = last;
    this.#owners = new Array<OfferId | undefined>(last - first + 1).fill(undefined);
  }

  /** The lowest free id, now held by `owner`, or undefined when all are taken. */
  allocate(owner: OfferId): number | undefined {
    const index = this.#owners.indexOf(undefined);
    if (index < 0) return undefined;
    this.#owners[index] = owner;
    this.#used++;
    return this.first + index;
  }

  /** Gives `owner` exactly `id` (a restored channel keeps the id the guest knows); false if taken or out of range. */
  take(id: number, owner: OfferId): boolean {
    if (!Number.isInteger(id) || id < this.first || id > this.last || this.#owners[id - this.first] !== undefined) return false;
    this.#owners[id - this.first] = owner;
    this.#used++;
    return true;
  }

  /** Frees `id` if `owner` holds it; an id held by another offer is left alone. */
  free(id: number, owner: OfferId): void {
    if (this.ownerOf(id) !== owner) return;
    this.#owners[id - this.first] = undefined;
    this.#used--;
  }

  /** The offer holding `id`, or undefined for a free id or one outside the range. */
  ownerOf(id: number): OfferId | undefined {
    if (!Number.isInteger(id) || id < this.first || id > this.last) return undefined;
    return this.#owners[id - this.first];
  }

  get size(): number {
    return this.#used;
  }

  /** Every held id with its owner, lowest first. */
  held(): [number, OfferId][] {
    const out: [number, OfferId][] = [];
    this.#owners.forEach((owner, index) => {
      if (owner !== undefined) out.push([this.first + index, owner]);
    });
    return out;
  }
}
