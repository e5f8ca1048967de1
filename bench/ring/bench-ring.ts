/**
 * A fresh ring for a benchmark run, shared with its workers: a control page and
 * `dataBytes` of data in a SharedArrayBuffer, initialized empty.
 */
import { FlatRingMemory, initializeRing, type RingInitOptions } from '../../src/ring/index.js';
import { RING_PAGE_SIZE } from '../../src/wire/ring-control.js';

/** The whole ring's bytes (control page first), as the workers map them. */
export function allocateBenchRing(dataBytes: number, init: RingInitOptions = {}): Uint8Array {
  const memory = FlatRingMemory.allocate(dataBytes / RING_PAGE_SIZE);
  initializeRing(memory, init);
  return memory.bytes;
}

/**
 * How the ring benchmark's rings start: the reader masked, as OpenVMM creates the
 * rings it reads (openvmm-vmbus.md §6.2); the C reference starts its rings so too.
 */
export const READER_MASKED: RingInitOptions = { interruptMask: true };
