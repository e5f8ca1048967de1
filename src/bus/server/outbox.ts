/**
 * The server's way out: outgoing messages and actions, in decision order, and
 * the PAUSE hold. Effects are collected while the server changes its state and
 * delivered only once that state is consistent, so a notifier callback that
 * calls back into the server sees a whole state, never half an operation.
 */
import { WireError } from '../../wire/wire-error.js';
import { encodeMessage, type ChannelMessage } from '../../wire/messages/index.js';
import type { MessageTarget, ServerAction, ServerNotifier } from './notifier.js';

type Effect =
  | { readonly kind: 'message'; readonly bytes: Uint8Array; readonly target: MessageTarget }
  | { readonly kind: 'action'; readonly action: ServerAction };

export class Outbox {
  readonly #notifier: ServerNotifier;
  readonly #effects: Effect[] = [];
  // Messages to the connection's own target while the guest has paused us (PAUSE, Copper + pause_resume).
  readonly #held: Effect[] = [];
  #paused = false;
  #delivering = false;

  constructor(notifier: ServerNotifier) {
    this.#notifier = notifier;
  }

  /**
   * Queues a message to the connection's message target. While paused it is
   * held until `resume`, as OpenVMM queues everything but PAUSE_RESPONSE
   * (channels.rs:3637-3682, 4027-4046).
   */
  send(message: ChannelMessage, target: MessageTarget): void {
    const effect: Effect = { kind: 'message', bytes: encode(message), target };
    (this.#paused ? this.#held : this.#effects).push(effect);
  }

  /** Queues a message to some other target (another SINT); never held (channels.rs:4049-4066). */
  sendElsewhere(message: ChannelMessage, target: MessageTarget): void {
    this.#effects.push({ kind: 'message', bytes: encode(message), target });
  }

  action(action: ServerAction): void {
    this.#effects.push({ kind: 'action', action });
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Messages held by a pause. */
  get heldCount(): number {
    return this.#held.length;
  }

  pause(): void {
    this.#paused = true;
  }

  /** The messages a pause holds, in order (for a saved state). */
  heldMessages(): Uint8Array[] {
    return this.#held.flatMap((effect) => (effect.kind === 'message' ? [effect.bytes.slice()] : []));
  }

  /** Pauses with `messages` already held for `target`: a restored pause. */
  pauseHolding(messages: readonly Uint8Array[], target: MessageTarget): void {
    this.#paused = true;
    for (const bytes of messages) this.#held.push({ kind: 'message', bytes: bytes.slice(), target });
  }

  /** Ends a pause: held messages go out first, in their order, before anything decided later. */
  resume(): void {
    this.#paused = false;
    this.#effects.push(...this.#held.splice(0));
  }

  /**
   * Hands queued effects to the notifier. A call made from inside a callback
   * returns at once: the outer call goes on delivering, in order, whatever the
   * nested call added.
   */
  deliver(): void {
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      for (let effect = this.#effects.shift(); effect !== undefined; effect = this.#effects.shift()) {
        if (effect.kind === 'message') this.#notifier.sendMessage(effect.bytes, effect.target);
        else this.#notifier.action(effect.action);
      }
    } finally {
      this.#delivering = false;
    }
  }
}

function encode(message: ChannelMessage): Uint8Array {
  const bytes = encodeMessage(message);
  // The server builds every outgoing message from checked values; a failure here is a server bug.
  if (bytes instanceof WireError) throw new Error(`server built an invalid ${message.kind}: ${bytes.message}`);
  return bytes;
}
