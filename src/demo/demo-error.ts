/**
 * How the demo says what went wrong: a headline (which step) and one line per
 * failure saying which partition or device and what happened, with the
 * NTSTATUS or IC status name where the error carries one. Never a stack alone:
 * each layer's typed error is turned into a sentence here.
 */
import { IcTransactionError, icStatusName } from '../devices/index.js';
import { VmError, describeFailure } from '../vm/index.js';
import { WireError } from '../wire/wire-error.js';
import type { DemoFailure } from './demo-events.js';

export class DemoError extends Error {
  override readonly name = 'DemoError';

  constructor(
    /** What the demo was doing: 'the boot phase failed'. */
    readonly headline: string,
    /** One line per failure. */
    readonly details: readonly string[],
  ) {
    super([headline, ...details].join('\n'));
  }
}

/** One line per failure in `error`, whatever layer threw it. */
export function describeError(error: unknown): string[] {
  if (error instanceof DemoError) return [...error.details];
  if (error instanceof VmError) return error.failures.map(describeFailure);
  if (error instanceof IcTransactionError) {
    const status = error.status === undefined ? '' : `, IC status ${icStatusName(error.status)}`;
    const wire = error.wireError === undefined ? '' : `: ${error.wireError.message} (${error.wireError.code})`;
    return [`${error.message}${wire} (${error.reason}${status})`];
  }
  if (error instanceof WireError) return [`${error.message} (${error.code})`];
  // A KmclError's message starts with its NTSTATUS name: "KmclError: STATUS_INVALID_PARAMETER_1: ...".
  if (error instanceof Error) return [error.name === 'Error' ? error.message : `${error.name}: ${error.message}`];
  return [String(error)];
}

/** `work`, its failure told as coming from `device` of `partition`. */
export async function onDevice<T>(partition: string, device: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw new DemoError(`${partition}: ${device}`, describeError(error).map((line) => `${partition}: ${device}: ${line}`));
  }
}

/** A failure as one line: who, which device, what, and the status name. */
export function describeDemoFailure(failure: DemoFailure): string {
  const who = failure.partition === 'host' ? 'host' : `guest "${failure.partition}"`;
  return `${who}, ${failure.device}: ${failure.message}${failure.status === null ? '' : ` (${failure.status})`}`;
}
