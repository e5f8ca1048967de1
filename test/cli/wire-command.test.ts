import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './run-cli.js';

// CLOSE_CHANNEL (type 7) for channel 5: header {message_type u32, padding u32}, channel_id u32 @8
// (openvmm-vmbus.md §6.9; OpenVMM vmbus_core/src/lib.rs conformance vector).
const CLOSE_CHANNEL_5 = '0700000000000000' + '05000000';

// OPEN_CHANNEL (type 5, 148 bytes; openvmm-vmbus.md §6.7): channel 3, open id 7, ring GPADL 0x80000003,
// target VP 0, downstream page offset 4, user data zero.
const OPEN_CHANNEL =
  '0500000000000000' + '03000000' + '07000000' + '03000080' + '00000000' + '04000000' + '00'.repeat(120);

// In-band packet (type 6; openvmm-vmbus.md §6.3): data_offset8 2, length8 3, flags 1 (completion
// requested), transaction id 42, then "hi" padded to 8 bytes.
const INBAND = '0600' + '0200' + '0300' + '0100' + '2a00000000000000' + '6869000000000000';

test('wire decode message prints the fields named as in OpenVMM, camelCase', () => {
  const r = runCli(['wire', 'decode', 'message', OPEN_CHANNEL]);
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.equal(json.kind, 'OpenChannel');
  assert.equal(json.channelId, 3);
  assert.equal(json.openId, 7);
  assert.equal(json.ringBufferGpadlId, 0x80000003);
  assert.equal(json.downstreamRingBufferPageOffset, 4);
  assert.equal(json.userData, '00'.repeat(120));
});

test('wire decode accepts hex split over several arguments', () => {
  const r = runCli(['wire', 'decode', 'message', '07000000', '00000000', '05000000']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { kind: 'CloseChannel', channelId: 5 });
});

test('wire encode is the inverse of decode for messages and packets', () => {
  for (const [what, hex] of [['message', CLOSE_CHANNEL_5], ['message', OPEN_CHANNEL], ['packet', INBAND]] as const) {
    const decoded = runCli(['wire', 'decode', what, hex]);
    assert.equal(decoded.status, 0, decoded.stderr);
    const encoded = runCli(['wire', 'encode', what, decoded.stdout]);
    assert.equal(encoded.status, 0, encoded.stderr);
    assert.equal(encoded.stdout.trim(), hex);
  }
});

test('wire decode packet prints the descriptor fields and the payload', () => {
  const r = runCli(['wire', 'decode', 'packet', INBAND]);
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.equal(json.packetType, 6);
  assert.equal(json.packetTypeName, 'VM_PKT_DATA_INBAND');
  assert.equal(json.dataOffset8, 2);
  assert.equal(json.length8, 3);
  assert.equal(json.flags, 1);
  assert.equal(json.transactionId, 42);
  assert.equal(json.payload, '6869000000000000');
});

test('64-bit values beyond 2^53 are printed exactly as 0x strings and read back', () => {
  const hex = '0b00' + '0200' + '0200' + '0000' + 'ffffffffffffffff';
  const r = runCli(['wire', 'decode', 'packet', hex]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).transactionId, '0xffffffffffffffff');
  assert.equal(runCli(['wire', 'encode', 'packet', r.stdout]).stdout.trim(), hex);
});

test('wire encode fills in derived packet fields', () => {
  const r = runCli(['wire', 'encode', 'packet', '{"packetType":"VM_PKT_DATA_INBAND","flags":1,"transactionId":42,"payload":"6869"}']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '0600020003000100' + '2a00000000000000' + '6869000000000000');
});

test('malformed input exits 1 with one line saying what is wrong', () => {
  const cases: [string[], RegExp][] = [
    [['wire', 'decode', 'message', '07000000'], /truncated/],
    [['wire', 'decode', 'message', '1e00000000000000'], /unknown-type/],
    [['wire', 'decode', 'message', '07' + '00'.repeat(240)], /oversized/],
    [['wire', 'decode', 'message', 'zz'], /hex/],
    [['wire', 'decode', 'packet', '0600' + '0100' + '0300' + '0000' + '00'.repeat(16)], /bad-descriptor/],
    [['wire', 'decode', 'packet', '0600' + '0200' + '0200' + '0400' + '00'.repeat(8)], /unknown-flags/],
    [['wire', 'encode', 'message', '{"kind":"CloseChannel","channelId":-1}'], /bad-value/],
    [['wire', 'encode', 'message', '{"kind":"NoSuchMessage"}'], /unknown-type/],
    [['wire', 'encode', 'packet', '{not json'], /not valid JSON/],
    [['wire', 'decode', 'frame', '00'], /message.*packet/],
  ];
  for (const [args, why] of cases) {
    const r = runCli(args);
    assert.equal(r.status, 1, `${args.join(' ')} should fail`);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
    assert.match(lines[0]!, why);
  }
});
