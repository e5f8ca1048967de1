/**
 * Rings for tests: a flat one, a paged one with its data pages scattered
 * through a bigger buffer (as a ring GPADL's pages are in guest memory), and
 * direct access to the control words and data bytes to play a broken peer.
 */
import { FlatRingMemory } from '../../src/ring/flat-ring-memory.js';
import { PagedRingMemory } from '../../src/ring/paged-ring-memory.js';
import { initializeRing, type RingInitOptions, type RingMemory } from '../../src/ring/ring-memory.js';
import { RING_PAGE_SIZE } from '../../src/wire/ring-control.js';

export interface TestRing {
  memory: RingMemory;
  control: Int32Array;
  dataSize: number;
  /** Reads data bytes as the peer sees them, wrapping at the end. */
  dataByte(offset: number): number;
  /** Writes data bytes as a (possibly hostile) peer would, wrapping at the end. */
  poke(offset: number, bytes: Uint8Array): void;
}

export function flatRing(dataPages: number, init: RingInitOptions = {}): TestRing {
  const memory = FlatRingMemory.allocate(dataPages);
  initializeRing(memory, init);
  const data = memory.bytes.subarray(RING_PAGE_SIZE);
  return wrap(memory, () => data, (offset) => offset % data.length);
}

/** Data pages in a shuffled order inside one SharedArrayBuffer, one spare page between each. */
export function pagedRing(dataPages: number, init: RingInitOptions = {}): TestRing {
  const slots = 2 * (dataPages + 1);
  const guest = new Uint8Array(new SharedArrayBuffer(slots * RING_PAGE_SIZE));
  const order = Array.from({ length: dataPages + 1 }, (_, i) => i).reverse();
  const pages = order.map((slot) => guest.subarray(2 * slot * RING_PAGE_SIZE, (2 * slot + 1) * RING_PAGE_SIZE));
  const memory = new PagedRingMemory(pages);
  initializeRing(memory, init);
  const dataPagesInOrder = pages.slice(1);
  return wrap(
    memory,
    (offset) => dataPagesInOrder[Math.floor((offset % memory.dataSize) / RING_PAGE_SIZE)]!,
    (offset) => offset % RING_PAGE_SIZE,
  );
}

/** Pages of a PagedRingMemory that sit back to back in one buffer, as a fresh GPADL's usually do: the engine copies straight through them. */
export function pagedBackToBackRing(dataPages: number, init: RingInitOptions = {}): TestRing {
  const guest = new Uint8Array(new SharedArrayBuffer((dataPages + 2) * RING_PAGE_SIZE));
  // One spare page first, so the ring does not start at byte 0 of its buffer.
  const pages = Array.from({ length: dataPages + 1 }, (_, i) => guest.subarray((i + 1) * RING_PAGE_SIZE, (i + 2) * RING_PAGE_SIZE));
  const memory = new PagedRingMemory(pages);
  initializeRing(memory, init);
  const data = guest.subarray(2 * RING_PAGE_SIZE);
  return wrap(memory, () => data, (offset) => offset % memory.dataSize);
}

function wrap(memory: RingMemory, pageOf: (offset: number) => Uint8Array, inPage: (offset: number) => number): TestRing {
  return {
    memory,
    control: memory.control,
    dataSize: memory.dataSize,
    dataByte: (offset) => pageOf(offset)[inPage(offset)]!,
    poke(offset, bytes) {
      for (let i = 0; i < bytes.length; i++) pageOf(offset + i)[inPage(offset + i)] = bytes[i]!;
    },
  };
}

export const RING_KINDS = { flat: flatRing, paged: pagedRing, 'paged back to back': pagedBackToBackRing } as const;

/** Deterministic payload bytes for packet `seq`. */
export function payloadFor(seq: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seq * 0x9e37_79b1) | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
