import { allocateBenchControl, requestStop, signalGo } from './bench-control.js';
import { allocateBenchRing, READER_MASKED } from './bench-ring.js';
import { BenchWorker } from './bench-worker.js';
import type { RingBenchPlan } from './ring-bench-plan.js';
import type { LatencyMeasurement } from './ring-measurement.js';

/** Bytes of each completion's payload (the C reference sends the same). */
export const COMPLETION_PAYLOAD_BYTES = 16;

/** What both latency workers get: two rings (requests, completions), control words, and the run's shape. */
export interface LatencyWorkerData {
  readonly requests: Uint8Array;
  readonly completions: Uint8Array;
  readonly control: Int32Array;
  readonly requestBytes: number;
  readonly completionBytes: number;
  readonly warmup: number;
  readonly samples: number;
}

/**
 * Round-trip latency through kmcl's ring engine: a client worker sends one
 * request with completion requested at a time, a server worker answers on a
 * second ring; each round trip is one sample.
 */
export async function measureLatency(plan: RingBenchPlan): Promise<LatencyMeasurement> {
  const control = allocateBenchControl();
  const data: LatencyWorkerData = {
    requests: allocateBenchRing(plan.dataBytes, READER_MASKED),
    completions: allocateBenchRing(plan.dataBytes, READER_MASKED),
    control,
    requestBytes: plan.latencyRequestBytes,
    completionBytes: COMPLETION_PAYLOAD_BYTES,
    warmup: plan.latencyWarmup,
    samples: plan.latencySamples,
  };
  const server = new BenchWorker<void>(new URL('./latency-server-worker.js', import.meta.url), data);
  const client = new BenchWorker<Float64Array>(new URL('./latency-client-worker.js', import.meta.url), data);
  try {
    await Promise.all([server.ready, client.ready]);
    signalGo(control);
    // The server must not die while the client waits for it: fail on whichever ends first.
    const roundTrips = await Promise.race([
      client.ended,
      server.ended.then(() => {
        throw new Error('latency server ended before the client finished');
      }),
    ]);
    if (roundTrips === undefined) throw new Error('latency client posted no samples');
    requestStop(control);
    await server.ended;
    return {
      requestBytes: plan.latencyRequestBytes,
      completionBytes: COMPLETION_PAYLOAD_BYTES,
      samplesNs: Array.from(roundTrips),
    };
  } finally {
    requestStop(control);
    await Promise.all([server.terminate(), client.terminate()]);
  }
}
