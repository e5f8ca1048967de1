/**
 * The one error type of the wire layer. Decoders and validators *return* a
 * `WireError` (they never throw on bad bytes), so a caller can tell "the peer
 * sent garbage" from a bug with a plain `instanceof` check and no allocation on
 * the success path.
 */

/** What is wrong with a piece of wire data. Stable: tests and tools match on it. */
export type WireErrorCode =
  /** Fewer bytes than the layout needs. */
  | 'truncated'
  /** More bytes than the layout or the transport allows (e.g. > 240-byte message). */
  | 'oversized'
  /** A message or packet type this layer does not know. */
  | 'unknown-type'
  /** A message the receiving side may not be sent (host→guest type sent to the host, or the reverse). */
  | 'wrong-direction'
  /** A message or variant not allowed at the negotiated version / feature flags. */
  | 'not-negotiated'
  /** A size that matches no variant of the message. */
  | 'bad-size'
  /** A packet descriptor whose offset/length fields are inconsistent. */
  | 'bad-descriptor'
  /** Flag bits outside the defined set. */
  | 'unknown-flags'
  /** A GPA range with a zero byte count. */
  | 'zero-byte-count'
  /** A GPA range byte offset beyond the first page (> 0xfff). */
  | 'gpa-offset-too-large'
  /** Fewer page numbers than a range's offset and byte count need. */
  | 'too-few-pages'
  /** A range that does not fit the buffer it refers to. */
  | 'range-out-of-bounds'
  /** A field value outside its domain (bad GUID text, reserved value, ...). */
  | 'bad-value';

export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(
    readonly code: WireErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Shorthand used by decoders: `return wireError('truncated', '...')`. */
export function wireError(code: WireErrorCode, message: string): WireError {
  return new WireError(code, message);
}
