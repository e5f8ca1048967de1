/**
 * Both ends of the KMCL runs on the idiomatic API: `Channel.send` (awaited,
 * `window` lanes at once) at the sender, `for await (packet of
 * channel.packets())` and `packet.complete()` at the receiver. Promises need
 * the event loop, so the worker waits on its doorbell with Atomics.waitAsync,
 * as a guest in a worker does (src/hv/thread-scheduler.ts).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Vmbus, type Channel } from '../../src/index.js';
import { stopRequested, waitForGo } from '../ring/bench-control.js';
import { announceReady, postResult } from '../ring/bench-worker.js';
import type { BenchSide, KmclWorkerData } from './kmcl-worker-data.js';
import { BENCH_OFFER, DoorbellEndpoint, benchDevice } from './ring-pair-port.js';

type WaitAsyncResult =
  | { readonly async: false; readonly value: 'not-equal' | 'timed-out' }
  | { readonly async: true; readonly value: Promise<'ok' | 'timed-out'> };
// Atomics.waitAsync is ES2024 (Node ≥ 16 has it); the project compiles against the ES2023 library.
const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number): WaitAsyncResult }).waitAsync;

async function openIdiomatic(endpoint: DoorbellEndpoint): Promise<Channel> {
  return new Vmbus(benchDevice(endpoint)).openChannel({ interfaceId: BENCH_OFFER.interfaceId });
}

/** Node's longest timer: the keep-alive below never needs to fire. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** Delivers the doorbell's signals until `done` or stop, awaiting (so promise reactions run) between rings. */
async function listen(endpoint: DoorbellEndpoint, side: BenchSide, done: () => boolean, counted: (() => number) | null): Promise<void> {
  // A pending waitAsync does not keep the worker alive; this idle timer does, while we listen.
  const keepAlive = setInterval(() => undefined, LONGEST_TIMER_MS);
  try {
    await deliverUntil(endpoint, side, done, counted);
  } finally {
    clearInterval(keepAlive);
  }
}

async function deliverUntil(endpoint: DoorbellEndpoint, side: BenchSide, done: () => boolean, counted: (() => number) | null): Promise<void> {
  while (!done() && !stopRequested(side.words)) {
    const seen = side.own.ticket();
    endpoint.deliverSignal();
    if (counted !== null) side.publish(counted());
    const wait = waitAsync(side.words, side.ownIndex, seen);
    if (wait.async) {
      side.countSleep();
      await wait.value;
    } else {
      await nextTurn();
    }
  }
}

export async function idiomaticReceiver(data: KmclWorkerData, side: BenchSide): Promise<void> {
  const endpoint = new DoorbellEndpoint(data.forward, data.backward, side.peer, side.ringPeer);
  const channel = await openIdiomatic(endpoint);
  const completion = new Uint8Array(data.plan.completionBytes);
  let received = 0;
  void (async () => {
    for await (const packet of channel.packets()) {
      received++;
      packet.complete(completion);
    }
  })();
  announceReady();
  waitForGo(side.words);
  await listen(endpoint, side, () => false, data.mode === 'stream' ? () => received : null);
}

export async function idiomaticSender(data: KmclWorkerData, side: BenchSide): Promise<void> {
  const { plan, mode } = data;
  const endpoint = new DoorbellEndpoint(data.backward, data.forward, side.peer, side.ringPeer);
  const channel = await openIdiomatic(endpoint);
  const payload = new Uint8Array(plan.payloadBytes);
  announceReady();
  waitForGo(side.words);

  if (mode === 'latency') {
    const samples = new Float64Array(plan.latencySamples);
    let finished = false;
    const rounds = (async () => {
      for (let round = 0; round < plan.latencyWarmup + plan.latencySamples; round++) {
        const started = process.hrtime.bigint();
        await channel.send(payload, { waitForCompletion: true });
        if (round >= plan.latencyWarmup) samples[round - plan.latencyWarmup] = Number(process.hrtime.bigint() - started);
      }
      finished = true;
      side.own.ring(); // wakes the listener below, which sleeps on this doorbell
    })();
    await Promise.all([rounds, listen(endpoint, side, () => finished, null)]);
    postResult(samples, [samples.buffer]);
    return;
  }

  let completed = 0;
  const wait = mode === 'transactions';
  const lane = async (): Promise<void> => {
    while (!stopRequested(side.words)) {
      await channel.send(payload, { waitForCompletion: wait });
      completed++;
    }
  };
  for (let i = 0; i < (wait ? plan.window : plan.streamPackets); i++) void lane();
  await listen(endpoint, side, () => false, wait ? () => completed : null);
}
