/** What `npm run bench -- <names...> [--json]` asked for. */
export interface BenchRequest {
  readonly names: readonly string[];
  readonly json: boolean;
  readonly help: boolean;
}

/** Parses the arguments after `--`; an unknown option is an error message, not an exception. */
export function parseBenchArguments(args: readonly string[]): BenchRequest | { readonly error: string } {
  const names: string[] = [];
  let json = false;
  let help = false;
  for (const arg of args) {
    if (arg === '--json') json = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg.startsWith('-')) return { error: `unknown option ${arg}` };
    else names.push(arg);
  }
  return { names, json, help };
}
