/**
 * JSON forms of wire values that JSON cannot hold as they are: 64-bit integers
 * (a number while exact, a `0x` hex string beyond 2^53) and byte arrays
 * (lowercase hex). Readers accept what a person would type: numbers, decimal
 * or 0x strings for u64; hex strings (spaces, colons allowed) or number arrays
 * for bytes.
 */
import { WireError, wireError } from '../wire-error.js';

const U64_MAX = (1n << 64n) - 1n;

/** A u64 as JSON: a number when exactly representable, else a 0x hex string. */
export function u64ToJson(value: bigint): number | string {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : `0x${value.toString(16)}`;
}

/** Reads a u64 written by `u64ToJson` or by hand (number, decimal or 0x string, bigint). */
export function u64FromJson(value: unknown, field: string): bigint | WireError {
  let parsed: bigint | undefined;
  if (typeof value === 'bigint') parsed = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) parsed = BigInt(value);
  else if (typeof value === 'string' && /^(0x[0-9a-f]+|[0-9]+)$/i.test(value.trim())) parsed = BigInt(value.trim());
  if (parsed === undefined || parsed < 0n || parsed > U64_MAX) {
    return wireError('bad-value', `${field}: ${JSON.stringify(String(value))} is not a u64 (a number, or a decimal or 0x string)`);
  }
  return parsed;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += HEX[b]!;
  return out;
}

/** Parses hex text; whitespace, `:` and `-` between bytes and a leading 0x are ignored. */
export function hexToBytes(text: string, field = 'hex'): Uint8Array | WireError {
  const digits = text.trim().replace(/^0x/i, '').replace(/[\s:-]/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(digits)) {
    return wireError('bad-value', `${field}: not an even number of hex digits`);
  }
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Bytes from a hex string or an array of byte values. */
export function bytesFromJson(value: unknown, field: string): Uint8Array | WireError {
  if (typeof value === 'string') return hexToBytes(value, field);
  if (Array.isArray(value) && value.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
    return Uint8Array.from(value as number[]);
  }
  return wireError('bad-value', `${field}: expected a hex string or an array of bytes`);
}

/**
 * Any decoded wire structure as JSON-ready data: bigint → `u64ToJson`, bytes →
 * hex, arrays and objects converted member by member, the rest unchanged.
 */
export function wireToJson(value: unknown): unknown {
  if (typeof value === 'bigint') return u64ToJson(value);
  if (value instanceof Uint8Array) return bytesToHex(value);
  if (Array.isArray(value)) return value.map(wireToJson);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wireToJson(v)]));
  }
  return value;
}

/** Checks that `value` is a plain JSON object. */
export function asJsonObject(value: unknown, what: string): Readonly<Record<string, unknown>> | WireError {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return wireError('bad-value', `${what} must be a JSON object`);
  }
  return value as Readonly<Record<string, unknown>>;
}
