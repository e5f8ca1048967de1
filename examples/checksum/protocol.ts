/**
 * The protocol of the example "checksum" device, as a driver's protocol
 * header would define it. Every message is four little-endian u32 words:
 *
 *   guest → host requests: [op, a, b, c]
 *     VERSION  a = protocol version asked for     (a synchronous request)
 *     ECHO     followed by bytes to echo          (in-band; the completion echoes them)
 *     CHECKSUM a = byte count                     (the bytes ride as GPA-direct external data)
 *     SHARE    a = GPADL id, b = byte count       (the host maps the GPADL and writes a greeting)
 *   host → guest: WELCOME a = sequence number      (in-band, completion requested)
 *   completions: [status, a, b, c]
 *     VERSION  a = version accepted; CHECKSUM a = bytes read, b = FNV-1a of them;
 *     SHARE    a = greeting bytes written; WELCOME (from the guest) a = sequence echoed
 */

/** The device class and instance the host offers (example GUIDs). */
export const CHECKSUM_INTERFACE = '5c1e0b7a-3f2d-4a6e-9b8c-7d6e5f4a3b2c';
export const CHECKSUM_INSTANCE = 'a1b2c3d4-0000-4e5f-8a9b-0c1d2e3f4a5b';

export const OP = { VERSION: 1, ECHO: 2, CHECKSUM: 3, SHARE: 4, WELCOME: 5 } as const;
/** Version 1.0 (major in the high half). */
export const PROTOCOL_VERSION = 0x0001_0000;
/** Statuses in completions: 0 success, else the request was refused. */
export const RESULT = { OK: 0, BAD_REQUEST: 1 } as const;
export const MESSAGE_SIZE = 16;
/** What the host writes into a shared buffer. */
export const GREETING = 'hello from the host, through a GPADL';

/** One message's four words. */
export type Message = readonly [number, number, number, number];

/** Encodes a message, with `tail` bytes after the four words (ECHO's payload). */
export function encodeMessage(words: Message, tail: Uint8Array = new Uint8Array(0)): Uint8Array {
  const bytes = new Uint8Array(MESSAGE_SIZE + tail.length);
  const view = new DataView(bytes.buffer);
  words.forEach((word, i) => view.setUint32(i * 4, word >>> 0, true));
  bytes.set(tail, MESSAGE_SIZE);
  return bytes;
}

/** The four words at the start of `bytes`; null when it is too short (the peer's bytes are never trusted). */
export function decodeMessage(bytes: Uint8Array): Message | null {
  if (bytes.length < MESSAGE_SIZE) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, MESSAGE_SIZE);
  return [view.getUint32(0, true), view.getUint32(4, true), view.getUint32(8, true), view.getUint32(12, true)];
}

/** FNV-1a, 32 bits: the checksum both sides compute. */
export function fnv1a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

/** The bytes the guest checksums: a pattern over `length` bytes, the same on both sides of a test. */
export function checksumPattern(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + (i >>> 8)) & 0xff);
}
