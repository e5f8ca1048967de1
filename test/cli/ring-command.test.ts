import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './run-cli.js';

// Ring control page (openvmm-vmbus.md §6.2; linux-vmbus.md §A.1.1): write index @0, read index @4,
// interrupt mask @8, pending send size @12, feature bits @64 (bit 0 = pending send size); data @4096.
const WRITE_INDEX = 0;
const READ_INDEX = 4;
const FEATURE_BITS = 64;
const DATA = 4096;

const scratch = mkdtempSync(join(tmpdir(), 'kmcl-ring-'));
let files = 0;
const newFile = (): string => join(scratch, `ring-${files++}.bin`);
const u32 = (bytes: Buffer, at: number): number => bytes.readUInt32LE(at);

function initRing(pages: number): string {
  const file = newFile();
  const r = runCli(['ring', 'init', file, '--pages', String(pages)]);
  assert.equal(r.status, 0, r.stderr);
  return file;
}

const INBAND_7 = '{"packetType":"VM_PKT_DATA_INBAND","flags":1,"transactionId":7,"payload":"68656c6c6f"}';

test('ring init creates a control page with zero indices and the pending-send-size feature bit, then data pages', () => {
  const file = initRing(4);
  const bytes = readFileSync(file);
  assert.equal(bytes.length, 4 * 4096);
  assert.equal(u32(bytes, WRITE_INDEX), 0);
  assert.equal(u32(bytes, READ_INDEX), 0);
  assert.equal(u32(bytes, FEATURE_BITS), 1);
});

test('ring write lays packets with trailers and publishes the write index; ring read prints them and advances the read index', () => {
  const file = initRing(3);
  const w = runCli(['ring', 'write', file], INBAND_7 + '\n' + '{"packetType":11,"transactionId":"0xffffffffffffffff"}\n');
  assert.equal(w.status, 0, w.stderr);
  const bytes = readFileSync(file);
  // In-band: 16-byte descriptor + "hello" padded to 8 = 24 bytes (length8 3), then the 8-byte trailer
  // holding the packet's start offset in its high half (linux-vmbus.md §A.1.2).
  assert.deepEqual([...bytes.subarray(DATA, DATA + 8)], [6, 0, 2, 0, 3, 0, 1, 0]);
  assert.equal(bytes.readBigUInt64LE(DATA + 8), 7n);
  assert.equal(bytes.subarray(DATA + 16, DATA + 21).toString(), 'hello');
  assert.equal(bytes.readBigUInt64LE(DATA + 24), 0n << 32n);
  // The completion starts at 32: its trailer is 32 << 32.
  assert.equal(bytes.readBigUInt64LE(DATA + 32 + 16), 32n << 32n);
  assert.equal(u32(bytes, WRITE_INDEX), 32 + 24);
  assert.equal(u32(bytes, READ_INDEX), 0);

  const r = runCli(['ring', 'read', file]);
  assert.equal(r.status, 0, r.stderr);
  const packets = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(packets.length, 2);
  assert.equal(packets[0].transactionId, 7);
  assert.equal(packets[0].payload, '68656c6c6f000000');
  assert.equal(packets[1].packetTypeName, 'VM_PKT_COMP');
  assert.equal(packets[1].transactionId, '0xffffffffffffffff');
  assert.equal(u32(readFileSync(file), READ_INDEX), 56);

  const again = runCli(['ring', 'read', file]);
  assert.equal(again.status, 0);
  assert.equal(again.stdout, '', 'nothing is pending after a read');
});

test('ring write wraps around the end of the data area', () => {
  const file = initRing(2); // 4096 data bytes
  const big = JSON.stringify({ packetType: 6, payload: 'ab'.repeat(1500) });
  for (let round = 0; round < 5; round++) {
    const w = runCli(['ring', 'write', file], big + '\n' + big + '\n');
    assert.equal(w.status, 0, w.stderr);
    const r = runCli(['ring', 'read', file]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    for (const line of lines) assert.equal(JSON.parse(line).payload, 'ab'.repeat(1500) + '0000000000000000'.slice(0, 2 * ((8 - (1500 % 8)) % 8)));
  }
});

test('ring read and write honour --offset and --pages inside a larger file', () => {
  const ringFile = initRing(2);
  const file = newFile();
  const ring = readFileSync(ringFile);
  writeFileSync(file, Buffer.concat([Buffer.alloc(8192, 0xee), ring, Buffer.alloc(4096, 0xdd)]));
  const w = runCli(['ring', 'write', file, '--offset', '8192', '--pages', '2'], INBAND_7);
  assert.equal(w.status, 0, w.stderr);
  const r = runCli(['ring', 'read', file, '--offset', '8192', '--pages', '2']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).transactionId, 7);
  const bytes = readFileSync(file);
  assert.ok(bytes.subarray(0, 8192).every((b) => b === 0xee), 'bytes before the ring untouched');
  assert.ok(bytes.subarray(16384).every((b) => b === 0xdd), 'bytes after the ring untouched');
});

test('a corrupt ring gets a one-line error and the file is left as it was', () => {
  const corruptions: [string, (b: Buffer) => void, RegExp][] = [
    ['write index beyond the data area', (b) => b.writeUInt32LE(8192, WRITE_INDEX), /invalid-write-index/],
    ['write index not 8-aligned', (b) => b.writeUInt32LE(12, WRITE_INDEX), /invalid-write-index/],
    ['read index beyond the data area', (b) => b.writeUInt32LE(5000, READ_INDEX), /invalid-read-index/],
    // Descriptor with length8 < dataOffset8 (openvmm-vmbus.md §3.1).
    ['descriptor length below its data offset', (b) => b.writeUInt16LE(1, DATA + 4), /corrupt ring/],
    ['descriptor with an unknown flag', (b) => b.writeUInt16LE(0x8000, DATA + 6), /corrupt ring/],
  ];
  for (const [what, corrupt, why] of corruptions) {
    const file = initRing(2);
    assert.equal(runCli(['ring', 'write', file], INBAND_7).status, 0);
    const bytes = readFileSync(file);
    corrupt(bytes);
    writeFileSync(file, bytes);
    const r = runCli(['ring', 'read', file]);
    assert.equal(r.status, 1, what);
    assert.equal(r.stdout, '', what);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${what}: ${r.stderr}`);
    assert.match(r.stderr, why, what);
    assert.deepEqual(readFileSync(file), bytes, `${what}: file unchanged`);
  }
});

test('ring write refuses bad input and a full ring without touching the file', () => {
  const file = initRing(2);
  const before = readFileSync(file);
  const cases: [string, RegExp][] = [
    ['{"packetType":6,"flags":2}', /unknown-flags/],
    ['{"packetType":"VM_PKT_NOPE"}', /unknown-type/],
    ['not json', /not valid JSON/],
    // 4096-byte data area: at most 4088 bytes with the trailer (never completely full, §6.2).
    [Array.from({ length: 3 }, () => JSON.stringify({ packetType: 6, payload: 'cd'.repeat(1500) })).join('\n'), /ring full at packet 3/],
  ];
  for (const [stdin, why] of cases) {
    const r = runCli(['ring', 'write', file], stdin);
    assert.equal(r.status, 1, stdin.slice(0, 40));
    assert.match(r.stderr, why);
    assert.deepEqual(readFileSync(file), before);
  }
});

test('ring commands explain a missing file or a region that does not fit', () => {
  const missing = runCli(['ring', 'read', join(scratch, 'missing.bin')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /ENOENT/);
  const file = initRing(2);
  const past = runCli(['ring', 'read', file, '--pages', '3']);
  assert.equal(past.status, 1);
  assert.match(past.stderr, /past the end of the file/);
});
