/**
 * Checks on the values a driver passes to the interface functions. The table
 * can be called from plain JavaScript with anything, so each check takes
 * `unknown`; a failed check becomes the parameter's STATUS_INVALID_PARAMETER_n.
 */
import type { Out } from './types.js';

/** An integer in 0..0xffffffff (UINT32). */
export function isU32(value: unknown): value is number {
  // `>>> 0` keeps exactly these numbers (fractions, negatives, NaN and larger values change): one compare on send paths.
  return typeof value === 'number' && value >>> 0 === value;
}

/** An integer in 0..0xffff (UINT16). */
export function isU16(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff;
}

/** A BOOLEAN: true or false (C's TRUE/FALSE; 0 and 1 are accepted as they are what a port passes). */
export function asBoolean(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  return null;
}

/** An out-parameter box the callee can write: an object that is not frozen. */
export function isOut<T>(value: unknown): value is Out<T> {
  return typeof value === 'object' && value !== null && !Object.isFrozen(value);
}

export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/** `length` bytes of `buffer` are readable (`buffer` may be null only for a zero length). */
export function coversBytes(buffer: unknown, length: unknown): boolean {
  return isU32(length) && holdsBytes(buffer, length);
}

/** As `coversBytes`, for a `length` already checked with `isU32`. */
export function holdsBytes(buffer: unknown, length: number): boolean {
  if (buffer instanceof Uint8Array) return buffer.length >= length;
  return (buffer === null || buffer === undefined) && length === 0;
}

/** A callback or nothing (an optional PFN). */
export function isOptionalFunction(value: unknown): boolean {
  return value === null || value === undefined || typeof value === 'function';
}

/** Flags with no bit outside `known`. */
export function hasOnlyFlags(value: unknown, known: number): value is number {
  return isU32(value) && (value & ~known) === 0;
}
