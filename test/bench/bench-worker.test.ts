import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BenchWorker, runFor } from '../../bench/ring/bench-worker.js';

/** A worker from inline module source (data: URL), so no fixture file lands among the test files. */
function inlineWorker<Result>(source: string): BenchWorker<Result> {
  const code = `import { parentPort, workerData } from 'node:worker_threads';\n${source}`;
  return new BenchWorker<Result>(new URL(`data:text/javascript,${encodeURIComponent(code)}`), { answer: 42 });
}

test('a worker that gets ready and posts a result ends with that result', async () => {
  const worker = inlineWorker<number>(`
    parentPort.postMessage({ kind: 'ready' });
    parentPort.postMessage({ kind: 'result', value: workerData.answer });
  `);
  await worker.ready;
  assert.equal(await worker.ended, 42);
});

test('a worker that throws after getting ready makes `ended` reject with its error', async () => {
  const worker = inlineWorker<void>(`
    parentPort.postMessage({ kind: 'ready' });
    setTimeout(() => { throw new Error('ring corrupt'); }, 10);
  `);
  await worker.ready;
  await assert.rejects(worker.ended, /ring corrupt/);
});

test('a worker that exits before it is ready makes `ready` reject', async () => {
  const worker = inlineWorker<void>(`process.exit(3);`);
  await assert.rejects(worker.ready, /exited with code 3 before it was ready/);
  await assert.rejects(worker.ended, /exited with code 3/);
});

test('runFor fails as soon as a worker ends early instead of waiting out the duration', async () => {
  const worker = inlineWorker<void>(`parentPort.postMessage({ kind: 'ready' });`);
  await worker.ready;
  const started = Date.now();
  await assert.rejects(runFor(60_000, [worker]), /ended before it was told to stop/);
  // Not a speed target: a run that waited the full minute would have hung the test run.
  assert.ok(Date.now() - started < 30_000);
});

test('runFor resolves after the duration while the workers keep running', async () => {
  const worker = inlineWorker<void>(`
    parentPort.postMessage({ kind: 'ready' });
    const keepAlive = setInterval(() => {}, 1000);
    parentPort.on('message', () => clearInterval(keepAlive));
  `);
  await worker.ready;
  await runFor(20, [worker]);
  await worker.terminate();
});
