/**
 * The small protocol between the main thread and a benchmark worker: the
 * worker posts "ready" once set up, waits for the go flag, runs, may post one
 * result, and exits on its own when told to stop.
 */
import { Worker, parentPort } from 'node:worker_threads';

type BenchWorkerMessage = { readonly kind: 'ready' } | { readonly kind: 'result'; readonly value: unknown };

/** Main-thread handle on one benchmark worker. */
export class BenchWorker<Result> {
  /** Resolves when the worker is set up; rejects if it fails first. */
  readonly ready: Promise<void>;
  /**
   * Resolves when the worker exits cleanly, with the result it posted (if
   * any); rejects if it threw or exited non-zero.
   */
  readonly ended: Promise<Result | undefined>;
  readonly #worker: Worker;

  constructor(file: URL, workerData: unknown) {
    const name = file.pathname.split('/').pop() ?? 'worker';
    const worker = new Worker(file, { workerData });
    this.#worker = worker;
    let result: Result | undefined;
    this.ready = new Promise((resolve, reject) => {
      worker.on('message', (message: BenchWorkerMessage) => {
        if (message.kind === 'ready') resolve();
        else result = message.value as Result;
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`${name} exited with code ${code} before it was ready`)));
    });
    this.ended = new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => {
        if (code === 0) resolve(result);
        else reject(new Error(`${name} exited with code ${code}`));
      });
    });
    // Both are awaited later, maybe after a failure elsewhere: never let one count as unhandled meanwhile.
    this.ready.catch(() => undefined);
    this.ended.catch(() => undefined);
  }

  /** Ends the worker at once (cleanup after a failure). */
  terminate(): Promise<number> {
    return this.#worker.terminate();
  }
}

/**
 * Waits `ms` while the workers run, failing as soon as one ends before it was
 * told to stop (it threw, or its loop broke).
 */
export function runFor(ms: number, workers: readonly BenchWorker<unknown>[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  const endedEarly = workers.map((w) =>
    w.ended.then(() => {
      throw new Error('a benchmark worker ended before it was told to stop');
    }),
  );
  return Promise.race([elapsed, ...endedEarly]).finally(() => clearTimeout(timer));
}

/** Worker side: tells the main thread this worker is set up. */
export function announceReady(): void {
  parentPort?.postMessage({ kind: 'ready' } satisfies BenchWorkerMessage);
}

/** Worker side: hands the main thread this worker's result (transferring `transfer`). */
export function postResult(value: unknown, transfer: readonly ArrayBuffer[] = []): void {
  parentPort?.postMessage({ kind: 'result', value } satisfies BenchWorkerMessage, [...transfer]);
}
