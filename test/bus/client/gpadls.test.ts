import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientRequestError, FIRST_GPADL_ID } from '../../../src/bus/client/index.js';
import type { ClientRequestErrorCode } from '../../../src/bus/client/index.js';
import type { GpaRange } from '../../../src/memory/index.js';
import {
  COPPER,
  HOST_CONNECTION_ID,
  assertSound,
  channelWithRing,
  connectedRig,
  drops,
  fromHost,
  gpadlCreated,
  gpadlTorndown,
  newRig,
  offer,
  openResult,
  pagesRange,
  rescind,
  sentOn,
  u16,
  u32,
  u64,
} from './harness.js';
import type { Rig } from './harness.js';

// The first guest GPADL id, as Linux allocates them (linux-vmbus.md §A.3.3, connection.c:33).
const ID = FIRST_GPADL_ID;
assert.equal(ID, 0xe1e10);
// NTSTATUS VMBUS_STATUS_UNSUCCESSFUL: the host's GPADL failure status (protocol.rs:31-33).
const HOST_FAILURE = 0x8000_ffff;

/** Page numbers first, first+1, ... as u64 hex. */
const pfns = (first: number, count: number): string => Array.from({ length: count }, (_, i) => u64(first + i)).join(' ');
/** A range's first u64: byte_count u32 then byte_offset u32 (openvmm-vmbus.md §6.3, gparange.rs:13-18). */
const rangeWord = (byteCount: number, byteOffset = 0): string => `${u32(byteCount)} ${u32(byteOffset)}`;
/** GPADL_HEADER (8): channel_id @8, gpadl_id @12, range_buflen u16 @16, rangecount u16 @18, data @20 (openvmm-vmbus.md §6.5). */
const header = (channelId: number, gpadlId: number, len: number, count: number, data: string): string =>
  `08000000 00000000 ${u32(channelId)} ${u32(gpadlId)} ${u16(len)} ${u16(count)} ${data}`;
/** GPADL_BODY (9): msgnumber/rsvd u32 @8 (0), gpadl_id @12, data @16 (openvmm-vmbus.md §6.5). */
const body = (gpadlId: number, data: string): string => `09000000 00000000 00000000 ${u32(gpadlId)} ${data}`;

function rigWithChannel(): Rig {
  const rig = connectedRig(COPPER);
  fromHost(rig, offer({ channelId: 1 }));
  rig.notifier.take();
  return rig;
}

// One range of n pages is 1 + n u64 values: the header holds 27, each body 28 (openvmm-vmbus.md §6.5).
const SPLITS: readonly { readonly pages: number; readonly messages: (id: number) => string[] }[] = [
  { pages: 1, messages: (id) => [header(1, id, 16, 1, `${rangeWord(0x1000)} ${pfns(0x100, 1)}`)] },
  { pages: 26, messages: (id) => [header(1, id, 27 * 8, 1, `${rangeWord(26 * 0x1000)} ${pfns(0x100, 26)}`)] },
  {
    pages: 27,
    messages: (id) => [header(1, id, 28 * 8, 1, `${rangeWord(27 * 0x1000)} ${pfns(0x100, 26)}`), body(id, pfns(0x100 + 26, 1))],
  },
  {
    pages: 54,
    messages: (id) => [header(1, id, 55 * 8, 1, `${rangeWord(54 * 0x1000)} ${pfns(0x100, 26)}`), body(id, pfns(0x100 + 26, 28))],
  },
  {
    pages: 100,
    messages: (id) => [
      header(1, id, 101 * 8, 1, `${rangeWord(100 * 0x1000)} ${pfns(0x100, 26)}`),
      body(id, pfns(0x100 + 26, 28)),
      body(id, pfns(0x100 + 54, 28)),
      body(id, pfns(0x100 + 82, 18)),
    ],
  },
];

for (const split of SPLITS) {
  test(`a GPADL of ${split.pages} pages is split into ${split.messages(ID).length} messages exactly at the limits`, () => {
    const rig = rigWithChannel();
    assert.equal(rig.client.createGpadl(1, [pagesRange(0x100, split.pages)]), ID);
    const { sent } = rig.notifier.take();
    assert.deepEqual(sent, split.messages(ID).map((text) => sentOn(HOST_CONNECTION_ID, text)));
    // No message exceeds the 240-byte SynIC payload (openvmm-vmbus.md §6.1).
    for (const s of sent) assert.ok(s.hex.length / 2 <= 240);
    assert.deepEqual(rig.client.gpadl(ID), { gpadlId: ID, channelId: 1, state: 'creating' });
    assertSound(rig);
  });
}

test('several ranges, each with its own word and page offset, fill the header and spill into a body', () => {
  const rig = rigWithChannel();
  const ranges: GpaRange[] = [
    // 0x10 bytes into its first page, 0x1ff0 bytes: two pages.
    { byteOffset: 0x10, byteCount: 0x1ff0, pfns: [0x200, 0x305] },
    pagesRange(0x400, 22),
    // 100 bytes of one page: its word is the 27th value, its page the 28th, the first of the body.
    { byteOffset: 0, byteCount: 100, pfns: [0x500] },
  ];
  rig.client.createGpadl(1, ranges);
  assert.deepEqual(rig.notifier.take().sent, [
    sentOn(HOST_CONNECTION_ID, header(1, ID, 28 * 8, 3, `
      ${rangeWord(0x1ff0, 0x10)} ${u64(0x200)} ${u64(0x305)}
      ${rangeWord(22 * 0x1000)} ${pfns(0x400, 22)}
      ${rangeWord(100)}
    `)),
    sentOn(HOST_CONNECTION_ID, body(ID, u64(0x500))),
  ]);
  assert.equal(rig.client.gpadl(ID)?.state, 'creating');
});

test('GPADL_CREATED with status 0 makes the GPADL live; teardown and GPADL_TORNDOWN end it', () => {
  const rig = rigWithChannel();
  const id = rig.client.createGpadl(1, [pagesRange(0x100, 2)]) as number;
  rig.notifier.take();
  fromHost(rig, gpadlCreated(1, id, 0));
  assert.deepEqual(rig.notifier.take().events, [{ kind: 'gpadl-created', channelId: 1, gpadlId: id, status: 0, cause: 'host' }]);
  assert.equal(rig.client.gpadl(id)?.state, 'created');
  assert.equal(rig.client.teardownGpadl(1, id), undefined);
  // GPADL_TEARDOWN (11): channel_id @8, gpadl_id @12, 16 bytes (openvmm-vmbus.md §6.5).
  assert.deepEqual(rig.notifier.take().sent, [sentOn(HOST_CONNECTION_ID, `0b000000 00000000 01000000 ${u32(id)}`)]);
  assert.equal(rig.client.gpadl(id)?.state, 'tearing-down');
  fromHost(rig, gpadlTorndown(id));
  assert.deepEqual(rig.notifier.take().events, [{ kind: 'gpadl-torndown', channelId: 1, gpadlId: id, cause: 'host' }]);
  assert.equal(rig.client.gpadl(id), undefined);
  assert.equal(rig.client.counts().gpadls, 0);
  assertSound(rig);
});

test('a failed GPADL_CREATED ends the GPADL and its id is not handed out again', () => {
  const rig = rigWithChannel();
  const first = rig.client.createGpadl(1, [pagesRange(0x100, 1)]) as number;
  fromHost(rig, gpadlCreated(1, first, HOST_FAILURE));
  assert.deepEqual(rig.notifier.take().events, [
    { kind: 'gpadl-created', channelId: 1, gpadlId: first, status: HOST_FAILURE, cause: 'host' },
  ]);
  assert.equal(rig.client.gpadl(first), undefined);
  const second = rig.client.createGpadl(1, [pagesRange(0x100, 1)]);
  const third = rig.client.createGpadl(1, [pagesRange(0x100, 1)]);
  assert.deepEqual([second, third], [first + 1, first + 2]);
});

test('answers nobody asked for are dropped and change nothing', () => {
  const rig = rigWithChannel();
  fromHost(rig, offer({ channelId: 2, instanceWire: 'e7f4a0a9 455a 964d b8278a841e8c03e6' }));
  const id = rig.client.createGpadl(1, [pagesRange(0x100, 1)]) as number;
  rig.notifier.take();
  fromHost(rig, gpadlCreated(1, id + 1, 0));
  fromHost(rig, gpadlCreated(2, id, 0));
  fromHost(rig, gpadlTorndown(id));
  fromHost(rig, gpadlTorndown(id + 7));
  // GPADL_CREATED is 20 bytes (openvmm-vmbus.md §6.5): 19 is truncated.
  fromHost(rig, gpadlCreated(1, id, 0).slice(0, -2));
  fromHost(rig, gpadlCreated(1, id, 0));
  fromHost(rig, gpadlCreated(1, id, 0));
  assert.deepEqual(drops(rig).map((d) => d.reason), [
    `GPADL_CREATED for unknown GPADL ${id + 1}`,
    `GPADL_CREATED names channel 2 for GPADL ${id} of channel 1`,
    `GPADL_TORNDOWN for GPADL ${id}, which is creating`,
    `GPADL_TORNDOWN for unknown GPADL ${id + 7}`,
    'GpadlCreated needs 20 bytes, got 19',
    `GPADL_CREATED for GPADL ${id}, which is created`,
  ]);
  assert.deepEqual(drops(rig)[4]?.detail, { messageType: 10, code: 'truncated' });
  assert.equal(rig.notifier.take().events.length, 1);
  assertSound(rig);
});

test('teardown is refused for a GPADL not live, on another channel, or holding an open ring', () => {
  const rig = connectedRig(COPPER);
  const ring = channelWithRing(rig, 1);
  const code = (r: ClientRequestError | undefined): string | undefined => r?.code;
  const creating = rig.client.createGpadl(1, [pagesRange(0x900, 1)]) as number;
  assert.equal(code(rig.client.teardownGpadl(1, creating)), 'gpadl-state');
  assert.equal(code(rig.client.teardownGpadl(2, ring)), 'unknown-channel');
  fromHost(rig, offer({ channelId: 2, instanceWire: 'e7f4a0a9 455a 964d b8278a841e8c03e6' }));
  assert.equal(code(rig.client.teardownGpadl(2, ring)), 'unknown-gpadl');
  rig.client.openChannel(1, { ringGpadlId: ring, downstreamRingPageOffset: 2, targetVp: 0 });
  assert.equal(code(rig.client.teardownGpadl(1, ring)), 'gpadl-state');
  fromHost(rig, openResult(1, 1, 0));
  assert.equal(code(rig.client.teardownGpadl(1, ring)), 'gpadl-state');
  rig.client.closeChannel(1);
  assert.equal(rig.client.teardownGpadl(1, ring), undefined);
  assert.equal(code(rig.client.teardownGpadl(1, ring)), 'gpadl-state');
  assertSound(rig);
});

test('GPADLs of a rescinded channel are still torn down through the host; no new ones are made', () => {
  const rig = rigWithChannel();
  const id = rig.client.createGpadl(1, [pagesRange(0x100, 1)]) as number;
  fromHost(rig, gpadlCreated(1, id, 0));
  fromHost(rig, rescind(1));
  rig.notifier.take();
  const refused = rig.client.createGpadl(1, [pagesRange(0x100, 1)]);
  assert.ok(refused instanceof ClientRequestError);
  assert.equal(refused.code, 'channel-rescinded');
  assert.equal(rig.client.teardownGpadl(1, id), undefined);
  fromHost(rig, gpadlTorndown(id));
  assert.deepEqual(rig.notifier.take().events, [{ kind: 'gpadl-torndown', channelId: 1, gpadlId: id, cause: 'host' }]);
});

test('a range buffer of 8191 u64 values is the largest a u16 length describes', () => {
  const rig = rigWithChannel();
  // range_buflen is a u16 byte count (openvmm-vmbus.md §6.5): 8191 * 8 = 65528.
  assert.equal(typeof rig.client.createGpadl(1, [pagesRange(0, 8190)]), 'number');
  const sent = rig.notifier.take().sent;
  assert.equal(sent[0]?.hex.slice(32, 40), `${u16(65528)}${u16(1)}`);
  const refused = rig.client.createGpadl(1, [pagesRange(0, 8191)]);
  assert.ok(refused instanceof ClientRequestError);
  assert.equal(refused.code, 'bad-argument');
});

const BAD_RANGES: readonly { readonly name: string; readonly ranges: unknown; readonly code: ClientRequestErrorCode }[] = [
  { name: 'no ranges', ranges: [], code: 'bad-argument' },
  { name: 'ranges that are not an array', ranges: pagesRange(0, 1), code: 'bad-argument' },
  { name: 'a null range', ranges: [null], code: 'bad-argument' },
  // GPA range rules (gparange.rs:218-244): byte_count ≠ 0, byte_offset ≤ 0xfff, exactly the pages spanned.
  { name: 'a zero byte count', ranges: [{ byteOffset: 0, byteCount: 0, pfns: [] }], code: 'bad-argument' },
  { name: 'a byte offset of 4096', ranges: [{ byteOffset: 4096, byteCount: 1, pfns: [1, 2] }], code: 'bad-argument' },
  { name: 'too few pages', ranges: [{ byteOffset: 1, byteCount: 4096, pfns: [1] }], code: 'bad-argument' },
  { name: 'too many pages', ranges: [{ byteOffset: 0, byteCount: 4096, pfns: [1, 2] }], code: 'bad-argument' },
  { name: 'a negative page number', ranges: [{ byteOffset: 0, byteCount: 1, pfns: [-1] }], code: 'bad-argument' },
  { name: 'a fractional page number', ranges: [{ byteOffset: 0, byteCount: 1, pfns: [1.5] }], code: 'bad-argument' },
  { name: 'an unsafe page number', ranges: [{ byteOffset: 0, byteCount: 1, pfns: [2 ** 53] }], code: 'bad-argument' },
  { name: 'a byte count of 2^32', ranges: [{ byteOffset: 0, byteCount: 2 ** 32, pfns: [] }], code: 'bad-argument' },
];

for (const c of BAD_RANGES) {
  test(`createGpadl refuses ${c.name} and sends nothing`, () => {
    const rig = rigWithChannel();
    const result = rig.client.createGpadl(1, c.ranges as GpaRange[]);
    assert.ok(result instanceof ClientRequestError);
    assert.equal(result.code, c.code, result.message);
    assert.deepEqual(rig.notifier.take(), { sent: [], events: [] });
    assert.equal(rig.client.counts().gpadls, 0);
  });
}

test('createGpadl needs a connection and a known channel', () => {
  const idle = newRig();
  assert.equal((idle.client.createGpadl(1, [pagesRange(0, 1)]) as ClientRequestError).code, 'invalid-state');
  const rig = connectedRig(COPPER);
  assert.equal((rig.client.createGpadl(1, [pagesRange(0, 1)]) as ClientRequestError).code, 'unknown-channel');
});
