/**
 * The framing every saved state shares, and the little-endian cursor its
 * records are written and read with.
 *
 * Envelope (16-byte header, then the body):
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 4 | magic: four ASCII bytes naming the kind of state |
 * | 4 | 2 | format version (u16) |
 * | 6 | 2 | reserved, zero |
 * | 8 | 4 | body length in bytes (u32) |
 * | 12 | 4 | CRC-32 of the body (u32) |
 * | 16 | n | body |
 *
 * The reader never throws: a short or bad field records the first error,
 * later reads return zeros, and the decoder returns that error at the end.
 */
import { GUID_SIZE, readGuid, writeGuid, type Guid } from '../../wire/guid.js';
import { crc32 } from './crc32.js';
import { SavedStateError, savedStateError, type SavedStateErrorCode } from './saved-state-error.js';

export const SAVED_STATE_HEADER_SIZE = 16;

/** A kind of saved state: its magic (four ASCII characters) and the one format version this code writes and reads. */
export interface SavedStateFormat {
  readonly magic: string;
  readonly version: number;
  /** For messages: "server saved state", ... */
  readonly name: string;
}

/** Frames `body` as a saved state of `format`. */
export function sealSavedState(format: SavedStateFormat, body: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(SAVED_STATE_HEADER_SIZE + body.length);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 4; i++) bytes[i] = format.magic.charCodeAt(i);
  view.setUint16(4, format.version, true);
  view.setUint32(8, body.length, true);
  view.setUint32(12, crc32(body), true);
  bytes.set(body, SAVED_STATE_HEADER_SIZE);
  return bytes;
}

/** Checks the envelope and returns a private copy of the body, or why the bytes are refused. */
export function openSavedState(format: SavedStateFormat, bytes: Uint8Array): Uint8Array | SavedStateError {
  const { name } = format;
  if (bytes.length < 4) return savedStateError('truncated', `${name}: ${bytes.length} bytes, not even the magic`);
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== format.magic.charCodeAt(i)) return savedStateError('bad-magic', `${name}: the bytes do not start with "${format.magic}"`);
  }
  if (bytes.length < SAVED_STATE_HEADER_SIZE) {
    return savedStateError('truncated', `${name}: ${bytes.length} bytes, the header needs ${SAVED_STATE_HEADER_SIZE}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(4, true);
  if (version !== format.version) {
    return savedStateError('unsupported-format', `${name}: format version ${version}, this code reads ${format.version}`);
  }
  if (view.getUint16(6, true) !== 0) return savedStateError('bad-value', `${name}: reserved header bytes are not zero`);
  const length = view.getUint32(8, true);
  const available = bytes.length - SAVED_STATE_HEADER_SIZE;
  if (available < length) return savedStateError('truncated', `${name}: the body has ${available} of its ${length} bytes`);
  if (available > length) return savedStateError('trailing-bytes', `${name}: ${available - length} bytes after the ${length}-byte body`);
  // One copy: whoever handed us the bytes cannot change them after the checksum.
  const body = bytes.slice(SAVED_STATE_HEADER_SIZE);
  const expected = view.getUint32(12, true);
  const actual = crc32(body);
  if (actual !== expected) {
    return savedStateError('bad-checksum', `${name}: body CRC-32 is 0x${hex(actual)}, the header says 0x${hex(expected)}`);
  }
  return body;
}

/** Appends little-endian fields to a growing buffer. */
export class SavedStateWriter {
  #bytes = new Uint8Array(256);
  #view = new DataView(this.#bytes.buffer);
  #length = 0;

  u8(value: number): void {
    this.#room(1).setUint8(this.#length - 1, value);
  }

  u16(value: number): void {
    this.#room(2).setUint16(this.#length - 2, value, true);
  }

  u32(value: number): void {
    this.#room(4).setUint32(this.#length - 4, value, true);
  }

  u64(value: bigint): void {
    this.#room(8).setBigUint64(this.#length - 8, value, true);
  }

  flag(value: boolean): void {
    this.u8(value ? 1 : 0);
  }

  /** `count` zero bytes, to keep the fields after them aligned. */
  reserved(count: number): void {
    this.#room(count);
  }

  bytes(value: Uint8Array): void {
    this.#room(value.length);
    this.#bytes.set(value, this.#length - value.length);
  }

  /** A u32 length, then the bytes. */
  sizedBytes(value: Uint8Array): void {
    this.u32(value.length);
    this.bytes(value);
  }

  guid(value: Guid): void {
    this.#room(GUID_SIZE);
    writeGuid(this.#bytes, this.#length - GUID_SIZE, value);
  }

  /** The bytes written, as a new array. */
  finish(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }

  #room(count: number): DataView {
    if (this.#length + count > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#length + count));
      grown.set(this.#bytes.subarray(0, this.#length));
      this.#bytes = grown;
      this.#view = new DataView(grown.buffer);
    }
    this.#length += count;
    return this.#view;
  }
}

/** Reads little-endian fields; the first problem sticks and later reads return zeros. */
export class SavedStateReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #name: string;
  #at = 0;
  #error: SavedStateError | null = null;

  constructor(bytes: Uint8Array, name: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#name = name;
  }

  /** The first problem met, if any. */
  get error(): SavedStateError | null {
    return this.#error;
  }

  get failed(): boolean {
    return this.#error !== null;
  }

  /** Records a problem found by the decoder (only the first one counts). */
  fail(code: SavedStateErrorCode, message: string): void {
    this.#error ??= savedStateError(code, `${this.#name}: ${message}`);
  }

  u8(): number {
    return this.#take(1) ? this.#view.getUint8(this.#at - 1) : 0;
  }

  u16(): number {
    return this.#take(2) ? this.#view.getUint16(this.#at - 2, true) : 0;
  }

  u32(): number {
    return this.#take(4) ? this.#view.getUint32(this.#at - 4, true) : 0;
  }

  u64(): bigint {
    return this.#take(8) ? this.#view.getBigUint64(this.#at - 8, true) : 0n;
  }

  /** A byte that must be 0 or 1. */
  flag(what: string): boolean {
    const value = this.u8();
    if (value > 1) this.fail('bad-value', `${what} is ${value}, not 0 or 1`);
    return value === 1;
  }

  /** `count` bytes that must be zero. */
  reserved(count: number, what: string): void {
    if (!this.#take(count)) return;
    if (this.#bytes.subarray(this.#at - count, this.#at).some((byte) => byte !== 0)) this.fail('bad-value', `reserved bytes of ${what} are not zero`);
  }

  /** A private copy of `count` bytes. */
  bytes(count: number): Uint8Array {
    return this.#take(count) ? this.#bytes.slice(this.#at - count, this.#at) : new Uint8Array(count);
  }

  /** A u32 length (at most `max`), then that many bytes. */
  sizedBytes(max: number, what: string): Uint8Array {
    const length = this.u32();
    if (length > max) {
      this.fail('bad-value', `${what} is ${length} bytes, at most ${max} are allowed`);
      return new Uint8Array(0);
    }
    return this.bytes(length);
  }

  guid(): Guid {
    return this.#take(GUID_SIZE) ? readGuid(this.#bytes, this.#at - GUID_SIZE) : '00000000-0000-0000-0000-000000000000';
  }

  /**
   * A u32 count of records that take at least `minSize` bytes each. A count
   * the remaining bytes cannot hold is `truncated` (and reads as 0), so a
   * forged count never makes a decoder loop for long.
   */
  count(minSize: number, what: string): number {
    const count = this.u32();
    if (this.failed) return 0;
    if (count * minSize > this.#bytes.length - this.#at) {
      this.fail('truncated', `${count} ${what} do not fit in the ${this.#bytes.length - this.#at} bytes left`);
      return 0;
    }
    return count;
  }

  /** The decoder is done: the first problem, or `trailing-bytes` if bytes are left. */
  finish(): SavedStateError | undefined {
    if (this.#error === null && this.#at !== this.#bytes.length) {
      this.fail('trailing-bytes', `${this.#bytes.length - this.#at} bytes after the last record`);
    }
    return this.#error ?? undefined;
  }

  #take(count: number): boolean {
    if (this.#error !== null) return false;
    if (this.#bytes.length - this.#at < count) {
      this.fail('truncated', `a record needs ${count} bytes at body offset ${this.#at}, ${this.#bytes.length - this.#at} are left`);
      return false;
    }
    this.#at += count;
    return true;
  }
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}
