/**
 * Where the idiomatic API turns the interface functions' NTSTATUS results into
 * exceptions: anything but STATUS_SUCCESS becomes a KmclError carrying the very
 * status the interface table returns for the same call.
 */
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import { KmclError } from '../kmcl-error.js';

/** Throws a KmclError naming `call` (the interface function) unless `status` is STATUS_SUCCESS. */
export function ensureSuccess(status: NtStatus, call: string): void {
  if (status !== NTSTATUS.STATUS_SUCCESS) throw new KmclError(status, call);
}

/** The status a refusal carries: a KmclError's own, else STATUS_UNSUCCESSFUL (an arbitrary throw). */
export function statusOfFailure(error: unknown): NtStatus {
  return error instanceof KmclError ? error.status : NTSTATUS.STATUS_UNSUCCESSFUL;
}
