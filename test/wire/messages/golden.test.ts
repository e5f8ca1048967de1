import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MESSAGE_TABLE, decodeMessage, encodeMessage } from '../../../src/wire/messages/index.js';
import { WireError } from '../../../src/wire/wire-error.js';
import { CHANNEL_VECTORS } from './vectors-channel.js';
import { CONNECTION_VECTORS } from './vectors-connection.js';

const VECTORS = [...CHANNEL_VECTORS, ...CONNECTION_VECTORS];

test('there is one golden vector for every variant of every message type', () => {
  const kinds = MESSAGE_TABLE.flatMap((spec) => spec.variants.map((v) => v.kind));
  assert.equal(kinds.length, 34); // 29 types + OpenChannel2, InitiateContact2, VersionResponse2/3, TlConnectRequest2
  assert.deepEqual(VECTORS.map((v) => v.kind).sort(), [...kinds].sort());
});

for (const v of VECTORS) {
  test(`${v.kind}: golden bytes decode to the message (${v.source})`, () => {
    assert.deepEqual(decodeMessage(v.bytes, v.ctx), v.message);
  });

  test(`${v.kind}: decodes by type and size alone, without a receiver state`, () => {
    assert.deepEqual(decodeMessage(v.bytes), v.message);
  });

  test(`${v.kind}: encodes to exactly the golden bytes (${v.source})`, () => {
    assert.deepEqual(encodeMessage(v.message), v.bytes);
  });

  test(`${v.kind}: decode then encode gives the same bytes`, () => {
    const decoded = decodeMessage(v.bytes, v.ctx);
    assert.ok(!(decoded instanceof WireError), String(decoded));
    assert.deepEqual(encodeMessage(decoded), v.bytes);
  });
}

// OpenVMM's conformance vector vmbus_core/src/lib.rs:257-276 (test_outgoing_message_with_data):
// GpadlHeader { channel_id 5, gpadl_id 1, len 7, count 6 } followed by the 4 bytes 0a 0b 0c 0d.
const OPENVMM_GPADL_HEADER_WITH_DATA = Uint8Array.from([
  0x8, 0, 0, 0, 0, 0, 0, 0, 0x5, 0, 0, 0, 0x1, 0, 0, 0, 0x7, 0, 0x6, 0, 0xa, 0xb, 0xc, 0xd,
]);

test("OpenVMM's GpadlHeader-with-data vector: its 4 trailing bytes are a partial u64, ignored as OpenVMM does", () => {
  // channels.rs:1232-1237: the range buffer takes whole u64s only (UEFI pads GPADL messages to 240 bytes).
  assert.deepEqual(decodeMessage(OPENVMM_GPADL_HEADER_WITH_DATA), {
    kind: 'GpadlHeader', channelId: 5, gpadlId: 1, len: 7, count: 6, range: [],
  });
});

test("OpenVMM's GpadlHeader-with-data vector, padded to a whole u64, decodes its header fields and data", () => {
  const padded = Uint8Array.from([...OPENVMM_GPADL_HEADER_WITH_DATA, 0, 0, 0, 0]);
  const message = { kind: 'GpadlHeader', channelId: 5, gpadlId: 1, len: 7, count: 6, range: [0x0d0c_0b0an] } as const;
  assert.deepEqual(decodeMessage(padded, { receiver: 'host', version: 0x0d, features: 0 }), { ...message, range: [0x0d0c_0b0an] });
  assert.deepEqual(encodeMessage({ ...message, range: [0x0d0c_0b0an] }), padded);
});
