/**
 * A failure the command reports as one line on stderr with exit status 1:
 * bad input, malformed bytes, a corrupt ring. Anything else escaping a command
 * is a bug and keeps its stack.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** Turns a layer's typed error (WireError, RingCorruptError, ...) into a CliError. */
export function fail(error: { readonly code: string; readonly message: string }, context?: string): never {
  throw new CliError(`${context !== undefined ? `${context}: ` : ''}${error.message} (${error.code})`);
}
