/**
 * The error the idiomatic TypeScript API throws: an NTSTATUS with its name.
 * The interface tables never throw; they return the same status instead.
 */
import { ntStatusName, type NtStatus } from '../wire/ntstatus.js';

export class KmclError extends Error {
  override readonly name = 'KmclError';
  /** The NTSTATUS the interface function returned (unsigned 32-bit). */
  readonly status: NtStatus;

  constructor(status: NtStatus, message?: string) {
    const statusName = ntStatusName(status);
    super(message === undefined ? statusName : `${statusName}: ${message}`);
    this.status = status >>> 0;
  }

  /** The status's name (`STATUS_INVALID_PARAMETER_1`), or its hex value when unnamed. */
  get statusName(): string {
    return ntStatusName(this.status);
  }
}
