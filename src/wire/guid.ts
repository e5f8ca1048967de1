/**
 * GUIDs: canonical lowercase strings in the API, mixed-endian 16 bytes on the
 * wire (Data1 u32 LE, Data2 u16 LE, Data3 u16 LE, Data4 8 bytes as-is), the
 * Windows `GUID` layout that VMBus offers carry (interface and instance ids).
 */
import { WireError, wireError } from './wire-error.js';

/** A GUID as lowercase hex digits in groups of 8-4-4-4-12, e.g. `57164f39-9115-4e78-ab55-382f3bd5422d`. */
export type Guid = string;

export const GUID_SIZE = 16;
export const NIL_GUID: Guid = '00000000-0000-0000-0000-000000000000';

const GUID_PATTERN = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i;

/** Accepts a GUID with or without braces, any case; returns the canonical form. */
export function parseGuid(text: string): Guid | WireError {
  const m = GUID_PATTERN.exec(text.trim());
  if (m === null) return wireError('bad-value', `not a GUID: ${JSON.stringify(text)}`);
  return `${m[1]}-${m[2]}-${m[3]}-${m[4]}-${m[5]}`.toLowerCase();
}

export function isGuid(text: unknown): text is Guid {
  return typeof text === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(text);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Reads the 16 mixed-endian bytes at `offset`. The caller has checked the bounds. */
export function readGuid(bytes: Uint8Array, offset: number): Guid {
  const b = (i: number): string => HEX[bytes[offset + i]!]!;
  return (
    b(3) + b(2) + b(1) + b(0) + '-' + b(5) + b(4) + '-' + b(7) + b(6) + '-' +
    b(8) + b(9) + '-' + b(10) + b(11) + b(12) + b(13) + b(14) + b(15)
  );
}

/** Writes a canonical GUID as 16 mixed-endian bytes at `offset`. */
export function writeGuid(bytes: Uint8Array, offset: number, guid: Guid): void {
  if (!isGuid(guid)) throw new TypeError(`not a canonical GUID: ${JSON.stringify(guid)}`);
  const hex = guid.replace(/-/g, '');
  const byte = (i: number): number => parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  // Data1..Data3 are little-endian integers; Data4 is a byte array.
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  for (let i = 0; i < GUID_SIZE; i++) bytes[offset + i] = byte(order[i]!);
}
