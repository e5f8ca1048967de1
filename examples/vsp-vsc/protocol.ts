/**
 * The protocol of the example "calculator" device, as a driver's protocol
 * header would define it. All words are little-endian u32.
 *
 *   request:  [op, count] then the operands
 *     ADD        count u32 values follow; the answer is their sum modulo 2^32
 *     UPPERCASE  count ASCII bytes follow; the answer is them with a-z upper-cased
 *   response (the request's completion): [status, count] then count answer bytes
 *     OK: ADD → one u32, UPPERCASE → the bytes; BAD_REQUEST: nothing
 *
 * Counts are explicit because a VMBus packet's payload arrives rounded up to
 * 8 bytes (linux-vmbus.md §A.1.2: len8 counts 8-byte units, payload padded to 8):
 * up to 7 bytes of padding may follow the operands or the answer.
 */

/** The device class and instance the VSP offers and the VSC binds to (example GUIDs). */
export const CALCULATOR_INTERFACE = '7b3e2a10-6c4d-4f8e-a1b2-3c4d5e6f7a8b';
export const CALCULATOR_INSTANCE = 'c0ffee00-1234-4abc-8def-0123456789ab';

export const OP = { ADD: 1, UPPERCASE: 2 } as const;
export const STATUS = { OK: 0, BAD_REQUEST: 1 } as const;
/** Request header: op and count; response header: status and count. */
export const REQUEST_HEADER_SIZE = 8;
export const RESPONSE_HEADER_SIZE = 8;
/** Padding a VMBus packet payload may carry after its bytes (rounding to 8). */
const MAX_PADDING = 7;

/** Whether `count` bytes, then at most the packet padding, make up `available` bytes. */
function fits(count: number, available: number): boolean {
  return count <= available && available - count <= MAX_PADDING;
}

/** A decoded request; null when the bytes are malformed (the peer is never trusted). */
export type Request = { readonly op: typeof OP.ADD; readonly values: readonly number[] } | { readonly op: typeof OP.UPPERCASE; readonly text: Uint8Array };

/** The ADD request for `values`. */
export function encodeAdd(values: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(REQUEST_HEADER_SIZE + values.length * 4);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, OP.ADD, true);
  view.setUint32(4, values.length, true);
  values.forEach((value, i) => view.setUint32(REQUEST_HEADER_SIZE + i * 4, value >>> 0, true));
  return bytes;
}

/** The UPPERCASE request for ASCII `text`. */
export function encodeUppercase(text: string): Uint8Array {
  const ascii = new TextEncoder().encode(text);
  const bytes = new Uint8Array(REQUEST_HEADER_SIZE + ascii.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, OP.UPPERCASE, true);
  view.setUint32(4, ascii.length, true);
  bytes.set(ascii, REQUEST_HEADER_SIZE);
  return bytes;
}

/** Decodes the first `length` bytes of `buffer` (copied out once); null for an unknown op or a count the bytes (less padding) do not match. */
export function decodeRequest(buffer: Uint8Array, length: number): Request | null {
  const bytes = buffer.slice(0, Math.min(length, buffer.length));
  if (bytes.length < REQUEST_HEADER_SIZE) return null;
  const view = new DataView(bytes.buffer);
  const op = view.getUint32(0, true);
  const count = view.getUint32(4, true);
  const body = bytes.length - REQUEST_HEADER_SIZE;
  if (op === OP.ADD && fits(count * 4, body)) {
    return { op, values: Array.from({ length: count }, (_, i) => view.getUint32(REQUEST_HEADER_SIZE + i * 4, true)) };
  }
  if (op === OP.UPPERCASE && fits(count, body)) return { op, text: bytes.subarray(REQUEST_HEADER_SIZE, REQUEST_HEADER_SIZE + count) };
  return null;
}

/** What the VSP answers `request` with (BAD_REQUEST for null). */
export function answer(request: Request | null): Uint8Array {
  if (request === null) return encodeResponse(STATUS.BAD_REQUEST, new Uint8Array(0));
  if (request.op === OP.ADD) {
    const sum = new Uint8Array(4);
    new DataView(sum.buffer).setUint32(0, request.values.reduce((a, b) => (a + b) >>> 0, 0), true);
    return encodeResponse(STATUS.OK, sum);
  }
  // Byte-wise ASCII: 'a'..'z' (0x61..0x7a) lose bit 0x20; every other byte is kept.
  return encodeResponse(STATUS.OK, request.text.map((byte) => (byte >= 0x61 && byte <= 0x7a ? byte & ~0x20 : byte)));
}

function encodeResponse(status: number, body: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(RESPONSE_HEADER_SIZE + body.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, status, true);
  view.setUint32(4, body.length, true);
  bytes.set(body, RESPONSE_HEADER_SIZE);
  return bytes;
}

/** A decoded response: its status and the answer bytes; null when the header or the count does not match the bytes. */
export function decodeResponse(buffer: Uint8Array, length: number): { readonly status: number; readonly body: Uint8Array } | null {
  const bytes = buffer.slice(0, Math.min(length, buffer.length));
  if (bytes.length < RESPONSE_HEADER_SIZE) return null;
  const view = new DataView(bytes.buffer);
  const count = view.getUint32(4, true);
  if (!fits(count, bytes.length - RESPONSE_HEADER_SIZE)) return null;
  return { status: view.getUint32(0, true), body: bytes.subarray(RESPONSE_HEADER_SIZE, RESPONSE_HEADER_SIZE + count) };
}
