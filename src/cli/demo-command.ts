/**
 * `kmcl demo`: boots a VM whose host offers the four integration components
 * and the example device, lets the guest bind its drivers, prints the channel
 * table, then live lines (heartbeats, time sync samples, a KVP exchange) and,
 * after a shutdown the guest acknowledges, a summary. The demo itself is
 * `src/demo/`; this file turns options into a run and events into output.
 */
import { Command, Option } from 'commander';
import { DemoError, describeDemoFailure } from '../demo/demo-error.js';
import { DEMO_CHANNEL_COUNT, type DemoEvent, type DemoFailure, type DemoSummary } from '../demo/demo-events.js';
import { VMBUS_VERSIONS, formatVersion, isKnownVersion, parseVersion, type VmbusVersion } from '../wire/messages/index.js';
import { WireError } from '../wire/wire-error.js';
import { CliError, fail } from './cli-error.js';
import { DemoProgress } from './demo-progress.js';
import { DemoTextView, summaryLine } from './demo-text.js';

interface DemoCommandOptions {
  readonly singleThread?: boolean;
  readonly seed?: string;
  readonly duration: string;
  readonly json?: boolean;
  readonly quiet?: boolean;
  readonly memory?: string;
  readonly vmbusVersion?: string;
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

function memoryPages(text: string): number {
  const pages = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(pages) || pages < 1) throw new CliError(`--memory must be a number of 4 KiB pages, not "${text}"`);
  return pages;
}

function vmbusVersion(text: string): VmbusVersion {
  const version = parseVersion(text);
  if (version instanceof WireError) fail(version, '--vmbus-version');
  if (!isKnownVersion(version)) throw new CliError(`--vmbus-version: ${text} is not a VMBus version (known: ${VMBUS_VERSIONS.map(formatVersion).join(', ')})`);
  return version;
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
    };
  }
  const view = new DemoTextView();
  return (event) => view.render(event).forEach(print);
}

/** The exit status's reason when a run ended with errors: listed unless the output showed them. */
function endedWithErrors(failures: readonly DemoFailure[], listed: boolean): CliError {
  const head = `demo ended with errors = ${failures.length}`;
  return new CliError(listed ? `${head} (shown above)` : [head, ...failures.map((failure) => `  ${describeDemoFailure(failure)}`)].join('\n'));
}

export function demoCommand(print: (text: string) => void): Command {
  return new Command('demo')
    .summary('boot a VM with the integration components and watch host and guest talk')
    .description(
      'boot a VM: the host offers heartbeat, shutdown, time sync, KVP and an example device, the guest binds its drivers by class GUID; ' +
        'prints the channel table, live lines as they talk, then a shutdown the guest acknowledges and a summary',
    )
    .addOption(new Option('--single-thread', 'host and guest in this thread on a virtual clock: the same seed gives the same run (default: the guest in a worker thread)'))
    .addOption(new Option('--seed <n>', 'seed of the --single-thread run (default 1)'))
    .addOption(new Option('--duration <seconds>', 'how long the live phase runs (virtual seconds with --single-thread)').default('5'))
    .addOption(new Option('--json', 'one JSON object per event on stdout, no table'))
    .addOption(new Option('--quiet', 'print only the summary'))
    .addOption(new Option('--memory <pages>', 'guest memory in 4 KiB pages (default 1024)'))
    .addOption(new Option('--vmbus-version <version>', 'the newest VMBus version the host speaks, as an older host would (e.g. 4.0 or Win10; default 6.0)'))
    .addHelpText(
      'after',
      `
Examples:
  $ kmcl demo                                    # the guest in a worker, 5 s of live traffic
  $ kmcl demo --duration 2                       # a shorter live phase
  $ kmcl demo --single-thread --seed 7 --json    # a reproducible event stream
  $ kmcl demo --quiet                            # just the summary line
  $ kmcl demo --vmbus-version 2.4                # a Windows Server 2012 host

Exit status 0 when the run ends with errors = 0, else 1 with what failed (which
partition and device, and the NTSTATUS or IC status name).`,
    )
    .action(async (options: DemoCommandOptions) => {
      const ms = durationMs(options.duration);
      const seed = seedOf(options);
      const pages = options.memory === undefined ? undefined : memoryPages(options.memory);
      const maxVersion = options.vmbusVersion === undefined ? undefined : vmbusVersion(options.vmbusVersion);
      const singleThread = options.singleThread === true;
      const progress = new DemoProgress({
        stream: process.stderr,
        write: print,
        // In quiet and JSON runs nothing shows the live phase going by, and with workers it takes real time.
        liveSeconds: !singleThread && (options.quiet === true || options.json === true) ? ms / 1000 : null,
      });
      const printEvent = eventPrinter(options, (line) => progress.print(line));
      const failures: DemoFailure[] = [];
      // Loaded on use: the demo brings the VM, the devices and the example device; the other commands need none of them.
      const { runDemo } = await import('../demo/run-demo.js');
      let summary: DemoSummary;
      progress.begin(DEMO_CHANNEL_COUNT);
      try {
        summary = await runDemo({
          mode: singleThread ? { kind: 'single-thread', seed } : { kind: 'workers' },
          durationMs: ms,
          ...(pages !== undefined && { guestMemoryPages: pages }),
          ...(maxVersion !== undefined && { maxVersion }),
          onEvent: (event) => {
            if (event.event === 'error') failures.push(event);
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
      if (summary.errors > 0) throw endedWithErrors(failures, options.quiet !== true);
    });
}
