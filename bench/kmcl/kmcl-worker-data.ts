/**
 * What a `kmcl` benchmark worker is told: its side of the rings, which API
 * it drives, what it measures, and the control words it shares with the main
 * thread (bench/ring/bench-control.ts). The counters are the ring
 * benchmark's: `received` holds packets received (stream) or transactions
 * completed (send + complete); the doorbell and sleep counters count the same
 * events on both runs.
 */
import { BENCH_WORD } from '../ring/bench-control.js';
import { Doorbell } from '../ring/doorbell.js';
import type { KmclBenchPlan } from './kmcl-bench-plan.js';

/** Which surface moves the packets: the ring engine alone, the KMCL interface table, or the idiomatic API. */
export type BenchApi = 'raw' | 'kmcl' | 'idiomatic';

/**
 * What is measured: `stream` one-way packets (no completion requested: the
 * send's routine runs once the packet is in the ring), `transactions` send +
 * complete with a window of requests in flight, `latency` one request at a time.
 */
export type BenchMode = 'stream' | 'transactions' | 'latency';

export interface KmclWorkerData {
  readonly role: 'sender' | 'receiver';
  readonly api: BenchApi;
  readonly mode: BenchMode;
  /** Sender → receiver ring (control page + data) over a SharedArrayBuffer. */
  readonly forward: Uint8Array;
  /** Receiver → sender ring (the completions). */
  readonly backward: Uint8Array;
  readonly control: Int32Array;
  readonly plan: KmclBenchPlan;
}

/** A worker's view of the shared words: its doorbell, its peer's, and its counters. */
export class BenchSide {
  readonly words: Int32Array;
  /** Rung by the peer; this side sleeps on it. */
  readonly own: Doorbell;
  readonly ownIndex: number;
  readonly peer: Doorbell;
  readonly #signalWord: number;
  readonly #sleepWord: number;

  constructor(data: Pick<KmclWorkerData, 'role' | 'control'>) {
    this.words = new Int32Array(data.control.buffer);
    const sender = data.role === 'sender';
    this.ownIndex = sender ? BENCH_WORD.backwardDoorbell : BENCH_WORD.forwardDoorbell;
    this.own = new Doorbell(this.words, this.ownIndex);
    this.peer = new Doorbell(this.words, sender ? BENCH_WORD.forwardDoorbell : BENCH_WORD.backwardDoorbell);
    this.#signalWord = sender ? BENCH_WORD.signalsToReader : BENCH_WORD.signalsToWriter;
    this.#sleepWord = sender ? BENCH_WORD.writerSleeps : BENCH_WORD.readerSleeps;
  }

  /** Rings the peer and counts it. */
  readonly ringPeer = (): void => {
    Atomics.add(this.words, this.#signalWord, 1);
    this.peer.ring();
  };

  countSleep(): void {
    Atomics.add(this.words, this.#sleepWord, 1);
  }

  /** Publishes the packets received or transactions completed so far. */
  publish(count: number): void {
    Atomics.store(this.words, BENCH_WORD.received, count);
  }
}
