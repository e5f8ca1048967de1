/**
 * The one error the bus drivers reject their promises with: an NTSTATUS for
 * the layer above (the KMCL returns it as is) and a sentence saying why.
 */
import { NTSTATUS, ntStatusName, type NtStatus } from '../wire/ntstatus.js';
import type { MemoryError } from '../memory/index.js';
import type { ClientRequestError, ClientRequestErrorCode } from './client/index.js';

export class BusError extends Error {
  override readonly name = 'BusError';
  constructor(
    /** The NTSTATUS the request failed with (unsigned 32-bit). */
    readonly status: NtStatus,
    /** Why, as a sentence. */
    readonly reason: string,
  ) {
    super(`${ntStatusName(status)}: ${reason}`);
  }
}

/**
 * The status of each refusal of the sans-IO client. The KMCL DDI pages name
 * these for the matching caller mistakes: a bad argument is
 * STATUS_INVALID_PARAMETER, a request in the wrong state
 * STATUS_INVALID_DEVICE_STATE, a rescinded channel STATUS_DEVICE_REMOVED.
 */
const CLIENT_REFUSAL_STATUS: Readonly<Record<ClientRequestErrorCode, NtStatus>> = {
  'invalid-state': NTSTATUS.STATUS_INVALID_DEVICE_STATE,
  'not-negotiated': NTSTATUS.STATUS_NOT_SUPPORTED,
  'unknown-channel': NTSTATUS.STATUS_NOT_FOUND,
  'channel-rescinded': NTSTATUS.STATUS_DEVICE_REMOVED,
  'channel-state': NTSTATUS.STATUS_INVALID_DEVICE_STATE,
  'unknown-gpadl': NTSTATUS.STATUS_NOT_FOUND,
  'gpadl-state': NTSTATUS.STATUS_INVALID_DEVICE_STATE,
  busy: NTSTATUS.STATUS_INVALID_DEVICE_STATE,
  'bad-argument': NTSTATUS.STATUS_INVALID_PARAMETER,
};

/** A client refusal as a BusError. */
export function refusalError(error: ClientRequestError): BusError {
  return new BusError(CLIENT_REFUSAL_STATUS[error.code], error.message);
}

/** A memory-layer failure (pages, mappings) as a BusError: out of pages is out of resources, the rest is a bad request. */
export function memoryFailure(error: MemoryError): BusError {
  const status = error.code === 'no-memory' ? NTSTATUS.STATUS_INSUFFICIENT_RESOURCES : NTSTATUS.STATUS_INVALID_PARAMETER;
  return new BusError(status, error.message);
}
