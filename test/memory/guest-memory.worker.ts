// Worker half of guest-memory-worker.test.ts: attaches to the guest memory it
// is given, reports what the main thread wrote, then writes its own marker.
import { parentPort, workerData } from 'node:worker_threads';
import { GuestMemory } from '../../src/memory/guest-memory.js';

interface WorkerInput {
  readonly buffer: SharedArrayBuffer;
  readonly readGpa: number;
  readonly writeGpa: number;
}

if (parentPort !== null) {
  const { buffer, readGpa, writeGpa } = workerData as WorkerInput;
  const memory = new GuestMemory(buffer);
  const seen = memory.read(readGpa, 4);
  memory.write(writeGpa, Uint8Array.of(0xfe, 0xed, 0xfa, 0xce));
  parentPort.postMessage({ pageCount: memory.pageCount, seen: seen instanceof Uint8Array ? [...seen] : seen.code });
}
