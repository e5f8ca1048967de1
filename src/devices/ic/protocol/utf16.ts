/**
 * UTF-16LE strings in fixed-size IC fields (KVP keys and values, the shutdown
 * display message). On the wire a string is its code units followed by a NUL
 * unit; a size field, where there is one, counts bytes INCLUDING that NUL
 * (Linux `drivers/hv/hv_kvp.c` kvp_respond_to_host: `2 * (len + 1)`;
 * OpenVMM `hyperv_ic/src/kvp.rs` write_str/parse_str).
 */
import { WireError, wireError } from '../../../wire/wire-error.js';

/**
 * Writes `text` + NUL at the start of `field` and zeroes the rest. Returns the
 * size in bytes including the NUL, or a WireError when the text holds a NUL or
 * an unpaired surrogate (it would not read back the same) or does not fit.
 */
export function writeUtf16Field(field: Uint8Array, text: string): number | WireError {
  const size = (text.length + 1) * 2;
  if (size > field.length) {
    return wireError('oversized', `string of ${text.length} UTF-16 units needs ${size} bytes, field holds ${field.length}`);
  }
  const units = Array.from({ length: text.length }, (_, i) => text.charCodeAt(i));
  if (units.includes(0)) return wireError('bad-value', 'string contains a NUL');
  if (unpairedSurrogateAt(units) >= 0) return wireError('bad-value', 'string contains an unpaired UTF-16 surrogate');
  field.fill(0);
  units.forEach((unit, i) => {
    field[i * 2] = unit & 0xff;
    field[i * 2 + 1] = unit >>> 8;
  });
  return size;
}

/**
 * Reads a string whose byte size (including the NUL) came from the peer.
 * Checks: even, at least the NUL, inside the field, last unit NUL, no NUL
 * before it, and well-formed UTF-16 (no unpaired surrogate).
 */
export function readUtf16Sized(field: Uint8Array, size: number): string | WireError {
  if (size % 2 !== 0) return wireError('bad-size', `UTF-16 size ${size} is odd`);
  if (size < 2) return wireError('bad-size', `UTF-16 size ${size} has no room for the NUL`);
  if (size > field.length) return wireError('bad-size', `UTF-16 size ${size} exceeds the ${field.length}-byte field`);
  const units = readUnits(field, size / 2);
  if (units.pop() !== 0) return wireError('bad-value', 'UTF-16 string is not NUL-terminated at its size');
  const nul = units.indexOf(0);
  if (nul >= 0) return wireError('bad-value', `UTF-16 string has a NUL at unit ${nul}, before its size`);
  const bad = unpairedSurrogateAt(units);
  if (bad >= 0) return wireError('bad-value', `unpaired UTF-16 surrogate at unit ${bad}`);
  return fromUnits(units);
}

/**
 * Reads a NUL-terminated string from a field that has no size (the shutdown
 * display message): up to the first NUL or the end of the field. Unpaired
 * surrogates become U+FFFD: the text is informational, not worth a refusal.
 */
export function readUtf16UntilNul(field: Uint8Array): string {
  const units = readUnits(field, field.length >>> 1);
  const nul = units.indexOf(0);
  if (nul >= 0) units.length = nul;
  for (let bad = unpairedSurrogateAt(units); bad >= 0; bad = unpairedSurrogateAt(units)) units[bad] = 0xfffd;
  return fromUnits(units);
}

function readUnits(field: Uint8Array, count: number): number[] {
  return Array.from({ length: count }, (_, i) => field[i * 2]! | (field[i * 2 + 1]! << 8));
}

/** Index of the first surrogate that is not part of a high+low pair, or -1. */
function unpairedSurrogateAt(units: readonly number[]): number {
  for (let i = 0; i < units.length; i++) {
    const unit = units[i]!;
    if (unit < 0xd800 || unit > 0xdfff) continue;
    const next = units[i + 1] ?? 0;
    if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
    else return i;
  }
  return -1;
}

function fromUnits(units: readonly number[]): string {
  let text = '';
  // A spread of a few thousand arguments is safe; slicing keeps it that way for any field size.
  for (let i = 0; i < units.length; i += 1024) text += String.fromCharCode(...units.slice(i, i + 1024));
  return text;
}
