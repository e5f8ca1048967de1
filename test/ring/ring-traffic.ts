/**
 * The traffic the cross-thread test sends: packet sizes and contents both
 * ends derive from the sequence number and a seed, a running checksum both
 * ends compute, and the doorbell words the two threads ring.
 */

/** Word indices in the doorbell Int32Array (a SharedArrayBuffer outside the ring). */
export const DOORBELL = {
  /** Rung by the writer when `commit()` says the reader must be signalled. */
  reader: 0,
  /** Rung by the reader when `commit()` says the writer must be signalled. */
  writer: 1,
  /** How many times the writer slept waiting for space (reported by the worker). */
  writerSleeps: 2,
} as const;
export const DOORBELL_WORDS = 4;

export interface TrafficData {
  ring: SharedArrayBuffer;
  doorbell: SharedArrayBuffer;
  packets: number;
  seed: number;
  /** Commit after this many packets (and whenever the ring is full). */
  batch: number;
}

/** What the worker posts when done. */
export type TrafficResult = { checksum: number } | { error: string };

/** Mixed sizes: mostly small, some up to 1 KiB, a few up to 8 KiB. */
export function trafficSize(seq: number, seed: number): number {
  const r = hash(seq, seed);
  const pick = r & 0xff;
  if (pick < 192) return (r >>> 8) % 129;
  if (pick < 248) return 128 + ((r >>> 8) % 897);
  return 1024 + ((r >>> 8) % 7169);
}

/** One pool of bytes both ends slice payloads from: cheap to produce per packet, different per packet. */
export function trafficPool(seed: number): Uint8Array {
  const pool = new Uint8Array(16384);
  for (let i = 0; i < pool.length; i++) pool[i] = hash(i, seed) & 0xff;
  return pool;
}

export function trafficOffset(seq: number, seed: number): number {
  return hash(seq ^ 0x5bd1e995, seed) % 8192;
}

/** Folds `length` bytes of `bytes` from `offset` into a running FNV-1a-style checksum. */
export function checksumBytes(checksum: number, bytes: Uint8Array, offset: number, length: number): number {
  let h = checksum;
  for (let i = offset, end = offset + length; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x0100_0193);
  return h >>> 0;
}

function hash(value: number, seed: number): number {
  let h = Math.imul(value ^ seed, 0x9e37_79b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  return h >>> 0;
}
