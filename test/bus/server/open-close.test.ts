import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerRequestError, type OpenChannelAction } from '../../../src/bus/server/index.js';
import type { GpadlMapping } from '../../../src/memory/index.js';
import { hex, zeros } from '../../wire/messages/hex.js';
import { gpadlTorndownBytes, modifyChannelResponseBytes, openResultBytes } from './layouts.js';
import {
  PAGE,
  STATUS_SUCCESS,
  STATUS_UNSUCCESSFUL,
  V,
  connect,
  contact,
  createGpadl,
  did,
  gpadlMessages,
  openMessage,
  rangeValues,
  sent,
  setup,
  traced,
  type Env,
} from './harness.js';

const IF_A = '0000000a-0000-0000-0000-000000000000';
const INST_1 = '00000001-0000-0000-0000-000000000000';
const INST_2 = '00000002-0000-0000-0000-000000000000';
const RING = 0x100;
// OpenChannel2 flags bit 0 redirect_interrupt (protocol.rs:734-743); Copper features (protocol.rs:154-199).
const GUEST_SIGNAL = 0x1;
const REDIRECT = 0x2;
// target_vp that disables interrupts (protocol.rs:715-716).
const NO_INTERRUPTS = 0xffff_ffff;

/** Two offers on channel ids 1 and 2 at `version`, with a 4-page ring GPADL on channel 1 (PFNs 10-13). */
function ready(version: number = V.Win10, features = 0, monitored = false): { env: Env; offers: number[] } {
  const env = setup();
  const offers = [INST_1, INST_2].map((instanceId) => env.server.offerChannel({ interfaceId: IF_A, instanceId, monitored }) as number);
  connect(env, version, features);
  env.send({ kind: 'RequestOffers' });
  env.notifier.take();
  createGpadl(env, 1, RING, [10, 11, 12, 13]);
  return { env, offers };
}

function openAction(offerId: number, more: Partial<OpenChannelAction> = {}): OpenChannelAction {
  return {
    type: 'open',
    offerId,
    channelId: 1,
    openId: 1,
    ringGpadlId: RING,
    downstreamRingPageOffset: 2,
    targetVp: 0,
    eventFlag: 1, // the channel id by default (channels.rs:1277-1281)
    connectionId: 0x2001, // the offer's connection id by default
    redirectInterrupt: false,
    monitorId: null,
    userData: new Uint8Array(120),
    version: V.Win10,
    features: 0,
    ...more,
  };
}

test('OPEN_CHANNEL with a good ring becomes an open action; openComplete(0) answers OPEN_RESULT (golden bytes)', () => {
  const { env, offers } = ready();
  env.send(
    hex(`
      05000000 00000000  # @0 type 5 OPEN_CHANNEL (openvmm-vmbus.md §6.7)
      01000000           # @8 channel_id 1
      2a000000           # @12 open_id 42
      00010000           # @16 ring_buffer_gpadl_id 0x100
      03000000           # @20 target_vp 3
      01000000           # @24 downstream_ring_buffer_page_offset 1
      deadbeef ${zeros(116)}  # @28 user_data [120]
    `),
  );
  const userData = new Uint8Array(120);
  userData.set([0xde, 0xad, 0xbe, 0xef]);
  assert.deepEqual(env.notifier.take(), [did(openAction(offers[0]!, { openId: 42, targetVp: 3, downstreamRingPageOffset: 1, userData }))]);
  assert.equal(env.server.offerStatus(offers[0]!)?.state, 'opening');
  assert.equal(env.server.openComplete(offers[0]!, STATUS_SUCCESS), undefined);
  assert.deepEqual(env.notifier.take(), [
    sent(
      hex(`
        06000000 00000000  # @0 type 6 OPEN_CHANNEL_RESULT
        01000000           # @8 channel_id
        2a000000           # @12 open_id, echoed
        00000000           # @16 status
      `),
    ),
  ]);
  assert.equal(env.server.offerStatus(offers[0]!)?.state, 'open');
});

test('a device that refuses the open: OPEN_RESULT carries its status and the channel can be opened again', () => {
  const { env, offers } = ready();
  env.send(openMessage(1, { gpadlId: RING }));
  env.notifier.take();
  env.server.openComplete(offers[0]!, STATUS_UNSUCCESSFUL);
  assert.deepEqual(env.notifier.takeMessages(), [openResultBytes(1, 1, STATUS_UNSUCCESSFUL)]);
  assert.equal(env.server.offerStatus(offers[0]!)?.state, 'closed');
  env.send(openMessage(1, { gpadlId: RING, openId: 7 }));
  assert.equal(env.notifier.takeActions()[0]!.type, 'open');
});

// The ring GPADL rules of gpadl_ring.rs:38-73; answered OPEN_RESULT(STATUS_UNSUCCESSFUL).
const BAD_RINGS: [string, (env: Env) => { gpadlId: number; split: number }, RegExp][] = [
  ['an unknown GPADL', () => ({ gpadlId: 0x999, split: 2 }), /not a GPADL of this channel/],
  ['a GPADL of another channel', (env) => (createGpadl(env, 2, 0x200, [20, 21]), { gpadlId: 0x200, split: 1 }), /not a GPADL of this channel/],
  ['a split at page 0', () => ({ gpadlId: RING, split: 0 }), /leaves a ring without pages/],
  ['a split at the last page boundary', () => ({ gpadlId: RING, split: 4 }), /leaves a ring without pages/],
  ['a split beyond the GPADL', () => ({ gpadlId: RING, split: 9 }), /leaves a ring without pages/],
  [
    'two ranges',
    (env) => {
      for (const m of gpadlMessages(1, 0x300, [...rangeValues(0, PAGE, [20]), ...rangeValues(0, PAGE, [21])], 2)) env.send(m);
      env.notifier.take();
      return { gpadlId: 0x300, split: 1 };
    },
    /has 2 ranges/,
  ],
  [
    'a range not at offset 0',
    (env) => {
      for (const m of gpadlMessages(1, 0x300, rangeValues(0x10, 2 * PAGE, [20, 21, 22]))) env.send(m);
      env.notifier.take();
      return { gpadlId: 0x300, split: 1 };
    },
    /not whole pages/,
  ],
  [
    'a length that is not whole pages',
    (env) => {
      for (const m of gpadlMessages(1, 0x300, rangeValues(0, 2 * PAGE - 8, [20, 21]))) env.send(m);
      env.notifier.take();
      return { gpadlId: 0x300, split: 1 };
    },
    /not whole pages/,
  ],
  [
    'a GPADL being torn down',
    (env) => {
      env.server.mapGpadl(RING, { writable: true });
      env.send({ kind: 'GpadlTeardown', channelId: 1, gpadlId: RING });
      env.notifier.take();
      return { gpadlId: RING, split: 2 };
    },
    /is tearing-down/,
  ],
];

for (const [label, arrange, reason] of BAD_RINGS) {
  test(`OPEN_CHANNEL with ${label} is answered OPEN_RESULT(STATUS_UNSUCCESSFUL) without telling the device`, () => {
    const { env, offers } = ready();
    const { gpadlId, split } = arrange(env);
    env.send(openMessage(1, { gpadlId, split, openId: 5 }));
    assert.deepEqual(env.notifier.take(), [sent(openResultBytes(1, 5, STATUS_UNSUCCESSFUL))]);
    assert.match(env.trace.ofKind('message-rejected')[0]!.reason!, reason);
    assert.equal(env.server.offerStatus(offers[0]!)?.state, 'closed');
  });
}

test('OPEN_CHANNEL that cannot be answered is dropped: unknown channel, already opening, already open', () => {
  const { env, offers } = ready();
  env.send(openMessage(7, { gpadlId: RING }));
  env.send(openMessage(1, { gpadlId: RING }));
  env.notifier.take();
  env.send(openMessage(1, { gpadlId: RING }));
  env.server.openComplete(offers[0]!, STATUS_SUCCESS);
  env.notifier.take();
  env.send(openMessage(1, { gpadlId: RING }));
  assert.deepEqual(env.notifier.take(), []);
  assert.deepEqual(traced(env), [
    ['message-dropped', 'no channel has id 7'],
    ['message-dropped', 'channel 1 is already open'],
    ['message-dropped', 'channel 1 is already open'],
  ]);
});

test('target_vp 0xFFFFFFFF opens with interrupts disabled and no monitor id', () => {
  const env = setup();
  const offer = env.server.offerChannel({ interfaceId: IF_A, instanceId: INST_1, monitored: true }) as number;
  env.send(contact(V.Win10, { parentToChild: 0x1000n, childToParent: 0x2000n }));
  env.send({ kind: 'RequestOffers' });
  env.notifier.take();
  createGpadl(env, 1, RING, [10, 11, 12, 13]);
  env.send(openMessage(1, { gpadlId: RING, targetVp: NO_INTERRUPTS }));
  assert.deepEqual(env.notifier.takeActions(), [openAction(offer, { targetVp: null, monitorId: null })]);
  env.server.openComplete(offer, STATUS_SUCCESS);
  env.send({ kind: 'CloseChannel', channelId: 1 });
  env.send(openMessage(1, { gpadlId: RING, targetVp: 2 }));
  assert.deepEqual(env.notifier.takeActions().at(-1), openAction(offer, { targetVp: 2, monitorId: 0 }));
});

test('OpenChannel2: connection id and event flag only with guest_specified_signal_parameters, redirect only with channel_interrupt_redirection', () => {
  const open2 = { ...openMessage(1, { gpadlId: RING }), kind: 'OpenChannel2', connectionId: 0x7777, eventFlag: 9, flags: 1 } as const;
  const signal = ready(V.Copper, GUEST_SIGNAL);
  signal.env.send(open2);
  assert.deepEqual(signal.env.notifier.takeActions(), [
    openAction(signal.offers[0]!, { connectionId: 0x7777, eventFlag: 9, version: V.Copper, features: GUEST_SIGNAL }),
  ]);
  const redirect = ready(V.Copper, REDIRECT);
  redirect.env.send(open2);
  assert.deepEqual(redirect.env.notifier.takeActions(), [
    openAction(redirect.offers[0]!, { redirectInterrupt: true, version: V.Copper, features: REDIRECT }),
  ]);
  // Without either feature the 156-byte form is read as OpenChannel, its extra fields ignored.
  const neither = ready(V.Copper, 0);
  neither.env.send(open2);
  assert.deepEqual(neither.env.notifier.takeActions(), [openAction(neither.offers[0]!, { version: V.Copper })]);
  // With a feature negotiated, a 148-byte OPEN_CHANNEL is too short (protocol.rs:745-758).
  signal.env.send(openMessage(2, { gpadlId: RING }));
  assert.equal(signal.env.trace.ofKind('message-dropped').length, 1);
});

test('CLOSE_CHANNEL closes an open channel with a close action; the ring teardown waits for the device to unmap', () => {
  const { env, offers } = ready();
  let ring: GpadlMapping | undefined;
  env.notifier.onAction = (action) => {
    if (action.type === 'open') ring = env.server.mapGpadl(action.ringGpadlId, { writable: true, channelId: action.channelId }) as GpadlMapping;
  };
  env.send(openMessage(1, { gpadlId: RING }));
  env.server.openComplete(offers[0]!, STATUS_SUCCESS);
  env.notifier.take();
  env.send({ kind: 'CloseChannel', channelId: 1 });
  assert.deepEqual(env.notifier.take(), [did({ type: 'close', offerId: offers[0]!, channelId: 1 })]);
  env.send({ kind: 'GpadlTeardown', channelId: 1, gpadlId: RING });
  assert.deepEqual(env.notifier.take(), [did({ type: 'gpadl-teardown', offerId: offers[0]!, channelId: 1, gpadlId: RING })]);
  env.server.unmapGpadl(ring as GpadlMapping);
  assert.deepEqual(env.notifier.takeMessages(), [gpadlTorndownBytes(RING)]);
  env.send({ kind: 'CloseChannel', channelId: 1 });
  env.send({ kind: 'CloseChannel', channelId: 3 });
  assert.deepEqual(traced(env), [
    ['message-dropped', 'channel 1 is not open (closed)'],
    ['message-dropped', 'no channel has id 3'],
  ]);
});

test('openComplete mistakes are returned as errors', () => {
  const { env, offers } = ready();
  const cases: [number, number, string][] = [
    [999, 0, 'unknown-offer'],
    [offers[0]!, 0, 'invalid-state'],
    [offers[0]!, -1, 'bad-parameter'],
    [offers[0]!, 2 ** 32, 'bad-parameter'],
  ];
  for (const [offer, status, code] of cases) {
    const result = env.server.openComplete(offer, status);
    assert.ok(result instanceof ServerRequestError && result.code === code, `${offer} ${status}`);
  }
  assert.deepEqual(env.notifier.take(), []);
});

test('MODIFY_CHANNEL at 4.1: the action, and no response, even to a failure', () => {
  const { env, offers } = ready(V.Win10Rs3_0);
  env.send(openMessage(1, { gpadlId: RING }));
  env.server.openComplete(offers[0]!, STATUS_SUCCESS);
  env.notifier.take();
  env.send({ kind: 'ModifyChannel', channelId: 1, targetVp: 5 });
  assert.deepEqual(env.notifier.take(), [did({ type: 'modify', offerId: offers[0]!, channelId: 1, targetVp: 5 })]);
  env.send({ kind: 'ModifyChannel', channelId: 2, targetVp: 5 });
  assert.deepEqual(env.notifier.take(), []);
  assert.deepEqual(traced(env), [['message-dropped', 'channel 2 is not open (closed)']]);
});

test('MODIFY_CHANNEL at Iron: the action first, then MODIFY_CHANNEL_RESPONSE (golden bytes)', () => {
  const { env, offers } = ready(V.Iron);
  env.send(openMessage(1, { gpadlId: RING }));
  env.server.openComplete(offers[0]!, STATUS_SUCCESS);
  env.notifier.take();
  env.send({ kind: 'ModifyChannel', channelId: 1, targetVp: 5 });
  assert.deepEqual(env.notifier.take(), [
    did({ type: 'modify', offerId: offers[0]!, channelId: 1, targetVp: 5 }),
    sent(
      hex(`
        18000000 00000000  # @0 type 24 MODIFY_CHANNEL_RESPONSE (openvmm-vmbus.md §6.9)
        01000000           # @8 channel_id
        00000000           # @12 status
      `),
    ),
  ]);
});

// Answered MODIFY_CHANNEL_RESPONSE(STATUS_UNSUCCESSFUL) from Iron (channels.rs:3430-3545).
const BAD_MODIFIES: [string, (env: Env, offers: number[]) => { channelId: number; targetVp: number }, string][] = [
  ['that disables interrupts', () => ({ channelId: 1, targetVp: NO_INTERRUPTS }), 'MODIFY_CHANNEL cannot disable interrupts'],
  ['of an unknown channel', () => ({ channelId: 9, targetVp: 1 }), 'no channel has id 9'],
  ['of a closed channel', () => ({ channelId: 2, targetVp: 1 }), 'channel 2 is not open (closed)'],
  [
    'of a channel opened with interrupts disabled',
    (env, offers) => {
      env.send({ kind: 'CloseChannel', channelId: 1 });
      env.send(openMessage(1, { gpadlId: RING, targetVp: NO_INTERRUPTS }));
      env.server.openComplete(offers[0]!, STATUS_SUCCESS);
      env.notifier.take();
      return { channelId: 1, targetVp: 1 };
    },
    'channel 1 was opened with interrupts disabled',
  ],
];

for (const [label, arrange, reason] of BAD_MODIFIES) {
  test(`MODIFY_CHANNEL ${label} is answered with a failure at Iron`, () => {
    const { env, offers } = ready(V.Iron);
    env.send(openMessage(1, { gpadlId: RING }));
    env.server.openComplete(offers[0]!, STATUS_SUCCESS);
    env.notifier.take();
    const { channelId, targetVp } = arrange(env, offers);
    env.send({ kind: 'ModifyChannel', channelId, targetVp });
    assert.deepEqual(env.notifier.take(), [sent(modifyChannelResponseBytes(channelId, STATUS_UNSUCCESSFUL))]);
    assert.deepEqual(traced(env), [['message-rejected', reason]]);
  });
}
