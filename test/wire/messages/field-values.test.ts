import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CONNECTION_STATE,
  MAX_MESSAGE_SIZE,
  MESSAGE_HEADER_SIZE,
  OFFER_FLAG,
  OPEN_CHANNEL_FLAG,
  VMBUS_EVENT_CONNECTION_ID,
  VMBUS_MESSAGE_CONNECTION_ID,
  VMBUS_MESSAGE_CONNECTION_ID_MULTICLIENT,
  VMBUS_MESSAGE_REDIRECT_CONNECTION_ID,
  VMBUS_MESSAGE_TYPE,
  VMBUS_SINT,
  VP_INDEX_DISABLE_INTERRUPT,
  channelConnectionId,
  decodeTargetInfo,
  encodeTargetInfo,
} from '../../../src/wire/messages/index.js';
import { WireError } from '../../../src/wire/wire-error.js';

test('transport constants match openvmm-vmbus.md §6.1', () => {
  assert.equal(MAX_MESSAGE_SIZE, 240); // protocol.rs:36, incl. the header
  assert.equal(MESSAGE_HEADER_SIZE, 8); // protocol.rs:35
  assert.equal(VMBUS_MESSAGE_TYPE, 1); // vmbus_server/src/lib.rs:106
  assert.equal(VMBUS_SINT, 2); // vmbus_core/src/lib.rs:24
  assert.equal(VMBUS_MESSAGE_CONNECTION_ID, 1); // vmbus_server/src/lib.rs:292
  assert.equal(VMBUS_MESSAGE_CONNECTION_ID_MULTICLIENT, 4); // linux-vmbus.md §A.3.1
  assert.equal(VMBUS_EVENT_CONNECTION_ID, 2); // vmbus_server/src/lib.rs:104
  // protocol.rs:29; equals 4 | vtl 2 << 22 | vp 0 << 8 | sint 7 << 4.
  assert.equal(VMBUS_MESSAGE_REDIRECT_CONNECTION_ID, 4 | (2 << 22) | (7 << 4));
});

test('channelConnectionId is channelId | sint << 12 | vtl << 16 (protocol.rs:271-276)', () => {
  assert.equal(channelConnectionId(5), 0x2005); // VTL0, SINT 2: 0x2000 + id (§6.1)
  assert.equal(channelConnectionId(2047), 0x27ff);
  assert.equal(channelConnectionId(5, 2, 7), 0x2_7005);
});

test('field values match protocol.rs: offer flags, open flags, connection states, disabled interrupts', () => {
  // Offer flags: openvmm-vmbus.md §6.6 (protocol.rs:549-568).
  assert.deepEqual(OFFER_FLAG, {
    ENUMERATE_DEVICE_INTERFACE: 0x1,
    CONFIDENTIAL_RING_BUFFER: 0x2,
    CONFIDENTIAL_EXTERNAL_MEMORY: 0x4,
    REQUIRE_PINNED_EXTERNAL_MEMORY: 0x8,
    NAMED_PIPE_MODE: 0x10,
    TLNPI_PROVIDER: 0x2000,
  });
  assert.equal(OPEN_CHANNEL_FLAG.REDIRECT_INTERRUPT, 0x1); // protocol.rs:734-743
  assert.deepEqual(CONNECTION_STATE, { SUCCESSFUL: 0, FAILED_LOW_RESOURCES: 1, FAILED_UNKNOWN_FAILURE: 2 }); // :335-343
  assert.equal(VP_INDEX_DISABLE_INTERRUPT, 0xffff_ffff); // protocol.rs:716
});

test('TargetInfo reads sint from bits 0-7, vtl from 8-15 and feature flags from 32-63 (protocol.rs:306-313)', () => {
  // InitiateContact bytes @16..24 of the Copper golden vector: 02 00 0000 2f000000.
  assert.deepEqual(decodeTargetInfo(0x0000_002f_0000_0002n), { sint: 2, vtl: 0, featureFlags: 0x2f });
  assert.deepEqual(decodeTargetInfo(0xffff_ffff_ffff_ff07n), { sint: 7, vtl: 0xff, featureFlags: 0xffff_ffff });
  assert.deepEqual(decodeTargetInfo(-1n), { sint: 0xff, vtl: 0xff, featureFlags: 0xffff_ffff });
});

test('encodeTargetInfo packs the three parts with the reserved bits zero', () => {
  assert.equal(encodeTargetInfo({ sint: 2, vtl: 0, featureFlags: 0x2f }), 0x0000_002f_0000_0002n);
  assert.equal(encodeTargetInfo({ sint: 7, vtl: 2, featureFlags: 0 }), 0x0207n);
  assert.equal(encodeTargetInfo({ sint: 0xff, vtl: 0xff, featureFlags: 0xffff_ffff }), 0xffff_ffff_0000_ffffn);
});

test('encodeTargetInfo returns bad-value for a part that does not fit', () => {
  for (const bad of [
    { sint: 256, vtl: 0, featureFlags: 0 },
    { sint: 2, vtl: -1, featureFlags: 0 },
    { sint: 2, vtl: 0, featureFlags: 2 ** 32 },
    { sint: 2, vtl: 0.5, featureFlags: 0 },
  ]) {
    const r = encodeTargetInfo(bad);
    assert.ok(r instanceof WireError, JSON.stringify(bad));
    assert.equal(r.code, 'bad-value');
  }
});
