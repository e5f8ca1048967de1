/**
 * Errors of local requests (offer, rescind, open completion, ...): returned,
 * never thrown, so a caller's mistake cannot take the bus down. Peer input
 * never produces one of these: it is answered or dropped and traced.
 */

/** What is wrong with a local request. Stable: tests and callers match on it. */
export type ServerRequestErrorCode =
  /** A parameter outside its domain (not a GUID, not a u16, wrong byte length, ...). */
  | 'bad-parameter'
  /** No live offer has this id. */
  | 'unknown-offer'
  /** An offer with the same interface, instance and subchannel index exists and is not revoked. */
  | 'duplicate-offer'
  /** All 2047 channel ids are taken (channels.rs:1067-1069). */
  | 'too-many-channels'
  /** The offer is not in a state where the request means anything (e.g. openComplete with no open pending). */
  | 'invalid-state'
  /** No pending hvsocket connect request matches. */
  | 'unknown-request';

export class ServerRequestError extends Error {
  override readonly name = 'ServerRequestError';
  constructor(
    readonly code: ServerRequestErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Shorthand: `return requestError('unknown-offer', '...')`. */
export function requestError(code: ServerRequestErrorCode, message: string): ServerRequestError {
  return new ServerRequestError(code, message);
}
