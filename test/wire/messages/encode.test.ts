import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage } from '../../../src/wire/messages/index.js';
import type { ChannelMessage } from '../../../src/wire/messages/index.js';
import { WireError } from '../../../src/wire/wire-error.js';
import type { WireErrorCode } from '../../../src/wire/wire-error.js';

// Field kinds per openvmm-vmbus.md §6.5-6.9: OfferChannel monitor_id u8 @188, flags u16 @56,
// channel_id u32; InitiateContact monitor GPAs u64; TlConnectRequest GUIDs; user data [120].
const OFFER: Extract<ChannelMessage, { kind: 'OfferChannel' }> = {
  kind: 'OfferChannel',
  interfaceId: '57164f39-9115-4e78-ab55-382f3bd5422d',
  instanceId: '0e0b6031-5213-4934-818b-38d90ced39db',
  flags: 0,
  mmioMegabytes: 0,
  userDefined: new Uint8Array(120),
  subchannelIndex: 0,
  mmioMegabytesOptional: 0,
  channelId: 1,
  monitorId: 0xff,
  monitorAllocated: 0,
  isDedicated: 1,
  connectionId: 0x2001,
};
const CONTACT: Extract<ChannelMessage, { kind: 'InitiateContact' }> = {
  kind: 'InitiateContact',
  versionRequested: 0x0005_0003,
  targetMessageVp: 0,
  interruptPageOrTargetInfo: 2n,
  parentToChildMonitorPageGpa: 0n,
  childToParentMonitorPageGpa: 0n,
};
const HEADER: Extract<ChannelMessage, { kind: 'GpadlHeader' }> = {
  kind: 'GpadlHeader', channelId: 1, gpadlId: 1, len: 16, count: 1, range: [0x1000n, 0x10n],
};

/** Builds an invalid message from a valid one, bypassing the types as an untyped caller would. */
const broken = (base: ChannelMessage, patch: Record<string, unknown>): ChannelMessage =>
  ({ ...base, ...patch }) as unknown as ChannelMessage;
const sparse: bigint[] = [];
sparse[1] = 1n;

const CASES: readonly { readonly name: string; readonly msg: ChannelMessage; readonly code: WireErrorCode }[] = [
  { name: 'a u8 above 255', msg: broken(OFFER, { monitorId: 256 }), code: 'bad-value' },
  { name: 'a negative u16', msg: broken(OFFER, { flags: -1 }), code: 'bad-value' },
  { name: 'a u32 of 2^32', msg: broken(OFFER, { channelId: 2 ** 32 }), code: 'bad-value' },
  { name: 'a fractional u32', msg: broken(OFFER, { channelId: 1.5 }), code: 'bad-value' },
  { name: 'NaN as a u32', msg: broken(OFFER, { channelId: NaN }), code: 'bad-value' },
  { name: 'a bigint where a u32 belongs', msg: broken(OFFER, { channelId: 1n }), code: 'bad-value' },
  { name: 'a missing field', msg: broken(OFFER, { connectionId: undefined }), code: 'bad-value' },
  { name: 'a number where a u64 bigint belongs', msg: broken(CONTACT, { parentToChildMonitorPageGpa: 0 }), code: 'bad-value' },
  { name: 'a negative u64', msg: broken(CONTACT, { parentToChildMonitorPageGpa: -1n }), code: 'bad-value' },
  { name: 'a u64 of 2^64', msg: broken(CONTACT, { childToParentMonitorPageGpa: 1n << 64n }), code: 'bad-value' },
  { name: 'an upper-case GUID', msg: broken(OFFER, { interfaceId: '57164F39-9115-4E78-AB55-382F3BD5422D' }), code: 'bad-value' },
  { name: 'a braced GUID', msg: broken(OFFER, { interfaceId: '{57164f39-9115-4e78-ab55-382f3bd5422d}' }), code: 'bad-value' },
  { name: 'a GUID that is not a string', msg: broken(OFFER, { instanceId: 7 }), code: 'bad-value' },
  { name: 'user data of 119 bytes', msg: broken(OFFER, { userDefined: new Uint8Array(119) }), code: 'bad-value' },
  { name: 'user data of 121 bytes', msg: broken(OFFER, { userDefined: new Uint8Array(121) }), code: 'bad-value' },
  { name: 'user data as a plain array', msg: broken(OFFER, { userDefined: new Array(120).fill(0) }), code: 'bad-value' },
  { name: 'GPADL data that is not an array', msg: broken(HEADER, { range: 5n }), code: 'bad-value' },
  { name: 'GPADL data holding a number', msg: broken(HEADER, { range: [1n, 2] }), code: 'bad-value' },
  { name: 'GPADL data with a hole', msg: broken(HEADER, { range: sparse }), code: 'bad-value' },
  // A GPADL_HEADER holds at most (240 - 20) / 8 = 27 u64 (protocol.rs:690-693).
  { name: 'a GPADL_HEADER with 28 u64 of data', msg: broken(HEADER, { range: new Array<bigint>(28).fill(1n) }), code: 'oversized' },
  { name: 'an unknown kind', msg: broken(OFFER, { kind: 'OfferChannel3' }), code: 'unknown-type' },
  { name: 'a kind that is not a string', msg: broken(OFFER, { kind: 1n }), code: 'unknown-type' },
  { name: 'a message type name instead of a kind', msg: broken(OFFER, { kind: 'OFFER_CHANNEL' }), code: 'unknown-type' },
  { name: 'null', msg: null as unknown as ChannelMessage, code: 'bad-value' },
];

for (const c of CASES) {
  test(`encodeMessage refuses ${c.name} with '${c.code}'`, () => {
    const r = encodeMessage(c.msg);
    assert.ok(r instanceof WireError, `expected '${c.code}'`);
    assert.equal(r.code, c.code, r.message);
  });
}

test('encodeMessage accepts field values at the edges of their ranges', () => {
  const r = encodeMessage({ ...OFFER, monitorId: 255, flags: 0xffff, channelId: 0xffff_ffff });
  assert.ok(r instanceof Uint8Array);
  assert.deepEqual([...r.subarray(184, 190)], [0xff, 0xff, 0xff, 0xff, 0xff, 0]); // channel_id @184, monitor_id @188 (§6.6)
  const full = encodeMessage({ ...HEADER, range: new Array<bigint>(27).fill(0xffff_ffff_ffff_ffffn) });
  assert.ok(full instanceof Uint8Array);
  assert.equal(full.length, 236);
});

test('encodeMessage ignores properties that are not fields of the kind and writes padding as zero', () => {
  const r = encodeMessage({ kind: 'VersionResponse', versionSupported: 1, connectionState: 0, selectedVersionOrConnectionId: 4, padding: 0xffff } as ChannelMessage);
  // VersionResponse: padding u16 @10 (protocol.rs:350); header padding u32 @4.
  assert.deepEqual(r, Uint8Array.from([15, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0]));
});
