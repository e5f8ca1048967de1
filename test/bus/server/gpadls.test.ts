import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryError, type GpadlMapping } from '../../../src/memory/index.js';
import { hex } from '../../wire/messages/hex.js';
import { gpadlCreatedBytes, gpadlTorndownBytes } from './layouts.js';
import {
  PAGE,
  PAGES,
  STATUS_SUCCESS,
  STATUS_UNSUCCESSFUL,
  V,
  connectWithOffers,
  createGpadl,
  did,
  gpadlMessages,
  rangeValues,
  sent,
  setup,
  traced,
  type Env,
} from './harness.js';

const IF_A = '0000000a-0000-0000-0000-000000000000';
const INST_1 = '00000001-0000-0000-0000-000000000000';
const INST_2 = '00000002-0000-0000-0000-000000000000';
// Linux's first GPADL handle (linux-vmbus.md §A.3.3).
const GPADL = 0xe1e10;

/** Two offers (channel ids 1 and 2), connected at Win10 with offers sent. */
function twoChannels(): { env: Env; offers: number[] } {
  const env = setup();
  const offers = [INST_1, INST_2].map((instanceId) => env.server.offerChannel({ interfaceId: IF_A, instanceId }) as number);
  connectWithOffers(env, V.Win10);
  return { env, offers };
}

test('a GPADL_HEADER holding the whole range buffer creates the GPADL at once (golden bytes)', () => {
  const { env, offers } = twoChannels();
  env.send(
    hex(`
      08000000 00000000  # @0 type 8 GPADL_HEADER (openvmm-vmbus.md §6.5)
      01000000           # @8 channel_id 1
      101e0e00           # @12 gpadl_id 0xe1e10
      1800               # @16 range_buflen 24: one range header + 2 PFNs
      0100               # @18 rangecount 1
      00200000 00000000  # @20 range: byte_count 0x2000, byte_offset 0 (gparange.rs:13-18)
      0500000000000000   # PFN 5
      0600000000000000   # PFN 6
    `),
  );
  assert.deepEqual(env.notifier.take(), [
    sent(
      hex(`
        0a000000 00000000  # @0 type 10 GPADL_CREATED
        01000000           # @8 channel_id 1
        101e0e00           # @12 gpadl_id
        00000000           # @16 status STATUS_SUCCESS
      `),
    ),
    did({ type: 'gpadl-created', offerId: offers[0]!, channelId: 1, gpadlId: GPADL }),
  ]);
  assert.deepEqual(env.server.snapshot().table, { gpadls: 1, mappings: 0, mappedPages: 0 });
  assert.deepEqual(env.trace.events, []);
});

test('a GPADL_HEADER with GPADL_BODY messages is created after the last body (26 values in the header, 28 per body)', () => {
  const { env } = twoChannels();
  const pfns = Array.from({ length: 60 }, (_, i) => i); // 61 values: 26 in the header, 28 + 7 in two bodies
  const messages = gpadlMessages(1, GPADL, rangeValues(0, pfns.length * PAGE, pfns));
  assert.equal(messages.length, 3);
  env.send(messages[0]!);
  env.send(messages[1]!);
  assert.deepEqual(env.notifier.take(), []);
  env.send(messages[2]!);
  assert.deepEqual(env.notifier.takeMessages(), [gpadlCreatedBytes(1, GPADL, STATUS_SUCCESS)]);
  const mapping = env.server.mapGpadl(GPADL, { writable: true }) as GpadlMapping;
  assert.equal(mapping.pageCount, 60);
});

test('a multi-range GPADL with partial pages is created and spans exactly its bytes', () => {
  const { env } = twoChannels();
  const values = [...rangeValues(0x10, 0x100, [3]), ...rangeValues(0xff0, 0x20, [8, 9])];
  for (const m of gpadlMessages(2, GPADL, values, 2)) env.send(m);
  assert.deepEqual(env.notifier.takeMessages(), [gpadlCreatedBytes(2, GPADL, STATUS_SUCCESS)]);
  const mapping = env.server.mapGpadl(GPADL, { writable: false, channelId: 2 }) as GpadlMapping;
  assert.equal(mapping.byteLength, 0x120);
});

test('values beyond range_buflen are ignored, as UEFI pads its messages (channels.rs:1230-1241)', () => {
  const { env } = twoChannels();
  env.send({ kind: 'GpadlHeader', channelId: 1, gpadlId: GPADL, len: 16, count: 1, range: [...rangeValues(0, PAGE, [4]), 0xdeadn, 0xbeefn] });
  assert.deepEqual(env.notifier.takeMessages(), [gpadlCreatedBytes(1, GPADL, STATUS_SUCCESS)]);
  // The GPADL is complete: a further body has nothing to add to and is dropped.
  env.send({ kind: 'GpadlBody', gpadlId: GPADL, range: [1n] });
  assert.deepEqual(env.notifier.take(), []);
  assert.deepEqual(traced(env), [['message-dropped', `no GPADL ${GPADL} is in progress`]]);
});

// Each is answered GPADL_CREATED(STATUS_UNSUCCESSFUL), channel id as sent (channels.rs:2850-2867, 2909-2925).
const BAD_HEADERS: [string, (env: Env) => void, RegExp][] = [
  ['an unknown channel id', (env) => env.send({ kind: 'GpadlHeader', channelId: 100, gpadlId: GPADL, len: 16, count: 1, range: rangeValues(0, PAGE, [1]) }), /no channel has id 100/],
  ['a PFN outside guest memory', (env) => env.send({ kind: 'GpadlHeader', channelId: 1, gpadlId: GPADL, len: 16, count: 1, range: rangeValues(0, PAGE, [PAGES]) }), /outside guest memory/],
  ['a byte offset beyond the first page (#1842)', (env) => env.send({ kind: 'GpadlHeader', channelId: 1, gpadlId: GPADL, len: 16, count: 1, range: rangeValues(0x1000, 1, [1]) }), /beyond the first page/],
  ['a zero byte count', (env) => env.send({ kind: 'GpadlHeader', channelId: 1, gpadlId: GPADL, len: 16, count: 1, range: rangeValues(0, 0, [1]) }), /zero byte count/],
  ['too few PFNs for the byte count', (env) => env.send({ kind: 'GpadlHeader', channelId: 1, gpadlId: GPADL, len: 16, count: 1, range: rangeValues(0, 2 * PAGE, [1]) }), /needs 2 page numbers/],
  ['no ranges at all', (env) => env.send({ kind: 'GpadlHeader', channelId: 1, gpadlId: GPADL, len: 0, count: 0, range: [] }), /no GPA ranges/],
  ['more ranges than the buffer holds', (env) => env.send({ kind: 'GpadlHeader', channelId: 1, gpadlId: GPADL, len: 16, count: 2, range: rangeValues(0, PAGE, [1]) }), /does not fit/],
  [
    'an id already created',
    (env) => {
      createGpadl(env, 1, GPADL, [1]);
      env.send({ kind: 'GpadlHeader', channelId: 2, gpadlId: GPADL, len: 16, count: 1, range: rangeValues(0, PAGE, [2]) });
    },
    /in use/,
  ],
];

for (const [label, act, reason] of BAD_HEADERS) {
  test(`GPADL_HEADER with ${label} is answered GPADL_CREATED(STATUS_UNSUCCESSFUL) and traced`, () => {
    const { env } = twoChannels();
    act(env);
    const messages = env.notifier.takeMessages();
    assert.equal(messages.length, 1);
    const view = new DataView(messages[0]!.buffer);
    assert.equal(view.getUint32(0, true), 10); // GPADL_CREATED
    assert.equal(view.getUint32(12, true), GPADL);
    assert.equal(view.getUint32(16, true), STATUS_UNSUCCESSFUL);
    const events = env.trace.ofKind('message-rejected');
    assert.equal(events.length, 1);
    assert.match(events[0]!.reason!, reason);
    assert.deepEqual(env.server.checkInvariants(), []);
  });
}

test('an invalid range found only at the last body fails the whole GPADL; its id is free again', () => {
  const { env } = twoChannels();
  const values = [...rangeValues(0, PAGE, [1]), ...rangeValues(0x1000, 1, [2])]; // second range bad
  env.send({ kind: 'GpadlHeader', channelId: 1, gpadlId: GPADL, len: 32, count: 2, range: values.slice(0, 2) });
  assert.deepEqual(env.notifier.take(), []);
  env.send({ kind: 'GpadlBody', gpadlId: GPADL, range: values.slice(2) });
  assert.deepEqual(env.notifier.takeMessages(), [gpadlCreatedBytes(1, GPADL, STATUS_UNSUCCESSFUL)]);
  createGpadl(env, 1, GPADL, [1]);
});

test('in-progress GPADL ids are unique across channels: GPADL_BODY names no channel (channels.rs:2826-2845)', () => {
  const { env } = twoChannels();
  const values = rangeValues(0, 2 * PAGE, [1, 2]);
  env.send({ kind: 'GpadlHeader', channelId: 1, gpadlId: GPADL, len: 24, count: 1, range: values.slice(0, 1) });
  env.send({ kind: 'GpadlHeader', channelId: 2, gpadlId: GPADL, len: 24, count: 1, range: values.slice(0, 1) });
  assert.deepEqual(env.notifier.takeMessages(), [gpadlCreatedBytes(2, GPADL, STATUS_UNSUCCESSFUL)]);
  env.send({ kind: 'GpadlBody', gpadlId: GPADL, range: values.slice(1) });
  assert.deepEqual(env.notifier.takeMessages(), [gpadlCreatedBytes(1, GPADL, STATUS_SUCCESS)]);
});

test('GPADL_BODY for an id with no GPADL in progress cannot be answered: dropped and traced', () => {
  const { env } = twoChannels();
  env.send({ kind: 'GpadlBody', gpadlId: 77, range: [1n] });
  assert.deepEqual(env.notifier.take(), []);
  assert.deepEqual(traced(env), [['message-dropped', 'no GPADL 77 is in progress']]);
});

test('GPADL_TEARDOWN of an unmapped GPADL is answered GPADL_TORNDOWN at once (golden bytes)', () => {
  const { env } = twoChannels();
  createGpadl(env, 1, GPADL, [1]);
  env.send({ kind: 'GpadlTeardown', channelId: 1, gpadlId: GPADL });
  assert.deepEqual(env.notifier.take(), [
    sent(
      hex(`
        0c000000 00000000  # @0 type 12 GPADL_TORNDOWN (openvmm-vmbus.md §6.5)
        101e0e00           # @8 gpadl_id
      `),
    ),
  ]);
  assert.deepEqual(env.server.snapshot().table, { gpadls: 0, mappings: 0, mappedPages: 0 });
  createGpadl(env, 1, GPADL, [1]); // the id is free again
});

test('GPADL_TEARDOWN of a mapped GPADL waits for the last unmap; no new mapping meanwhile', () => {
  const { env, offers } = twoChannels();
  createGpadl(env, 1, GPADL, [1, 2]);
  const first = env.server.mapGpadl(GPADL, { writable: true, channelId: 1 }) as GpadlMapping;
  const second = env.server.mapGpadl(GPADL, { writable: false }) as GpadlMapping;
  env.send({ kind: 'GpadlTeardown', channelId: 1, gpadlId: GPADL });
  assert.deepEqual(env.notifier.take(), [did({ type: 'gpadl-teardown', offerId: offers[0]!, channelId: 1, gpadlId: GPADL })]);
  const refused = env.server.mapGpadl(GPADL, { writable: false });
  assert.ok(refused instanceof MemoryError && refused.code === 'teardown-pending');
  assert.deepEqual(env.server.unmapGpadl(first), { gpadlId: GPADL, tornDown: false });
  assert.deepEqual(env.notifier.take(), []);
  assert.deepEqual(env.server.unmapGpadl(second), { gpadlId: GPADL, tornDown: true });
  assert.deepEqual(env.notifier.takeMessages(), [gpadlTorndownBytes(GPADL)]);
  const again = env.server.unmapGpadl(second);
  assert.ok(again instanceof MemoryError && again.code === 'unmapped');
  assert.deepEqual(env.server.snapshot().table, { gpadls: 0, mappings: 0, mappedPages: 0 });
});

test('a notifier may unmap from inside the teardown action; GPADL_TORNDOWN follows the action', () => {
  const { env, offers } = twoChannels();
  createGpadl(env, 1, GPADL, [1]);
  const mapping = env.server.mapGpadl(GPADL, { writable: true }) as GpadlMapping;
  env.notifier.onAction = (action) => {
    if (action.type === 'gpadl-teardown') env.server.unmapGpadl(mapping);
  };
  env.send({ kind: 'GpadlTeardown', channelId: 1, gpadlId: GPADL });
  assert.deepEqual(env.notifier.take(), [
    did({ type: 'gpadl-teardown', offerId: offers[0]!, channelId: 1, gpadlId: GPADL }),
    sent(gpadlTorndownBytes(GPADL)),
  ]);
  assert.deepEqual(env.server.checkInvariants(), []);
});

// None can be answered (GPADL_TORNDOWN has no failure form): dropped (channels.rs:2932-2996).
const BAD_TEARDOWNS: [string, (env: Env) => void, string][] = [
  ['an unknown channel', (env) => env.send({ kind: 'GpadlTeardown', channelId: 9, gpadlId: GPADL }), 'no channel has id 9'],
  ['an unknown GPADL', (env) => env.send({ kind: 'GpadlTeardown', channelId: 1, gpadlId: 5 }), 'channel 1 has no GPADL 5'],
  ['another channel', (env) => env.send({ kind: 'GpadlTeardown', channelId: 2, gpadlId: GPADL }), `channel 2 has no GPADL ${GPADL}`],
  [
    'a GPADL in progress',
    (env) => {
      env.send({ kind: 'GpadlHeader', channelId: 1, gpadlId: 6, len: 24, count: 1, range: [] });
      env.send({ kind: 'GpadlTeardown', channelId: 1, gpadlId: 6 });
    },
    'GPADL 6 is in-progress, not created',
  ],
  [
    'a GPADL already being torn down',
    (env) => {
      env.server.mapGpadl(GPADL, { writable: false });
      env.send({ kind: 'GpadlTeardown', channelId: 1, gpadlId: GPADL });
      env.send({ kind: 'GpadlTeardown', channelId: 1, gpadlId: GPADL });
    },
    `GPADL ${GPADL} is tearing-down, not created`,
  ],
];

for (const [label, act, reason] of BAD_TEARDOWNS) {
  test(`GPADL_TEARDOWN of ${label} is dropped and traced`, () => {
    const { env } = twoChannels();
    createGpadl(env, 1, GPADL, [1]);
    act(env);
    assert.deepEqual(env.notifier.takeMessages(), []);
    assert.deepEqual(env.trace.ofKind('message-dropped').map((e) => e.reason), [reason]);
    assert.deepEqual(env.server.checkInvariants(), []);
  });
}
