/**
 * Why a saved state was refused. Saved bytes come from storage the restoring
 * side does not control, so they are checked as hostile input: every problem
 * is returned as one of these, never thrown, and nothing is restored.
 */

/** What is wrong with a saved state. Stable: tests and callers match on it. */
export type SavedStateErrorCode =
  /** The bytes do not start with the magic of the expected kind of state. */
  | 'bad-magic'
  /** A format version this code does not read. */
  | 'unsupported-format'
  /** Fewer bytes than the header or a record needs. */
  | 'truncated'
  /** Bytes left over after the body, or after the last record of the body. */
  | 'trailing-bytes'
  /** The body's CRC-32 is not the one in the header. */
  | 'bad-checksum'
  /** A field outside its domain: unknown tag or protocol version, unknown flag bits, non-zero reserved bytes. */
  | 'bad-value'
  /** A channel id outside 1..2047 or a monitor id outside 0..127. */
  | 'id-out-of-range'
  /** Two records with the same channel id, monitor id, GPADL id or offer key. */
  | 'duplicate-id'
  /** A GPADL of a channel the state does not hold. */
  | 'unknown-channel'
  /** GPADL ranges that do not parse or lie outside guest memory, or an overfull GPADL in progress. */
  | 'bad-gpadl'
  /** An open (or opening) channel whose ring GPADL is missing, of another channel, unfinished or not a ring. */
  | 'missing-ring-gpadl'
  /** Records that cannot coexist (channels while disconnected, offers before REQUEST_OFFERS, ...). */
  | 'inconsistent'
  /** The state was saved by a bus set up differently (VTL, message connection id, SINT, monitor pages). */
  | 'incompatible';

export class SavedStateError extends Error {
  override readonly name = 'SavedStateError';
  constructor(
    readonly code: SavedStateErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Shorthand: `return savedStateError('bad-magic', '...')`. */
export function savedStateError(code: SavedStateErrorCode, message: string): SavedStateError {
  return new SavedStateError(code, message);
}
