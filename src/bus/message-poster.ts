/**
 * Posts channel-management messages through the hypervisor in the order they
 * were decided, retrying while the receiver's message buffers are full.
 *
 * HvPostMessage answers HV_STATUS_INSUFFICIENT_BUFFERS when the target port
 * has all its buffers queued; Linux retries such a post with exponential
 * back-off (linux-vmbus.md §A.3.1, `connection.c:452-506`). Here a refused
 * message also holds back every later one, because the peer's state machine
 * must see them in order (a GPADL_BODY after its GPADL_HEADER). A lost control
 * message would leave a request unanswered for ever, so the poster gives up
 * only on a receiver that has taken nothing for `MAX_POST_WAIT` (Linux gives
 * up after 100 tries, but a busy worker thread can stall longer than a real VP).
 */
import { HV_STATUS, hvStatusName, scheduleOnEventLoop, type HvScheduler, type HvStatus, type Partition } from '../hv/index.js';
import { VMBUS_MESSAGE_TYPE } from '../wire/messages/index.js';

/** Where retries wait: the hypervisor's scheduler, or the Node event loop. */
export type RetryScheduler = Pick<HvScheduler, 'schedule'>;

/** 100 ns units per millisecond: Node timers have millisecond resolution. */
const UNITS_PER_MS = 10_000;

/**
 * Retries on the Node event loop, for partitions in worker threads: a wait
 * shorter than a timer tick becomes the next turn of the loop.
 */
export const EVENT_LOOP_RETRY: RetryScheduler = {
  schedule: (task, delay100ns) => scheduleOnEventLoop(task, delay100ns < UNITS_PER_MS ? 0 : delay100ns),
};

/** How long one message may be refused before it is dropped and reported: 10 s, in 100 ns units. */
export const MAX_POST_WAIT = 10_000 * UNITS_PER_MS;
/** First back-off, 1 µs as Linux's first `usleep`, doubling up to `MAX_RETRY_DELAY`. */
const FIRST_RETRY_DELAY = 10;
/** Longest back-off: 1 ms, in 100 ns units. */
const MAX_RETRY_DELAY = UNITS_PER_MS;

/** A message the hypervisor would not take. */
export interface PostFailure {
  readonly connectionId: number;
  readonly bytes: Uint8Array;
  readonly status: HvStatus;
  /** Sentence for a trace. */
  readonly reason: string;
}

interface Pending {
  readonly connectionId: number;
  readonly bytes: Uint8Array;
}

export class MessagePoster {
  readonly #partition: Partition;
  readonly #scheduler: RetryScheduler;
  readonly #onFailure: (failure: PostFailure) => void;
  readonly #queue: Pending[] = [];
  /** Back-off the head message has waited so far. */
  #waited = 0;
  #delay = FIRST_RETRY_DELAY;
  #retryScheduled = false;
  #closed = false;

  constructor(partition: Partition, scheduler: RetryScheduler, onFailure: (failure: PostFailure) => void) {
    this.#partition = partition;
    this.#scheduler = scheduler;
    this.#onFailure = onFailure;
  }

  /** Posts `bytes` (a whole VMBus message) on `connectionId` after every message queued before it. */
  post(connectionId: number, bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#queue.push({ connectionId, bytes });
    if (!this.#retryScheduled) this.#drain();
  }

  /** Messages not yet taken by the hypervisor. */
  get backlog(): number {
    return this.#queue.length;
  }

  /** Those messages, in order (copies), for a saved state. */
  queued(): { connectionId: number; bytes: Uint8Array }[] {
    return this.#queue.map(({ connectionId, bytes }) => ({ connectionId, bytes: bytes.slice() }));
  }

  /** Drops the backlog and refuses later posts (the bus is going away). */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
  }

  #drain(): void {
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const status = this.#partition.postMessage(head.connectionId, VMBUS_MESSAGE_TYPE, head.bytes);
      if (status === HV_STATUS.INSUFFICIENT_BUFFERS && this.#waited < MAX_POST_WAIT) {
        this.#retryLater();
        return;
      }
      this.#queue.shift();
      this.#waited = 0;
      this.#delay = FIRST_RETRY_DELAY;
      if (status !== HV_STATUS.SUCCESS) {
        const why = status === HV_STATUS.INSUFFICIENT_BUFFERS ? ' for 10 s' : '';
        this.#onFailure({
          ...head,
          status,
          reason: `HvPostMessage on connection ${head.connectionId} failed with ${hvStatusName(status)}${why}`,
        });
      }
    }
  }

  #retryLater(): void {
    this.#retryScheduled = true;
    const delay = this.#delay;
    this.#waited += delay;
    this.#delay = Math.min(delay * 2, MAX_RETRY_DELAY);
    this.#scheduler.schedule(() => {
      this.#retryScheduled = false;
      if (!this.#closed) this.#drain();
    }, delay);
  }
}
