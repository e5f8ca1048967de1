/**
 * The checksum example (examples/checksum/), built and run: the interface
 * table driver and the idiomatic driver, each in one seeded thread and with
 * the guest in a worker, against the host VSP. The test checks what each side
 * observed: the bytes the host read, the completions the guest got back, and
 * that the VM stopped with nothing left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHECKSUM_BYTES, ECHO_COUNT } from '../../examples/checksum/guest-driver.js';
import { WELCOME_SEQUENCE } from '../../examples/checksum/checksum-vsp.js';
import { GREETING, PROTOCOL_VERSION, checksumPattern, decodeMessage, encodeMessage, fnv1a } from '../../examples/checksum/protocol.js';
import { runChecksumExample, type ExampleDriver, type ExampleMode, type ExampleRun } from '../../examples/checksum/run-example.js';
import { testSeed } from '../support/seed.js';

/** The ECHO tails the drivers send: 8 bytes n*16 .. n*16+7 for packet n (examples/checksum/guest-driver.ts). */
const ECHOES = Array.from({ length: ECHO_COUNT }, (_, n) => Array.from({ length: 8 }, (_, i) => n * 16 + i));

function checkRun(run: ExampleRun, mode: ExampleMode): void {
  const { guest, host, stop } = run;
  const checksum = fnv1a(checksumPattern(CHECKSUM_BYTES));
  // The host saw every request once, in order, and read the external data from the guest's pages.
  assert.deepEqual(host.versionsAsked, [PROTOCOL_VERSION]);
  assert.deepEqual(host.echoes, ECHOES);
  assert.deepEqual(host.checksums, [{ byteCount: CHECKSUM_BYTES, checksum }]);
  assert.ok(host.gpadlsCreated.includes(guest.gpadlId), 'the shared GPADL reached the host');
  assert.deepEqual(host.shares, [{ gpadlId: guest.gpadlId, written: GREETING.length }]);
  assert.deepEqual(host.welcomeAcks, [WELCOME_SEQUENCE], 'the guest completed the WELCOME echoing its sequence');
  assert.equal(host.refused, 0);
  assert.equal(host.closed, 1);
  // The guest got every completion back with the host's answers.
  assert.equal(guest.version, PROTOCOL_VERSION);
  assert.equal(guest.welcome, WELCOME_SEQUENCE);
  assert.deepEqual(guest.echoes, ECHOES);
  assert.deepEqual(guest.checksum, { byteCount: CHECKSUM_BYTES, host: checksum });
  assert.equal(guest.greeting, GREETING);
  // Nothing left: the guest's pages are free, the host maps no GPADL, nothing failed.
  assert.deepEqual(stop.failures, []);
  assert.deepEqual(
    stop.guests.map((g) => [g.exit, g.pagesAllocated]),
    [[mode === 'workers' ? 'clean' : 'in-thread', 0]],
  );
  assert.deepEqual(stop.host[0]!.table, { gpadls: 0, mappings: 0, mappedPages: 0 });
}

const runs = new Map<string, ExampleRun>();
for (const driver of ['table', 'idiomatic'] as const satisfies readonly ExampleDriver[]) {
  for (const mode of ['single-thread', 'workers'] as const satisfies readonly ExampleMode[]) {
    test(`the checksum example with the ${driver} driver, ${mode}: every request answered, nothing left behind`, { timeout: 60_000 }, async (t) => {
      const run = await runChecksumExample(driver, mode, mode === 'single-thread' ? testSeed(t.name) : undefined);
      checkRun(run, mode);
      runs.set(`${driver} ${mode}`, run);
    });
  }
}

test('the table driver and the idiomatic driver are observed alike by the host and report alike', () => {
  for (const mode of ['single-thread', 'workers']) {
    const table = runs.get(`table ${mode}`);
    const idiomatic = runs.get(`idiomatic ${mode}`);
    assert.ok(table !== undefined && idiomatic !== undefined, `both ${mode} runs above completed`);
    assert.deepEqual(idiomatic.host, table.host, mode);
    assert.deepEqual(idiomatic.guest, table.guest, mode);
  }
});

test('protocol: messages are four little-endian u32 words, then the tail; short input decodes to null', () => {
  assert.deepEqual(
    [...encodeMessage([1, 0x0001_0000, 0xdeadbeef, 7], new Uint8Array([9]))],
    [1, 0, 0, 0, 0, 0, 1, 0, 0xef, 0xbe, 0xad, 0xde, 7, 0, 0, 0, 9],
  );
  assert.deepEqual(decodeMessage(new Uint8Array([4, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80])), [4, 0x201, 0, 0x8000_0000]);
  assert.equal(decodeMessage(new Uint8Array(15)), null);
});

test('protocol: FNV-1a 32 matches its published test vectors', () => {
  // FNV-1a 32-bit: offset basis 0x811c9dc5, prime 0x01000193 (the FNV reference's test vectors: "" and "a", "foobar").
  assert.equal(fnv1a(new Uint8Array(0)), 0x811c9dc5);
  assert.equal(fnv1a(new TextEncoder().encode('a')), 0xe40c292c);
  assert.equal(fnv1a(new TextEncoder().encode('foobar')), 0xbf9cf968);
});
