/**
 * `kmcl demo` as a user runs it: the built command in a child process, its
 * stdout, stderr and exit status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DemoEvent } from '../../src/demo/index.js';
import { testSeed } from '../support/seed.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `kmcl demo ...args`; a run still going after `timeoutMs` is killed and fails its test. */
function demo(args: readonly string[], timeoutMs = 30_000): Run {
  const r = spawnSync(process.execPath, [MAIN, 'demo', ...args], { encoding: 'utf8', timeout: timeoutMs });
  assert.equal(r.error, undefined, `kmcl demo ${args.join(' ')} did not end within ${timeoutMs} ms`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function events(stdout: string): DemoEvent[] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as DemoEvent);
}

function only<N extends DemoEvent['event']>(all: readonly DemoEvent[], name: N): Extract<DemoEvent, { event: N }>[] {
  return all.filter((event): event is Extract<DemoEvent, { event: N }> => event.event === name);
}

/**
 * Class GUIDs of the offers: the four ICs under the names Linux tools/hv/lsvmbus
 * gives them (GUIDs: linux-vmbus.md §A.5.4-§A.5.7 and §A.6), and the example
 * device's own (examples/checksum/protocol.ts).
 */
const CLASS_IDS = {
  'Operating system shutdown': '0e0b6031-5213-4934-818b-38d90ced39db',
  Heartbeat: '57164f39-9115-4e78-ab55-382f3bd5422d',
  'Time Synchronization': '9527e630-d0ae-497b-adce-e80ab0175caf',
  'Data Exchange': 'a9a0f4e7-5a45-4d96-b827-8a841e8c03e6',
  'Checksum (example device)': '5c1e0b7a-3f2d-4a6e-9b8c-7d6e5f4a3b2c',
};

test('demo --single-thread --seed 1 --json gives the same event stream on every run, on virtual time', () => {
  const first = demo(['--single-thread', '--seed', '1', '--json']);
  const second = demo(['--single-thread', '--seed', '1', '--json']);
  assert.equal(first.status, 0, first.stderr);
  assert.equal(first.stderr, '');
  assert.equal(second.stdout, first.stdout, 'same seed, same events');

  const all = events(first.stdout);
  const names = all.map((event) => event.event);
  assert.equal(names[0], 'demo-start');
  assert.equal(names[1], 'vmbus-connected');
  assert.equal(names.at(-1), 'summary');
  assert.ok(names.indexOf('ready') < names.indexOf('kvp-set'), 'the live phase starts once every channel is ready');
  assert.ok(names.lastIndexOf('heartbeat') < names.indexOf('shutdown-request'));
  assert.deepEqual(names.slice(names.indexOf('shutdown-request')), ['shutdown-request', 'shutdown-answer', 'guest-shutdown', 'guest-stopped', 'host-closed', 'summary']);

  const channels = only(all, 'channel');
  assert.deepEqual(Object.fromEntries(channels.map((channel) => [channel.name, channel.classId])), CLASS_IDS);
  assert.deepEqual(channels.map((channel) => channel.channelId).sort(), [1, 2, 3, 4, 5]);
  // IC channels: 16 KiB rings each way, as Linux opens them (linux-vmbus.md §A.5.1).
  for (const channel of channels.filter((row) => row.name !== 'Checksum (example device)')) {
    assert.equal(channel.guestToHostRingBytes, 16384);
    assert.equal(channel.hostToGuestRingBytes, 16384);
    assert.match(channel.version, /^framework 3\.0, message \d\.\d$/);
  }

  // Every second of virtual time, from the first negotiation to the end of the 5-second live phase.
  const beats = only(all, 'heartbeat');
  assert.deepEqual(beats.map((beat) => [beat.sequence, beat.t, beat.state]), [1, 2, 3, 4, 5, 6].map((n) => [String(n), (n - 1) * 1000, 'healthy']));

  const samples = only(all, 'time-sync');
  assert.deepEqual(samples.map((sample) => [sample.kind, sample.hostTime, sample.offsetMs, sample.clockSet]), [
    // The simulated guest clock starts 1.5 s behind the host's: the SYNC finds it and sets it.
    ['sync', '2025-01-01T00:00:00.000Z', 1500, true],
    ['sample', '2025-01-01T00:00:02.000Z', 0, false],
    ['sample', '2025-01-01T00:00:04.000Z', 0, false],
  ]);
  const today = new Date().toISOString().slice(0, 10);
  assert.ok(!first.stdout.includes(today), 'no event carries the machine clock');

  assert.deepEqual(only(all, 'kvp-set').map((set) => [set.pool, set.key, set.value]), [
    ['external', 'kmcl.demo.greeting', 'hello from the host'],
    ['external', 'kmcl.demo.answer', '42'],
  ]);
  assert.deepEqual(only(all, 'kvp-get').map((get) => get.key), ['OSName', 'OSVersion', 'ProcessorArchitecture', 'FullyQualifiedDomainName']);
  assert.ok(only(all, 'kvp-get').every((get) => get.value !== null && get.value !== ''));
  assert.deepEqual(only(all, 'kvp-enumerate').map((entry) => [entry.index, entry.key]), [[0, 'kmcl.demo.greeting'], [1, 'kmcl.demo.answer']]);
  // ENUMERATE ends with "no more items" (HV_S_CONT, linux-vmbus.md §A.5.7).
  assert.deepEqual(only(all, 'kvp-enumerate-end').map((end) => [end.count, end.status]), [[2, 'HV_S_CONT']]);

  const [example] = only(all, 'example-device');
  assert.deepEqual(
    example && [example.version, example.welcome, example.echoes, example.checksumBytes, example.greeting],
    ['1.0', 42, 4, 6000, 'hello from the host, through a GPADL'],
  );

  assert.deepEqual(only(all, 'shutdown-answer').map((answer) => answer.status), ['HV_S_OK']);
  const [stopped] = only(all, 'guest-stopped');
  assert.deepEqual(stopped && [stopped.exit, stopped.openChannels, stopped.busPages, stopped.pagesAllocated], ['in-thread', 0, 0, 0]);
  const [closed] = only(all, 'host-closed');
  assert.deepEqual(closed && [closed.connection, closed.offers, closed.channels, closed.gpadls], ['disconnected', 0, 0, 0]);

  const [summary] = only(all, 'summary');
  assert.ok(summary !== undefined);
  assert.deepEqual([summary.channels, summary.heartbeats, summary.timeSamples, summary.kvpTransactions, summary.errors], [5, 6, 3, 9, 0]);
  // The example's completions: its VERSION request, 4 ECHOes, CHECKSUM, SHARE, and the guest's ack of WELCOME.
  // The ICs ask for none: the host sends without a completion request and each answer is a packet of its own (linux-vmbus.md §A.5.1, §A.5.2).
  assert.equal(summary.completions, 8);
  assert.ok(summary.packets > 2 * (summary.heartbeats + summary.timeSamples + summary.kvpTransactions));
  // Every packet takes a multiple of 8 ring bytes (descriptor, padded payload, 8-byte trailer: linux-vmbus.md §A.1.2).
  assert.equal(summary.bytes % 8, 0);
});

test('demo --single-thread with any seed runs clean, and the same way twice', (t) => {
  const seed = String(testSeed(t.name) >>> 0);
  const first = demo(['--single-thread', '--seed', seed, '--json', '--duration', '2']);
  assert.equal(first.status, 0, first.stderr);
  assert.equal(demo(['--single-thread', '--seed', seed, '--json', '--duration', '2']).stdout, first.stdout);
  const [summary] = only(events(first.stdout), 'summary');
  assert.deepEqual(summary && [summary.errors, summary.heartbeats, summary.guestExit], [0, 3, 'in-thread']);
});

test('demo with the guest in a worker ends in time with the table, live lines and a summary with errors = 0', () => {
  const run = demo(['--duration', '1']);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, '', 'no progress bar when stderr is not a terminal');
  const lines = run.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'kmcl demo: one guest partition in a worker thread');
  const header = lines.findIndex((line) => line.startsWith('ID  CLASS'));
  assert.ok(header > 0, run.stdout);
  assert.match(lines[header]!, /^ID {2}CLASS +CLASS GUID +INSTANCE GUID +RINGS OUT\/IN {2}VERSION$/);
  const rows = lines.slice(header + 1, header + 6);
  assert.deepEqual(rows.map((row) => Number(row.trim().split(/\s+/)[0])), [1, 2, 3, 4, 5], 'rows by channel id');
  for (const classId of Object.values(CLASS_IDS)) assert.equal(rows.filter((row) => row.includes(classId)).length, 1, classId);
  assert.ok(lines.some((line) => /^ +0\.\d{3}s {2}heartbeat {2}#1, guest healthy$/.test(line)), 'the first heartbeat');
  assert.ok(lines.some((line) => /time sync {2}SYNC host clock/.test(line)));
  assert.ok(lines.some((line) => /kvp {8}ENUMERATE external pool \[2\]: no more items \(HV_S_CONT\)$/.test(line)));
  assert.ok(lines.some((line) => /shutdown {3}guest answered HV_S_OK$/.test(line)));
  assert.match(lines.at(-1)!, /^summary: 5 channels, \d+ packets, \d+ bytes, 8 completions, \d+ heartbeats?, .*; guest exit clean; errors = 0$/);
});

test('demo --quiet prints only the summary; --json --quiet only the summary event', () => {
  const quiet = demo(['--single-thread', '--quiet']);
  assert.equal(quiet.status, 0, quiet.stderr);
  assert.match(quiet.stdout, /^summary: 5 channels, .*errors = 0\n$/);
  const json = demo(['--single-thread', '--quiet', '--json']);
  assert.deepEqual(events(json.stdout).map((event) => event.event), ['summary']);
});

test('demo --vmbus-version 2.4: the guest falls back to the older host, and every device still works', () => {
  const run = demo(['--single-thread', '--vmbus-version', '2.4', '--json', '--duration', '1']);
  assert.equal(run.status, 0, run.stderr);
  const all = events(run.stdout);
  assert.deepEqual(only(all, 'vmbus-connected').map((connected) => connected.version), ['2.4']);
  assert.deepEqual(only(all, 'summary').map((summary) => [summary.channels, summary.errors]), [[5, 0]]);
});

test('demo --help shows every option, with examples', () => {
  const r = spawnSync(process.execPath, [MAIN, 'demo', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  for (const option of ['--single-thread', '--seed <n>', '--duration <seconds>', '--json', '--quiet', '--memory <pages>', '--vmbus-version <version>']) {
    assert.ok(r.stdout.includes(option), option);
  }
  assert.match(r.stdout, /Examples:\n {2}\$ kmcl demo /);
  assert.match(r.stdout, /\$ kmcl demo --single-thread --seed 7 --json/);
  const top = spawnSync(process.execPath, [MAIN, '--help'], { encoding: 'utf8' });
  assert.match(top.stdout, /\n {2}demo \[options\] +boot a VM/);
});

test('a failing demo says which partition or device failed and the NTSTATUS, with no stack trace, and exits 1', () => {
  const cases = [
    // Two pages cannot hold the guest bus's pages: its connect fails in the guest's worker.
    { args: ['--memory', '2'], stderr: ['kmcl: demo failed: the VM did not boot', 'guest "demo-guest": its bus failed to connect', 'STATUS_INSUFFICIENT_RESOURCES'] },
    // Sixteen pages hold the IC rings but not the example device's: its driver's open fails.
    { args: ['--single-thread', '--memory', '16'], stderr: ['kmcl: demo failed: the boot phase failed', 'guest "demo-guest", checksum: open failed: STATUS_INSUFFICIENT_RESOURCES'] },
  ];
  for (const { args, stderr } of cases) {
    const run = demo(args);
    assert.equal(run.status, 1, args.join(' '));
    for (const text of stderr) assert.ok(run.stderr.includes(text), `${args.join(' ')}: ${run.stderr}`);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('demo refuses bad options with one line and exit 1', () => {
  const cases: [string[], RegExp][] = [
    [['--duration', 'abc'], /^kmcl: --duration must be a number of seconds from 0 to 3600, not "abc"\n$/],
    [['--duration', '-1'], /^kmcl: --duration must be/],
    [['--seed', '3'], /^kmcl: --seed applies to --single-thread runs only\n$/],
    [['--single-thread', '--seed', 'x'], /^kmcl: --seed must be an integer/],
    [['--memory', '0'], /^kmcl: --memory must be a number of 4 KiB pages, not "0"\n$/],
    [['--vmbus-version', '9.9'], /^kmcl: --vmbus-version: 9\.9 is not a VMBus version \(known: 0\.13, .*6\.0\)\n$/],
    [['--vmbus-version', 'new'], /^kmcl: --vmbus-version: not a VMBus version: "new" \(bad-value\)\n$/],
  ];
  for (const [args, stderr] of cases) {
    const run = demo(args);
    assert.equal(run.status, 1, args.join(' '));
    assert.match(run.stderr, stderr);
    assert.equal(run.stdout, '');
  }
});
