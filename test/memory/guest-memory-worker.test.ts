import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { GuestMemory } from '../../src/memory/guest-memory.js';

test('a worker thread attached to the same SharedArrayBuffer sees and makes writes', async () => {
  const memory = new GuestMemory(8);
  const readGpa = 3 * 4096 + 4094; // crosses into page 4
  const writeGpa = 6 * 4096 + 12;
  memory.write(readGpa, Uint8Array.of(1, 2, 3, 4));
  const worker = new Worker(new URL('./guest-memory.worker.js', import.meta.url), {
    workerData: { buffer: memory.buffer, readGpa, writeGpa },
  });
  const [reply] = (await once(worker, 'message')) as [{ pageCount: number; seen: number[] }];
  await once(worker, 'exit');
  assert.equal(reply.pageCount, 8);
  assert.deepEqual(reply.seen, [1, 2, 3, 4]);
  assert.deepEqual(memory.read(writeGpa, 4), Uint8Array.of(0xfe, 0xed, 0xfa, 0xce));
});
