/**
 * The client's queue of decisions: messages to post and events to report, in
 * the order they were made. A public client call queues while it updates its
 * state and flushes once at the end, so the notifier never sees a half-updated
 * client, and a notifier that calls back into the client (to open a channel from
 * an 'offer' event, say) has its own decisions queued behind the current ones.
 */
import { WireError } from '../../wire/wire-error.js';
import { encodeMessage } from '../../wire/messages/index.js';
import type { ChannelMessage } from '../../wire/messages/index.js';
import type { ClientEvent, ClientNotifier } from './events.js';

type Decision =
  | { readonly kind: 'send'; readonly bytes: Uint8Array; readonly connectionId: number }
  | { readonly kind: 'event'; readonly event: ClientEvent };

export class ClientOutbox {
  readonly #notifier: ClientNotifier;
  readonly #queue: Decision[] = [];
  #flushing = false;

  constructor(notifier: ClientNotifier) {
    this.#notifier = notifier;
  }

  /**
   * Queues a message. The client builds messages only from values it has
   * checked, so an encoding failure is a bug in the client, not bad input:
   * it throws.
   */
  post(message: ChannelMessage, connectionId: number): void {
    const bytes = encodeMessage(message);
    if (bytes instanceof WireError) throw new Error(`vmbus client built an invalid ${message.kind}: ${bytes.message}`);
    this.#queue.push({ kind: 'send', bytes, connectionId });
  }

  emit(event: ClientEvent): void {
    this.#queue.push({ kind: 'event', event });
  }

  /**
   * Hands every queued decision to the notifier, in order. A nested call returns
   * at once: the outer one drains. If the notifier throws, what it has not yet
   * been given stays queued for the next flush.
   */
  flush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    let delivered = 0;
    try {
      while (delivered < this.#queue.length) {
        const decision = this.#queue[delivered]!;
        delivered++;
        if (decision.kind === 'send') this.#notifier.sendMessage(decision.bytes, decision.connectionId);
        else this.#notifier.event(decision.event);
      }
    } finally {
      this.#queue.splice(0, delivered);
      this.#flushing = false;
    }
  }
}
