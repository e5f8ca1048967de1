import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HV_STATUS, hvStatusName } from '../../src/hv/hv-status.js';
import { sharedBytes } from '../../src/hv/shared-bytes.js';
import {
  EVENT_FLAG_COUNT,
  HV_MESSAGE_LAYOUT,
  HV_MESSAGE_PAYLOAD_MAX,
  HV_MESSAGE_SIZE,
  SINT_COUNT,
  copyMessage,
  readMessage,
  writeMessage,
} from '../../src/hv/synic-message.js';
import { WireError } from '../../src/wire/wire-error.js';

test('HV_STATUS values are the hypervisor status codes', () => {
  // Linux include/hyperv/hvgdk_mini.h HV_STATUS_* (same values in QEMU hyperv-proto.h).
  assert.equal(HV_STATUS.SUCCESS, 0x00);
  assert.equal(HV_STATUS.INVALID_PARAMETER, 0x05);
  assert.equal(HV_STATUS.INSUFFICIENT_MEMORY, 0x0b);
  assert.equal(HV_STATUS.INVALID_PARTITION_ID, 0x0d);
  assert.equal(HV_STATUS.INVALID_VP_INDEX, 0x0e);
  assert.equal(HV_STATUS.INVALID_PORT_ID, 0x11);
  assert.equal(HV_STATUS.INVALID_CONNECTION_ID, 0x12);
  assert.equal(HV_STATUS.INSUFFICIENT_BUFFERS, 0x13);
  assert.equal(hvStatusName(0x13), 'HV_STATUS_INSUFFICIENT_BUFFERS');
  assert.equal(hvStatusName(0x77), '0x0077');
});

test('SynIC geometry: 16 SINTs, 256-byte messages with 240-byte payloads, 2048 event flags per SINT', () => {
  // linux-vmbus.md §A.3.1 (hyperv-tlfs.h:252-254, hyperv_vmbus.h:236); TLFS HV_SYNIC_EVENT_FLAGS (256 × 8).
  assert.equal(SINT_COUNT, 16);
  assert.equal(HV_MESSAGE_SIZE, 256);
  assert.equal(HV_MESSAGE_PAYLOAD_MAX, 240);
  assert.equal(EVENT_FLAG_COUNT, 2048);
});

test('writeMessage lays out the HV_MESSAGE header: type u32 @0, size u8 @4, flags u8 @5, port u64 @8, payload @16', () => {
  // openvmm-vmbus.md §6.1 (hvdef/src/lib.rs:1234-1259); linux-vmbus.md §A.3.1 (struct hv_message).
  const memory = sharedBytes(new SharedArrayBuffer(2 * HV_MESSAGE_SIZE));
  memory.u8.fill(0xee); // stale bytes must not survive in the slot
  writeMessage(memory, HV_MESSAGE_SIZE, 0x01, 0x00_12_34_56, Uint8Array.from([0xaa, 0xbb, 0xcc]));
  const slot = memory.u8.subarray(HV_MESSAGE_SIZE, 2 * HV_MESSAGE_SIZE);
  const expected = new Uint8Array(HV_MESSAGE_SIZE);
  expected.set([0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x56, 0x34, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0xaa, 0xbb, 0xcc]);
  assert.deepEqual(slot, expected);
  assert.ok(memory.u8.subarray(0, HV_MESSAGE_SIZE).every((b) => b === 0xee), 'the neighbouring slot is untouched');
  assert.equal(HV_MESSAGE_LAYOUT.PAYLOAD, 16);
});

test('readMessage copies the message out of shared memory', () => {
  const memory = sharedBytes(new SharedArrayBuffer(HV_MESSAGE_SIZE));
  const payload = Uint8Array.from({ length: HV_MESSAGE_PAYLOAD_MAX }, (_, i) => i);
  writeMessage(memory, 0, 0x7fff_ffff, 7, payload);
  const message = readMessage(memory, 0);
  assert.ok(message !== undefined && !(message instanceof WireError));
  assert.equal(message.messageType, 0x7fff_ffff);
  assert.equal(message.portId, 7);
  assert.deepEqual(message.payload, payload);
  assert.ok(!(message.payload.buffer instanceof SharedArrayBuffer), 'the payload is a private copy');
  memory.u8[HV_MESSAGE_LAYOUT.PAYLOAD] = 0x99;
  assert.equal(message.payload[0], 0, 'later writes to the slot do not reach the copy');
});

test('readMessage: an empty slot is undefined, an impossible payload size is a WireError', () => {
  const memory = sharedBytes(new SharedArrayBuffer(HV_MESSAGE_SIZE));
  assert.equal(readMessage(memory, 0), undefined);
  writeMessage(memory, 0, 1, 0, new Uint8Array(4));
  memory.u8[HV_MESSAGE_LAYOUT.PAYLOAD_SIZE] = 241;
  const result = readMessage(memory, 0);
  assert.ok(result instanceof WireError);
  assert.equal(result.code, 'oversized');
});

test('copyMessage moves a whole message and publishes its type', () => {
  const memory = sharedBytes(new SharedArrayBuffer(2 * HV_MESSAGE_SIZE));
  writeMessage(memory, 0, 5, 9, Uint8Array.from([1, 2, 3]));
  copyMessage(memory, 0, HV_MESSAGE_SIZE);
  assert.deepEqual(memory.u8.subarray(HV_MESSAGE_SIZE), memory.u8.subarray(0, HV_MESSAGE_SIZE));
});
