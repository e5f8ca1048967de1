/**
 * The payloads the table VSP and VSC exchange: each side's request `n` has a
 * size and content both sides compute, so each checks the other's echo.
 * Sizes are 8..1000 bytes in multiples of 8, the in-band padding (linux-vmbus.md §A.1.2).
 */

/** The device class the table VSP offers (a test GUID, no protocol behind it). */
export const TABLE_INTERFACE = '2b9e4f61-7c3a-4d58-a1e0-6f5d4c3b2a19';
export const TABLE_INSTANCE = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f2a3b4c5d';

/** Which side sent a request: its first byte. */
export const FROM_HOST = 0x48;
export const FROM_GUEST = 0x47;

export function tablePayload(from: number, n: number, seed: number): Uint8Array {
  const length = 8 * (1 + ((n * 37 + seed) % 125));
  const bytes = Uint8Array.from({ length }, (_, i) => (seed + n * 13 + i * 7) & 0xff);
  bytes[0] = from;
  return bytes;
}

export function sameBytes(a: Uint8Array, b: Uint8Array, length: number): boolean {
  if (a.length !== length) return false;
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return false;
  return true;
}
