import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PACKET_DESCRIPTOR_SIZE,
  PACKET_FLAG_COMPLETION_REQUESTED,
  PACKET_TRAILER_SIZE,
  checkPacketDescriptor,
  decodePacketDescriptor,
  decodePacketTrailer,
  encodePacketDescriptor,
  encodePacketTrailer,
  inBandPacketSize,
  packetRingSize,
} from '../../src/wire/packet-descriptor.js';
import { PACKET_TYPE, packetTypeName } from '../../src/wire/packet-types.js';
import { WireError } from '../../src/wire/wire-error.js';
import { hex } from './messages/hex.js';

// openvmm-vmbus.md §6.3 (vmbus_ring/src/lib.rs:89-96), linux-vmbus.md §A.2 (struct vmpacket_descriptor):
// packetType u16 @0, dataOffset8 u16 @2, length8 u16 @4, flags u16 @6, transactionId u64 @8.
const DESCRIPTOR = {
  packetType: 6,
  dataOffset8: 2,
  length8: 4,
  flags: 1,
  transactionId: 0x0123_4567_89ab_cdefn,
};
const DESCRIPTOR_BYTES = hex('06 00  02 00  04 00  01 00  ef cd ab 89 67 45 23 01');

test('the descriptor is 16 bytes: type, dataOffset8, length8, flags, u64 transaction id, little-endian', () => {
  assert.equal(PACKET_DESCRIPTOR_SIZE, 16);
  const out = new Uint8Array(16);
  assert.equal(encodePacketDescriptor(DESCRIPTOR, out), null);
  assert.deepEqual(out, DESCRIPTOR_BYTES);
  assert.deepEqual(decodePacketDescriptor(DESCRIPTOR_BYTES), DESCRIPTOR);
});

test('the descriptor decodes at an offset and reports fewer than 16 bytes as truncated', () => {
  const framed = new Uint8Array(20);
  framed.set(DESCRIPTOR_BYTES, 4);
  assert.deepEqual(decodePacketDescriptor(framed, 4), DESCRIPTOR);
  const short = decodePacketDescriptor(DESCRIPTOR_BYTES.subarray(0, 15));
  assert.ok(short instanceof WireError);
  assert.equal(short.code, 'truncated');
});

test('encoding a descriptor rejects fields wider than their slot', () => {
  const out = new Uint8Array(16);
  for (const bad of [
    { ...DESCRIPTOR, length8: 0x1_0000 },
    { ...DESCRIPTOR, flags: -1 },
    { ...DESCRIPTOR, transactionId: 1n << 64n },
    { ...DESCRIPTOR, transactionId: -1n },
  ]) {
    const r = encodePacketDescriptor(bad, out);
    assert.ok(r instanceof WireError);
    assert.equal(r.code, 'bad-value');
  }
});

test('the trailer is reserved u32 = 0 then the packet start index u32 (lib.rs:191-195, ring_buffer.c:87-92)', () => {
  const out = new Uint8Array(PACKET_TRAILER_SIZE);
  assert.equal(encodePacketTrailer(0x1238, out), null);
  assert.deepEqual(out, hex('00 00 00 00  38 12 00 00'));
  assert.deepEqual(decodePacketTrailer(out), { reserved: 0, offset: 0x1238 });
});

test('completion-requested is flag bit 0 (hyperv.h:479)', () => {
  assert.equal(PACKET_FLAG_COMPLETION_REQUESTED, 1);
});

test('in-band size is 16 + round8(payload) + 8 (OpenVMM PacketSize, lib.rs:778-798)', () => {
  assert.equal(inBandPacketSize(0), 24);
  assert.equal(inBandPacketSize(1), 32);
  assert.equal(inBandPacketSize(8), 32);
  assert.equal(inBandPacketSize(9), 40);
  // Transfer pages: 8-byte header + 8 per range before the payload.
  assert.equal(packetRingSize(8 + 2 * 8, 0), 16 + 24 + 8);
});

test('checkPacketDescriptor accepts a well-formed descriptor and names each broken rule', () => {
  const inBand = PACKET_TYPE.VM_PKT_DATA_INBAND;
  const gpa = PACKET_TYPE.VM_PKT_DATA_USING_GPA_DIRECT;
  const xfer = PACKET_TYPE.VM_PKT_DATA_USING_XFER_PAGES;
  assert.equal(checkPacketDescriptor(inBand, 2, 2, 0, 16), null);
  assert.equal(checkPacketDescriptor(gpa, 3, 5, 1, 40), null);
  const rows: [number, number, number, number, number, string][] = [
    [inBand, 3, 2, 0, 64, 'length-before-data-offset'],
    [inBand, 1, 2, 0, 64, 'data-offset-too-small'],
    [inBand, 2, 5, 0, 32, 'length-exceeds-available'],
    [inBand, 2, 2, 2, 64, 'unknown-flags'],
    [inBand, 2, 2, 0x8000, 64, 'unknown-flags'],
    [0xe, 2, 2, 0, 64, 'unknown-type'],
    [gpa, 2, 4, 0, 64, 'extended-header-too-small'],
    [xfer, 2, 4, 0, 64, 'extended-header-too-small'],
  ];
  for (const [type, offset8, length8, flags, available, problem] of rows) {
    assert.equal(checkPacketDescriptor(type, offset8, length8, flags, available), problem, `${type}/${offset8}/${length8}/${flags}`);
  }
});

test('every packet type 0x0..0xd has its Linux name (hyperv.h:462-477)', () => {
  const expected = [
    'VM_PKT_INVALID',
    'VM_PKT_SYNCH',
    'VM_PKT_ADD_XFER_PAGESET',
    'VM_PKT_RM_XFER_PAGESET',
    'VM_PKT_ESTABLISH_GPADL',
    'VM_PKT_TEARDOWN_GPADL',
    'VM_PKT_DATA_INBAND',
    'VM_PKT_DATA_USING_XFER_PAGES',
    'VM_PKT_DATA_USING_GPADL',
    'VM_PKT_DATA_USING_GPA_DIRECT',
    'VM_PKT_CANCEL_REQUEST',
    'VM_PKT_COMP',
    'VM_PKT_DATA_USING_ADDITIONAL_PKT',
    'VM_PKT_ADDITIONAL_DATA',
  ];
  expected.forEach((name, value) => {
    assert.equal(packetTypeName(value), name);
    assert.equal(PACKET_TYPE[name as keyof typeof PACKET_TYPE], value);
  });
  assert.equal(packetTypeName(0xe), '0x000e');
});
