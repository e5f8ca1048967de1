/**
 * How a VM reports what went wrong: each failure names the partition and the
 * lifecycle step, and carries the original message and stack (from the
 * guest's own thread in workers mode), so the caller sees what happened there.
 */
import type { VmStopReport } from './vm-types.js';

/** The lifecycle step a failure happened in. */
export type VmPhase =
  | 'options'
  | 'assemble'
  | 'load'
  | 'host-start'
  | 'connect'
  | 'guest-start'
  | 'run'
  | 'guest-teardown'
  | 'unload'
  | 'host-teardown'
  | 'exit';

const PHASE_TEXT: Readonly<Record<VmPhase, string>> = {
  options: 'invalid options',
  assemble: 'building its partition failed',
  load: 'loading its module failed',
  'host-start': 'a host module failed to start',
  connect: 'its bus failed to connect',
  'guest-start': 'its guest module failed to start',
  run: 'failed while running',
  'guest-teardown': 'its guest module failed to tear down',
  unload: 'its bus failed to unload',
  'host-teardown': 'a host module failed to tear down',
  exit: 'its worker did not exit cleanly',
};

/** One thing that went wrong, plain data (it crosses the VM worker process channel). */
export interface VmFailure {
  /** 'host', a guest's name, or 'vm' for the VM as a whole. */
  readonly partition: string;
  readonly phase: VmPhase;
  /** The error's `name: message`. */
  readonly message: string;
  /** Where it was thrown, in the thread that threw it. */
  readonly stack?: string;
}

/** A failure from anything thrown (an Error keeps its name, message and stack); `context` prefixes the message. */
export function vmFailure(partition: string, phase: VmPhase, error: unknown, context?: string): VmFailure {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const message = context === undefined ? text : `${context}: ${text}`;
  const stack = error instanceof Error ? error.stack : undefined;
  return { partition, phase, message, ...(stack === undefined ? {} : { stack }) };
}

/** One line per failure: who, at which step, what. */
export function describeFailure(failure: VmFailure): string {
  const who = failure.partition === 'host' || failure.partition === 'vm' ? failure.partition : `guest "${failure.partition}"`;
  return `${who}: ${PHASE_TEXT[failure.phase]}: ${failure.message}`;
}

/** What `createVm` and `Vm.stop` reject with. */
export class VmError extends Error {
  override readonly name = 'VmError';
  /** Every failure, in the order found; the first is the message's first line. */
  readonly failures: readonly VmFailure[];
  /** From `Vm.stop`: what every partition still held once everything was released. */
  readonly report: VmStopReport | null;

  constructor(failures: readonly VmFailure[], report: VmStopReport | null = null) {
    super(failures.map(describeFailure).join('\n'));
    this.failures = failures;
    this.report = report;
    // The guest's own stack says where it happened; ours only that the VM noticed.
    const remote = failures
      .filter((failure) => failure.stack !== undefined)
      .map((failure) => `--- ${failure.partition} (${failure.phase}) ---\n${failure.stack!}`);
    if (remote.length > 0) this.stack = `${this.stack ?? this.message}\n${remote.join('\n')}`;
  }
}
