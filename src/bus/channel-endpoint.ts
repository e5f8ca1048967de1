/**
 * One end of an open channel's data plane: the two rings and the signals
 * between the ends. The ring engine only *decides* that the peer must be
 * signalled (`RingWriter.commit`, `RingReader.commit` return true); the
 * endpoint carries the decision out through the hypervisor, and hands the
 * peer's signals to whoever consumes the rings.
 */
import type { RingReader, RingWriter } from '../ring/index.js';

/** One end of an open channel. The same type on the host and on the guest. */
export interface ChannelEndpoint {
  readonly channelId: number;
  /** Our incoming ring. */
  readonly reader: RingReader;
  /** Our outgoing ring. */
  readonly writer: RingWriter;
  /**
   * Acts on a ring's "signal the peer now" decision: an HvSignalEvent, or a
   * monitor-page pending bit for a monitored guest→host channel. Does nothing
   * once the channel is closed, or when the guest opened it with interrupts
   * disabled (host side).
   */
  signalPeer(): void;
  /**
   * Calls `handler` each time the peer signals us, from the hypervisor's event
   * dispatch. Returns the function that unsubscribes it.
   *
   * The host side starts with its incoming ring's interrupt mask set, as
   * OpenVMM's host does (openvmm-vmbus.md §6.2, `lib.rs:852-854`): the guest
   * does not signal until the host's consumer drains the ring and clears the
   * mask with `reader.unmaskInterruptsIfEmpty()`. The guest side starts
   * unmasked, as Linux leaves it.
   */
  onSignal(handler: () => void): () => void;
  /** Signals sent and received so far. */
  readonly stats: EndpointStats;
}

/** What an endpoint counts, for tests and traces. */
export interface EndpointStats {
  readonly signalsSent: number;
  readonly signalsReceived: number;
  /** Signals the hypervisor refused (the peer's port is gone, for example). */
  readonly signalsFailed: number;
}

/** How the endpoint signals its peer; returns false when the hypervisor refused. */
export type PeerSignal = () => boolean;

/**
 * The endpoint the bus drivers hand out. The driver that opened it routes the
 * peer's event flag to `deliverSignal` and calls `close` when the channel goes.
 */
export class RingEndpoint implements ChannelEndpoint {
  readonly channelId: number;
  readonly reader: RingReader;
  readonly writer: RingWriter;
  #signal: PeerSignal | null;
  readonly #handlers = new Set<() => void>();
  readonly #onHandlerError: (error: unknown) => void;
  #open = true;
  #sent = 0;
  #received = 0;
  #failed = 0;

  constructor(
    channelId: number,
    reader: RingReader,
    writer: RingWriter,
    signal: PeerSignal | null,
    /** A handler threw: the bus reports it; it must not stop the hypervisor's dispatch of other flags. */
    onHandlerError: (error: unknown) => void,
  ) {
    this.channelId = channelId;
    this.reader = reader;
    this.writer = writer;
    this.#signal = signal;
    this.#onHandlerError = onHandlerError;
  }

  /** True until the channel is closed. */
  get isOpen(): boolean {
    return this.#open;
  }

  get stats(): EndpointStats {
    return { signalsSent: this.#sent, signalsReceived: this.#received, signalsFailed: this.#failed };
  }

  signalPeer(): void {
    if (!this.#open || this.#signal === null) return;
    if (this.#signal()) this.#sent++;
    else this.#failed++;
  }

  onSignal(handler: () => void): () => void {
    // Each subscription is its own entry, so the same function subscribed twice unsubscribes once each.
    const entry = (): void => handler();
    this.#handlers.add(entry);
    return () => {
      this.#handlers.delete(entry);
    };
  }

  /** The peer signalled: runs every handler (a copy of the set, so a handler may unsubscribe). */
  deliverSignal(): void {
    if (!this.#open) return;
    this.#received++;
    for (const handler of [...this.#handlers]) {
      try {
        handler();
      } catch (error) {
        this.#onHandlerError(error);
      }
    }
  }

  /** Changes how the peer is signalled (MODIFY_CHANNEL moved the guest's interrupts to another VP). */
  retarget(signal: PeerSignal | null): void {
    this.#signal = signal;
  }

  /** The channel is gone: no more signals either way, handlers dropped. */
  close(): void {
    this.#open = false;
    this.#signal = null;
    this.#handlers.clear();
  }
}
