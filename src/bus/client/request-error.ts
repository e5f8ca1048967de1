/**
 * The one error type of the client's local requests. A request the client
 * cannot carry out (wrong state, bad argument, not negotiated) *returns* a
 * `ClientRequestError` and sends nothing; the client never throws on its
 * caller's input, whatever its type.
 */
import { parseGuid } from '../../wire/guid.js';
import type { Guid } from '../../wire/guid.js';
import { WireError } from '../../wire/wire-error.js';

/** Why a local request was refused. Stable: the driver above maps these to NTSTATUS values. */
export type ClientRequestErrorCode =
  /** The connection is not in a phase that allows the request (not connected, connecting, paused, unloading). */
  | 'invalid-state'
  /** The negotiated version or feature flags have no message or field for the request. */
  | 'not-negotiated'
  /** No channel record with that id. */
  | 'unknown-channel'
  /** The host rescinded the channel: only close, GPADL teardown and release are left. */
  | 'channel-rescinded'
  /** The channel is not in the state the request needs (open a channel that is not closed, ...). */
  | 'channel-state'
  /** No GPADL with that id on that channel. */
  | 'unknown-gpadl'
  /** The GPADL is not in the state the request needs (still being created, already tearing down, a ring in use). */
  | 'gpadl-state'
  /** The same request is already waiting for the host's answer. */
  | 'busy'
  /** An argument that is malformed or out of its range. */
  | 'bad-argument';

export class ClientRequestError extends Error {
  override readonly name = 'ClientRequestError';
  constructor(
    readonly code: ClientRequestErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Shorthand for refusals: `return refuse('busy', '...')`. */
export function refuse(code: ClientRequestErrorCode, message: string): ClientRequestError {
  return new ClientRequestError(code, message);
}

/** A refusal unless `value` is an integer in 0..max; for callers that may pass anything. */
export function checkUint(name: string, value: unknown, max: number): ClientRequestError | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max) return undefined;
  return refuse('bad-argument', `${name} is not an integer in 0..${max}: ${String(value)}`);
}

/** A refusal unless `value` is a u64 bigint. */
export function checkU64(name: string, value: unknown): ClientRequestError | undefined {
  if (typeof value === 'bigint' && value >= 0n && value <= 0xffff_ffff_ffff_ffffn) return undefined;
  return refuse('bad-argument', `${name} is not a u64 bigint: ${typeof value === 'bigint' ? `${value}n` : String(value)}`);
}

/** The canonical form of a GUID given in any form `parseGuid` reads, or a refusal. */
export function checkGuid(name: string, value: unknown): Guid | ClientRequestError {
  const guid = typeof value === 'string' ? parseGuid(value) : undefined;
  if (guid === undefined || guid instanceof WireError) return refuse('bad-argument', `${name} is not a GUID: ${String(value)}`);
  return guid;
}
