/**
 * Sends and completions the idiomatic API makes in one burst of promise
 * reactions go out together, as those a drain's callbacks make do: the first
 * one holds the channel's send queue, and a microtask queued behind the burst
 * publishes everything written meanwhile with one commit and at most one
 * signal, instead of one per packet.
 */
import type { KmclChannel } from '../channel/channel.js';

/** A settled promise: `then` on it queues a plain microtask (Node's queueMicrotask adds an async resource per call). */
const SETTLED = Promise.resolve();

export class PublicationBatch {
  readonly #channel: KmclChannel;
  #open = false;

  constructor(channel: KmclChannel) {
    this.#channel = channel;
  }

  /** Called before a send or completion: joins the current burst, or opens one. */
  join(): void {
    if (this.#open) return;
    this.#open = true;
    this.#channel.sends.hold();
    void SETTLED.then(this.#close);
  }

  readonly #close = (): void => {
    this.#open = false;
    this.#channel.sends.release();
  };
}
