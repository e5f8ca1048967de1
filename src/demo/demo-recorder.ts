/**
 * Where the demo's reports go: each gets its time on the VM's clock and is
 * handed to the caller's sink in order; the recorder keeps the counts the
 * summary needs, and every failure.
 */
import type { KmclScheduler } from '../kmcl/index.js';
import type { DemoEvent, DemoFailure } from './demo-events.js';

type Untimed<E> = E extends unknown ? Omit<E, 't'> : never;

/** An event before the recorder stamps its time. */
export type DemoReport = Untimed<DemoEvent>;

/** What the recorder counted. */
export interface DemoCounts {
  heartbeats: number;
  timeSamples: number;
  kvpTransactions: number;
  readonly failures: DemoFailure[];
}

const KVP_EVENTS: ReadonlySet<string> = new Set(['kvp-set', 'kvp-get', 'kvp-enumerate', 'kvp-enumerate-end']);

export class DemoRecorder {
  readonly counts: DemoCounts = { heartbeats: 0, timeSamples: 0, kvpTransactions: 0, failures: [] };
  #clock: KmclScheduler | null = null;
  #start = 0;
  #closed = false;

  constructor(private readonly sink: (event: DemoEvent) => void) {}

  /** Times start now on `clock` (the VM's: virtual in single-thread mode). The first clock given stays. */
  startClock(clock: KmclScheduler): void {
    if (this.#clock !== null) return;
    this.#clock = clock;
    this.#start = clock.now();
  }

  /** Milliseconds since the clock started, to the microsecond. */
  get t(): number {
    if (this.#clock === null) return 0;
    return Math.round((this.#clock.now() - this.#start) / 10) / 1000;
  }

  report(report: DemoReport): void {
    if (this.#closed) return;
    if (report.event === 'heartbeat') this.counts.heartbeats++;
    else if (report.event === 'time-sync') this.counts.timeSamples++;
    else if (KVP_EVENTS.has(report.event)) this.counts.kvpTransactions++;
    else if (report.event === 'error') this.counts.failures.push({ partition: report.partition, device: report.device, status: report.status, message: report.message });
    // The event name first, then its time, then its own fields: the order the JSON lines show.
    const { event, ...fields } = report;
    this.sink({ event, t: this.t, ...fields } as DemoEvent);
  }

  /**
   * Reports nothing more: the run failed, and what a forced teardown stirs up
   * (a close crossing a rescind) would only bury the failure.
   */
  close(): void {
    this.#closed = true;
  }

  /** Reports a failure (an 'error' event). */
  fail(failure: DemoFailure): void {
    this.report({ event: 'error', ...failure });
  }
}
