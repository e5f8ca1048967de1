import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gpadlCreatedBytes, modifyChannelResponseBytes, openResultBytes } from './layouts.js';
import { STATUS_UNSUCCESSFUL, V, connect, connectWithOffers, guest, setup, type Env } from './harness.js';

const IF_A = '0000000a-0000-0000-0000-000000000000';
const INST_1 = '00000001-0000-0000-0000-000000000000';

/** Raw bytes: a header of `type` and `size - 8` zero bytes after it. */
function raw(type: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  if (size >= 4) new DataView(bytes.buffer).setUint32(0, type, true);
  return bytes;
}

interface Case {
  readonly label: string;
  /** The server's state before the input. */
  readonly arrange: (env: Env) => void;
  readonly input: Uint8Array;
  /** The Hyper-V answer, if the protocol has one. */
  readonly answer?: Uint8Array;
  readonly trace: 'message-dropped' | 'message-rejected';
  readonly reason: RegExp;
}

const disconnected = (): void => {};
const iron = (env: Env): void => connectWithOffers(env, V.Iron);
const win10 = (env: Env): void => connectWithOffers(env, V.Win10);

// Host→guest types (openvmm-vmbus.md §2.2). OpenVMM panics on these (channels.rs:3713-3730); we drop them.
const HOST_TO_GUEST: [number, number][] = [
  [1, 196], [2, 12], [4, 8], [6, 20], [10, 20], [12, 12], [15, 16], [17, 8], [20, 12], [23, 44], [24, 16], [26, 9], [28, 8],
];
// Guest→host types that need a negotiated version (openvmm-vmbus.md §2.2 "Min ver").
const NEEDS_CONTACT: [number, number][] = [[3, 8], [5, 148], [7, 12], [8, 20], [9, 16], [11, 16], [13, 12], [16, 8], [18, 28], [21, 40], [22, 16]];

const CASES: Case[] = [
  ...HOST_TO_GUEST.map(([type, size]): Case => ({
    label: `host-to-guest type ${type}`,
    arrange: iron,
    input: raw(type, size),
    trace: 'message-dropped',
    reason: /^wrong-direction/,
  })),
  {
    label: 'VERSION_RESPONSE before contact (the OpenVMM panic, #3685)',
    arrange: disconnected,
    input: raw(15, 16),
    trace: 'message-dropped',
    reason: /^wrong-direction/,
  },
  ...NEEDS_CONTACT.map(([type, size]): Case => ({
    label: `guest type ${type} before contact`,
    arrange: disconnected,
    input: raw(type, size),
    trace: 'message-dropped',
    reason: /^not-negotiated/,
  })),
  ...[0, 30, 0xffff_ffff].map((type): Case => ({
    label: `unknown type ${type}`,
    arrange: iron,
    input: raw(type, 16),
    trace: 'message-dropped',
    reason: /^unknown-type/,
  })),
  { label: 'fewer bytes than the header', arrange: iron, input: raw(3, 7), trace: 'message-dropped', reason: /^truncated/ },
  { label: 'no bytes at all', arrange: iron, input: new Uint8Array(0), trace: 'message-dropped', reason: /^truncated/ },
  { label: 'more than the 240-byte SynIC payload', arrange: iron, input: raw(3, 241), trace: 'message-dropped', reason: /^oversized/ },
  { label: 'a truncated OPEN_CHANNEL', arrange: iron, input: raw(5, 100), trace: 'message-dropped', reason: /^truncated/ },
  { label: 'a truncated INITIATE_CONTACT', arrange: disconnected, input: raw(14, 39), trace: 'message-dropped', reason: /^truncated/ },
  // A partial trailing u64 is ignored as Hyper-V does (channels.rs:1232-1237); this header then names channel 0.
  {
    label: 'GPADL_HEADER with a partial trailing u64, for channel 0',
    arrange: iron,
    input: raw(8, 21),
    answer: gpadlCreatedBytes(0, 0, STATUS_UNSUCCESSFUL),
    trace: 'message-rejected',
    reason: /no channel has id 0/,
  },
  { label: 'MODIFY_CHANNEL at 4.0, before it existed', arrange: win10, input: raw(22, 16), trace: 'message-dropped', reason: /^not-negotiated/ },
  { label: 'TL_CONNECT_REQUEST at 3.0', arrange: (env) => connectWithOffers(env, V.Win8_1), input: raw(21, 40), trace: 'message-dropped', reason: /^not-negotiated/ },
  { label: 'PAUSE without the feature', arrange: (env) => connect(env, V.Copper), input: raw(27, 8), trace: 'message-dropped', reason: /^not-negotiated/ },
  { label: 'MODIFY_CONNECTION before Copper', arrange: iron, input: raw(25, 24), trace: 'message-dropped', reason: /^not-negotiated/ },
  { label: 'OPEN_RESERVED_CHANNEL', arrange: win10, input: raw(18, 28), trace: 'message-dropped', reason: /reserved channels/ },
  { label: 'CLOSE_RESERVED_CHANNEL, readable even before contact', arrange: disconnected, input: raw(19, 20), trace: 'message-dropped', reason: /reserved channels/ },
  { label: 'REQUEST_OFFERS twice', arrange: iron, input: raw(3, 8), trace: 'message-dropped', reason: /already sent/ },
  { label: 'CLOSE_CHANNEL of channel 0', arrange: iron, input: raw(7, 12), trace: 'message-dropped', reason: /no channel has id 0/ },
  { label: 'REL_ID_RELEASED of an unknown channel', arrange: iron, input: guest({ kind: 'RelIdReleased', channelId: 2048 }), trace: 'message-dropped', reason: /no channel has id 2048/ },
  { label: 'GPADL_BODY with no header', arrange: iron, input: raw(9, 24), trace: 'message-dropped', reason: /no GPADL 0 is in progress/ },
  {
    label: 'GPADL_HEADER for an unknown channel',
    arrange: iron,
    input: guest({ kind: 'GpadlHeader', channelId: 9, gpadlId: 3, len: 16, count: 1, range: [4096n, 1n] }),
    answer: gpadlCreatedBytes(9, 3, STATUS_UNSUCCESSFUL),
    trace: 'message-rejected',
    reason: /no channel has id 9/,
  },
  {
    label: 'OPEN_CHANNEL with no ring GPADL',
    arrange: iron,
    input: guest({ kind: 'OpenChannel', channelId: 1, openId: 8, ringBufferGpadlId: 1, targetVp: 0, downstreamRingBufferPageOffset: 1, userData: new Uint8Array(120) }),
    answer: openResultBytes(1, 8, STATUS_UNSUCCESSFUL),
    trace: 'message-rejected',
    reason: /not a GPADL of this channel/,
  },
  {
    label: 'MODIFY_CHANNEL of a closed channel at Iron',
    arrange: iron,
    input: guest({ kind: 'ModifyChannel', channelId: 1, targetVp: 1 }),
    answer: modifyChannelResponseBytes(1, STATUS_UNSUCCESSFUL),
    trace: 'message-rejected',
    reason: /not open/,
  },
];

for (const c of CASES) {
  test(`${c.label}: ${c.answer === undefined ? 'dropped' : 'answered with a failure'} and traced`, () => {
    const env = setup();
    env.server.offerChannel({ interfaceId: IF_A, instanceId: INST_1 });
    c.arrange(env);
    env.notifier.take();
    const before = env.server.snapshot();
    env.send(c.input);
    assert.deepEqual(env.notifier.takeMessages(), c.answer === undefined ? [] : [c.answer]);
    assert.equal(env.trace.events.length, 1);
    const event = env.trace.events[0]!;
    assert.equal(event.layer, 'bus');
    assert.equal(event.source, 'server');
    assert.equal(event.kind, c.trace);
    assert.match(event.reason ?? '', c.reason);
    assert.deepEqual(env.server.snapshot(), before);
    assert.deepEqual(env.server.checkInvariants(), []);
  });
}
