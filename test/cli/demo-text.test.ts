/**
 * The demo's text output (header, channel table, live lines, summary) and its
 * progress bars, from events given by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { channelTable } from '../../src/cli/demo-table.js';
import { DemoProgress } from '../../src/cli/demo-progress.js';
import { DemoTextView, summaryLine } from '../../src/cli/demo-text.js';
import type { DemoChannel, DemoEvent, DemoSummary } from '../../src/demo/index.js';

const HEARTBEAT: DemoChannel = {
  name: 'Heartbeat',
  classId: '57164f39-9115-4e78-ab55-382f3bd5422d',
  instanceId: 'fd149e91-82e0-4a7d-afa6-2a4166cbd7c0',
  channelId: 2,
  guestToHostRingBytes: 16384,
  hostToGuestRingBytes: 16384,
  version: 'framework 3.0, message 3.0',
};
const EXAMPLE: DemoChannel = {
  name: 'Checksum (example device)',
  classId: '5c1e0b7a-3f2d-4a6e-9b8c-7d6e5f4a3b2c',
  instanceId: 'a1b2c3d4-0000-4e5f-8a9b-0c1d2e3f4a5b',
  channelId: 1,
  guestToHostRingBytes: 65536,
  hostToGuestRingBytes: 4096 + 100,
  version: 'protocol 1.0',
};
const SUMMARY: DemoSummary = {
  channels: 2,
  packets: 1,
  bytes: 32,
  completions: 0,
  heartbeats: 1,
  timeSamples: 0,
  kvpTransactions: 9,
  errors: 0,
  guestExit: 'clean',
};

test('the channel table has one row per channel by id, columns aligned, ring sizes in KiB', () => {
  assert.deepEqual(channelTable([HEARTBEAT, EXAMPLE]), [
    'ID  CLASS                      CLASS GUID                            INSTANCE GUID                         RINGS OUT/IN  VERSION',
    ' 1  Checksum (example device)  5c1e0b7a-3f2d-4a6e-9b8c-7d6e5f4a3b2c  a1b2c3d4-0000-4e5f-8a9b-0c1d2e3f4a5b  64K/4196B     protocol 1.0',
    ' 2  Heartbeat                  57164f39-9115-4e78-ab55-382f3bd5422d  fd149e91-82e0-4a7d-afa6-2a4166cbd7c0  16K/16K       framework 3.0, message 3.0',
  ]);
});

test('live events that come before every channel is ready are shown under the table', () => {
  const view = new DemoTextView();
  const lines = (events: DemoEvent[]): string[] => events.flatMap((event) => view.render(event));
  assert.deepEqual(lines([{ event: 'demo-start', t: 0, mode: 'single-thread', seed: 4, durationMs: 5000 }]), [
    'kmcl demo: host and guest in one thread, seed 4, virtual time',
  ]);
  assert.deepEqual(
    lines([
      { event: 'vmbus-connected', t: 0, guest: 'g', version: '6.0' },
      { event: 'channel', t: 0, ...HEARTBEAT },
      { event: 'heartbeat', t: 1.5, sequence: '1', state: 'healthy' },
      { event: 'channel', t: 2, ...EXAMPLE },
    ]),
    [],
    'held until ready',
  );
  const table = lines([{ event: 'ready', t: 3, channels: 2 }]);
  assert.deepEqual(table.slice(0, 3), ['', 'guest "g" connected with VMBus 6.0; its drivers bound 2 channels by class GUID:', '']);
  assert.deepEqual(table.slice(3, 6), channelTable([HEARTBEAT, EXAMPLE]));
  assert.deepEqual(table.slice(6), ['', '   0.002s  heartbeat  #1, guest healthy']);
  assert.deepEqual(
    lines([
      { event: 'time-sync', t: 2000, kind: 'sample', hostTime: '2025-01-01T00:00:02.000Z', offsetMs: -0.25, clockSet: false },
      { event: 'kvp-get', t: 2001, pool: 'auto', key: 'OSName', value: null },
      { event: 'kvp-enumerate-end', t: 2002, pool: 'external', count: 2, status: 'HV_S_CONT' },
      { event: 'shutdown-request', t: 5000, kind: 'power-off', reason: 'planned', message: 'bye' },
      { event: 'error', t: 5001, partition: 'host', device: 'kvp', status: 'HV_E_FAIL', message: 'KVP get answered HV_E_FAIL' },
      { event: 'summary', t: 6000, ...SUMMARY },
    ]),
    [
      '   2.000s  time sync  SAMPLE host clock 2025-01-01T00:00:02.000Z, guest offset -0.250 ms',
      '   2.001s  kvp        GET auto pool: OSName = (no such key)',
      '   2.002s  kvp        ENUMERATE external pool [2]: no more items (HV_S_CONT)',
      '   5.000s  shutdown   host asks the guest to power off (planned): "bye"',
      '   5.001s  ERROR      host, kvp: KVP get answered HV_E_FAIL (HV_E_FAIL)',
      '',
      'summary: 2 channels, 1 packet, 32 bytes, 0 completions, 1 heartbeat, 0 time samples, 9 KVP transactions; guest exit clean; errors = 0',
    ],
  );
});

test('the summary line counts in words and ends with errors = N', () => {
  assert.equal(
    summaryLine({ ...SUMMARY, packets: 62, errors: 2, guestExit: 'terminated' }),
    'summary: 2 channels, 62 packets, 32 bytes, 0 completions, 1 heartbeat, 0 time samples, 9 KVP transactions; guest exit terminated; errors = 2',
  );
});

/** A stream that says it is (or is not) a terminal, keeping what was drawn on it. */
function screen(isTTY: boolean): { stream: NodeJS.WriteStream; drawn: () => string } {
  let drawn = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      drawn += chunk.toString();
      done();
    },
  });
  return { stream: Object.assign(stream, { isTTY, columns: 120 }) as unknown as NodeJS.WriteStream, drawn: () => drawn };
}

test('without a terminal there is no bar and lines go straight out', () => {
  const { stream, drawn } = screen(false);
  const out: string[] = [];
  const progress = new DemoProgress({ stream, write: (line) => out.push(line), liveSeconds: 5 });
  progress.begin(5);
  progress.print('first');
  assert.deepEqual(out, ['first']);
  progress.end();
  assert.equal(drawn(), '');
});

test('on a terminal a slow step shows its bar, and output waits until the bar is gone', async () => {
  const { stream, drawn } = screen(true);
  const out: string[] = [];
  const progress = new DemoProgress({ stream, write: (line) => out.push(line), liveSeconds: null });
  progress.begin(5);
  progress.follow({ event: 'channel', t: 0, ...HEARTBEAT });
  await sleep(400);
  assert.match(drawn(), /booting the VM \[.*\] 1\/5 channels ready/);
  progress.print('held');
  assert.deepEqual(out, []);
  progress.follow({ event: 'ready', t: 0, channels: 5 });
  assert.deepEqual(out, ['held'], 'written once the bar is gone');
});

test('on a terminal a quick step shows no bar at all', () => {
  const { stream, drawn } = screen(true);
  const out: string[] = [];
  const progress = new DemoProgress({ stream, write: (line) => out.push(line), liveSeconds: null });
  progress.begin(5);
  progress.print('at once');
  progress.follow({ event: 'ready', t: 0, channels: 5 });
  assert.deepEqual(out, ['at once']);
  assert.equal(drawn(), '');
});
