import { endianness } from 'node:os';

/**
 * Two views of one SharedArrayBuffer: bytes for copying, 32-bit words for
 * `Atomics`. Every hypervisor page (SynIC message and event-flag pages, monitor
 * pages, queues, routing tables) is reached through one of these.
 */
export interface SharedBytes {
  readonly buffer: SharedArrayBuffer;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly view: DataView;
}

// The SynIC and monitor pages are little-endian structures that we update with
// 32-bit atomics, so a word's bit n must be the page's bit n: only true on LE hosts.
if (endianness() !== 'LE') {
  throw new Error('kmcl hv: SynIC pages are little-endian and updated with 32-bit atomics; this host is big-endian');
}

/** Views over `buffer` (its length must be a multiple of 4). */
export function sharedBytes(buffer: SharedArrayBuffer): SharedBytes {
  return { buffer, u8: new Uint8Array(buffer), i32: new Int32Array(buffer), view: new DataView(buffer) };
}
