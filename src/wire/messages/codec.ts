/**
 * Reads and writes a list of FieldSpecs: the one piece of code that turns table
 * layouts into values and back. It knows field kinds, never a message.
 */
import { isGuid, readGuid, writeGuid } from '../guid.js';
import { WireError, wireError } from '../wire-error.js';
import type { FieldSpec } from './layout.js';

const UINT_MAX = { u8: 0xff, u16: 0xffff, u32: 0xffff_ffff } as const;
const U64_MAX = 0xffff_ffff_ffff_ffffn;
const U64_BYTES = 8;

/**
 * Reads every non-padding field into `out`. The caller has checked that `bytes`
 * covers the fixed part; a trailing array takes the whole u64s that follow it
 * (a partial last one is ignored). Each byte is read once and byte arrays are copied, so `bytes` may be
 * shared memory that the peer keeps writing.
 */
export function readFields(bytes: Uint8Array, fields: readonly FieldSpec[], out: Record<string, unknown>): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const f of fields) {
    switch (f.kind) {
      case 'u8':
        out[f.name] = view.getUint8(f.offset);
        break;
      case 'u16':
        out[f.name] = view.getUint16(f.offset, true);
        break;
      case 'u32':
        out[f.name] = view.getUint32(f.offset, true);
        break;
      case 'u64':
        out[f.name] = view.getBigUint64(f.offset, true);
        break;
      case 'guid':
        out[f.name] = readGuid(bytes, f.offset);
        break;
      case 'bytes':
        out[f.name] = bytes.slice(f.offset, f.offset + f.length);
        break;
      case 'pad':
        break;
      case 'u64-array': {
        const values: bigint[] = [];
        for (let at = f.offset; at + U64_BYTES <= bytes.length; at += U64_BYTES) values.push(view.getBigUint64(at, true));
        out[f.name] = values;
        break;
      }
    }
  }
}

/**
 * Checks that `source` holds a valid value for every non-padding field and
 * returns the encoded size: `fixedSize` plus 8 bytes per trailing u64.
 */
export function measureFields(
  fields: readonly FieldSpec[],
  fixedSize: number,
  source: Readonly<Record<string, unknown>>,
  owner: string,
): number | WireError {
  let size = fixedSize;
  for (const f of fields) {
    if (f.kind === 'pad') continue;
    const value = source[f.name];
    const problem = fieldProblem(f, value);
    if (problem !== undefined) return wireError('bad-value', `${owner}.${f.name} ${problem}`);
    if (f.kind === 'u64-array') size += (value as readonly bigint[]).length * U64_BYTES;
  }
  return size;
}

/** What is wrong with `value` for field `f`, or undefined if it fits. */
function fieldProblem(f: FieldSpec, value: unknown): string | undefined {
  switch (f.kind) {
    case 'u8':
    case 'u16':
    case 'u32':
      return isUint(value, UINT_MAX[f.kind]) ? undefined : `is not a ${f.kind}: ${describeValue(value)}`;
    case 'u64':
      return isU64(value) ? undefined : `is not a u64 bigint: ${describeValue(value)}`;
    case 'guid':
      return isGuid(value) ? undefined : `is not a canonical lowercase GUID: ${describeValue(value)}`;
    case 'bytes':
      return value instanceof Uint8Array && value.length === f.length
        ? undefined
        : `is not a Uint8Array of ${f.length} bytes: ${describeValue(value)}`;
    case 'u64-array':
      return isU64Array(value) ? undefined : `is not an array of u64 bigints: ${describeValue(value)}`;
    case 'pad':
      return undefined;
  }
}

/** Writes fields already checked by measureFields. `bytes` is zero-filled, so padding needs no write. */
export function writeFields(bytes: Uint8Array, fields: readonly FieldSpec[], source: Readonly<Record<string, unknown>>): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const f of fields) {
    const value = source[f.name];
    switch (f.kind) {
      case 'u8':
        view.setUint8(f.offset, value as number);
        break;
      case 'u16':
        view.setUint16(f.offset, value as number, true);
        break;
      case 'u32':
        view.setUint32(f.offset, value as number, true);
        break;
      case 'u64':
        view.setBigUint64(f.offset, value as bigint, true);
        break;
      case 'guid':
        writeGuid(bytes, f.offset, value as string);
        break;
      case 'bytes':
        bytes.set(value as Uint8Array, f.offset);
        break;
      case 'pad':
        break;
      case 'u64-array': {
        const values = value as readonly bigint[];
        for (let i = 0; i < values.length; i++) view.setBigUint64(f.offset + i * U64_BYTES, values[i]!, true);
        break;
      }
    }
  }
}

function isUint(value: unknown, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}

function isU64(value: unknown): boolean {
  return typeof value === 'bigint' && value >= 0n && value <= U64_MAX;
}

/** Index by index: `every` would skip the holes of a sparse array. */
function isU64Array(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) if (!isU64(value[i])) return false;
  return true;
}

/** A short description of any value for error text; cannot throw, whatever the caller passed. */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'bigint':
      return `${value}n`;
    case 'string':
      return JSON.stringify(value);
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'object':
      if (value === null) return 'null';
      if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
      return Array.isArray(value) ? `array(${value.length})` : 'object';
    default:
      return typeof value;
  }
}
