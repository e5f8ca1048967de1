/**
 * `npm run bench -- [names...] [--json]`: runs the named sub-benchmarks (all
 * registered ones when none is named), one after another, with a progress bar
 * on stderr. Humans get a table per sub-benchmark on stdout; `--json` prints
 * one JSON document instead (environment, results, notes, failures).
 */
import { captureEnvironment } from './harness/environment.js';
import { parseBenchArguments } from './harness/command-line.js';
import { StderrProgressBar } from './harness/progress-bar.js';
import { runBenchmarks } from './harness/run-benchmarks.js';
import type { BenchObserver } from './harness/run-benchmarks.js';
import { renderTable } from './harness/table.js';
import { createBenchRegistry } from './suites/registry.js';

const registry = createBenchRegistry();
const request = parseBenchArguments(process.argv.slice(2));

function usage(): string {
  const lines = registry.all().map((b) => `  ${b.name.padEnd(8)} ${b.description}`);
  const header = ['usage: npm run bench -- [names...] [--json]', 'sub-benchmarks (all when none is named):'];
  return [...header, ...lines].join('\n');
}

if ('error' in request) {
  console.error(`${request.error}\n${usage()}`);
  process.exit(2);
}
if (request.help) {
  console.log(usage());
  process.exit(0);
}
const selection = registry.select(request.names);
if (!selection.ok) {
  console.error(`unknown sub-benchmark: ${selection.unknown.join(', ')}\n${usage()}`);
  process.exit(2);
}

const environment = captureEnvironment();
const json = request.json;
if (!json) {
  const { node, cpus, cpuModel, platform, arch } = environment;
  console.log(`node ${node}, ${cpus} CPUs (${cpuModel}), ${platform}/${arch}\n`);
}

const observer: BenchObserver = {
  progressFor: (benchmark) => new StderrProgressBar(benchmark.name),
  finished(benchmark, outcome) {
    if (json) return;
    for (const table of outcome.tables) console.log(`${renderTable(table)}\n`);
    for (const note of outcome.notes) console.log(`note (${benchmark.name}): ${note}`);
    if (outcome.notes.length > 0) console.log('');
  },
  failed(benchmark, error) {
    const why = error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.error(`${benchmark.name} failed: ${why}`);
  },
};

const report = await runBenchmarks(selection.selected, environment, observer);
if (json) console.log(JSON.stringify(report, null, 2));
if (report.failures.length > 0) process.exitCode = 1;
