/**
 * `kmcl demo`: boots a VM whose host offers the four integration components
 * and the example device, lets the guest bind its drivers, prints the channel
 * table, then live lines (heartbeats, time sync samples, a KVP exchange) and,
 * after a shutdown the guest acknowledges, a summary. The demo itself is
 * `src/demo/`; this file turns options into a run and events into output.
 */
import { Command, Option } from 'commander';
import { DEMO_CHANNEL_COUNT, DemoError, runDemo, type DemoEvent, type DemoSummary } from '../demo/index.js';
import { CliError } from './cli-error.js';
import { DemoProgress } from './demo-progress.js';
import { DemoTextView, failureLine, summaryLine } from './demo-text.js';

interface DemoCommandOptions {
  readonly singleThread?: boolean;
  readonly seed?: string;
  readonly duration: string;
  readonly json?: boolean;
  readonly quiet?: boolean;
}

/** The longest live phase the command runs, in seconds. */
const MAX_DURATION_S = 3600;

function durationMs(text: string): number {
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds < 0 || seconds > MAX_DURATION_S) {
    throw new CliError(`--duration must be a number of seconds from 0 to ${MAX_DURATION_S}, not "${text}"`);
  }
  return Math.round(seconds * 1000);
}

function seedOf(options: DemoCommandOptions): number {
  if (options.seed === undefined) return 1;
  if (options.singleThread !== true) throw new CliError('--seed applies to --single-thread runs only');
  const seed = Number(options.seed);
  if (!/^\d+$/.test(options.seed) || !Number.isSafeInteger(seed) || seed > 0xffff_ffff) {
    throw new CliError(`--seed must be an integer from 0 to 4294967295, not "${options.seed}"`);
  }
  return seed;
}

/** How the events reach stdout: JSON lines, the text view, or only the summary. */
function eventPrinter(options: DemoCommandOptions, print: (line: string) => void): (event: DemoEvent) => void {
  if (options.json === true) {
    return (event) => {
      if (options.quiet !== true || event.event === 'summary') print(JSON.stringify(event));
    };
  }
  if (options.quiet === true) {
    return (event) => {
      if (event.event === 'summary') print(summaryLine(event));
      // Quiet still tells what went wrong, on stderr.
      else if (event.event === 'error') process.stderr.write(`kmcl demo: ${failureLine(event)}\n`);
    };
  }
  const view = new DemoTextView();
  return (event) => view.render(event).forEach(print);
}

export function demoCommand(print: (text: string) => void): Command {
  return new Command('demo')
    .description('boot a VM: the host offers heartbeat, shutdown, time sync, KVP and an example device; the guest binds its drivers; watch them talk, then shut down')
    .addOption(new Option('--single-thread', 'host and guest in this thread on a virtual clock: the same seed gives the same run (default: the guest in a worker thread)'))
    .addOption(new Option('--seed <n>', 'seed of the --single-thread run (default 1)'))
    .addOption(new Option('--duration <seconds>', 'how long the live phase runs (virtual seconds with --single-thread)').default('5'))
    .addOption(new Option('--json', 'one JSON object per event on stdout, no table'))
    .addOption(new Option('--quiet', 'print only the summary'))
    .addHelpText(
      'after',
      `
Examples:
  $ kmcl demo                                    # the guest in a worker, 5 s of live traffic
  $ kmcl demo --duration 2                       # a shorter live phase
  $ kmcl demo --single-thread --seed 7 --json    # a reproducible event stream
  $ kmcl demo --quiet                            # just the summary line

Exit status 0 when the run ends with errors = 0, else 1 with what failed (which
partition and device, and the NTSTATUS or IC status name).`,
    )
    .action(async (options: DemoCommandOptions) => {
      const ms = durationMs(options.duration);
      const seed = seedOf(options);
      const singleThread = options.singleThread === true;
      const progress = new DemoProgress({
        stream: process.stderr,
        write: print,
        // In quiet and JSON runs nothing shows the live phase going by, and with workers it takes real time.
        liveSeconds: !singleThread && (options.quiet === true || options.json === true) ? ms / 1000 : null,
      });
      const printEvent = eventPrinter(options, (line) => progress.print(line));
      let summary: DemoSummary;
      progress.begin(DEMO_CHANNEL_COUNT);
      try {
        summary = await runDemo({
          mode: singleThread ? { kind: 'single-thread', seed } : { kind: 'workers' },
          durationMs: ms,
          onEvent: (event) => {
            progress.follow(event);
            printEvent(event);
          },
        });
      } catch (error) {
        if (!(error instanceof DemoError)) throw error;
        throw new CliError(`demo failed: ${error.headline}\n${error.details.map((line) => `  ${line}`).join('\n')}`);
      } finally {
        progress.end();
      }
      if (summary.errors > 0) throw new CliError(`demo ended with ${summary.errors} errors (errors = ${summary.errors})`);
    });
}
