/**
 * Async iteration of incoming packets. The process-packet callback (at
 * DISPATCH_LEVEL, while the ring is drained) pushes each packet into the
 * session of the channel's current open; consumers take them in arrival
 * order, one packet per `next()`, each consumer at its own pace. Nothing here
 * bounds the buffer: the channel's transaction quota does, since a packet
 * counts against it until it is completed.
 */
import { Fifo } from '../fifo.js';
import type { IncomingPacket } from './incoming-packet.js';

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

interface Waiter {
  readonly iterator: PacketIterator;
  readonly resolve: (result: IteratorResult<IncomingPacket, undefined>) => void;
}

/** The packets of one open of a channel (from Enable to Closed). */
export class PacketSession {
  #ended = false;
  readonly #buffered = new Fifo<IncomingPacket>();
  readonly #waiting = new Fifo<Waiter>();

  /** The channel closed: consumers' loops end once the buffered packets are taken. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Packets delivered and not yet taken by a consumer. */
  get bufferedCount(): number {
    return this.#buffered.length;
  }

  /** A packet arrived: to the longest-waiting consumer, or into the buffer. */
  push(packet: IncomingPacket): void {
    const waiter = this.#waiting.shift();
    if (waiter === undefined) this.#buffered.push(packet);
    else waiter.resolve({ done: false, value: packet });
  }

  next(iterator: PacketIterator): Promise<IteratorResult<IncomingPacket, undefined>> {
    const packet = this.#buffered.shift();
    if (packet !== undefined) return Promise.resolve({ done: false, value: packet });
    if (this.#ended) return Promise.resolve(DONE);
    return new Promise((resolve) => this.#waiting.push({ iterator, resolve }));
  }

  /** Releases what one iterator waits for (it was returned early). */
  forget(iterator: PacketIterator): void {
    for (const waiter of this.#waiting.drain()) {
      if (waiter.iterator === iterator) waiter.resolve(DONE);
      else this.#waiting.push(waiter);
    }
  }

  /**
   * The channel is closing: packets no consumer took are completed with an
   * empty completion (as the core does for a channel without a process-packet
   * callback), so the close does not wait for packets nobody will see.
   */
  completeUnclaimed(): void {
    for (const packet of this.#buffered.drain()) packet.complete();
  }

  /** The channel closed: waiting consumers get `done`, and so does every later `next()`. */
  end(): void {
    this.#ended = true;
    for (const waiter of this.#waiting.drain()) waiter.resolve(DONE);
  }
}

/** What `Channel.packets()` returns: an async iterator over one session's packets. */
export class PacketIterator implements AsyncIterableIterator<IncomingPacket, undefined, undefined> {
  #returned = false;

  constructor(private readonly session: PacketSession) {}

  next(): Promise<IteratorResult<IncomingPacket, undefined>> {
    return this.#returned ? Promise.resolve(DONE) : this.session.next(this);
  }

  /** Ends this iterator (a `break` out of `for await`); the packets it did not take stay for other consumers. */
  return(): Promise<IteratorReturnResult<undefined>> {
    this.#returned = true;
    this.session.forget(this);
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
