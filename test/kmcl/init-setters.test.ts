import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_MAXIMUM_PACKET_SIZE,
  NTSTATUS,
  VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT,
  VmbChannelCleanup,
  VmbChannelEnable,
  VmbChannelInitSetBounceBufferSizes,
  VmbChannelInitSetClientContextSize,
  VmbChannelInitSetFlags,
  VmbChannelInitSetFriendlyName,
  VmbChannelInitSetInlinePacketContextSize,
  VmbChannelInitSetMaximumExternalData,
  VmbChannelInitSetMaximumPacketCount,
  VmbChannelInitSetMaximumPacketSize,
  VmbChannelInitSetPrimaryChannel,
  VmbChannelInitSetProcessPacketCallbacks,
  VmbChannelInitSetProcessPacketCallbacksEx,
  VmbChannelInitSetStateChangeCallbacks,
  VmbClientChannelInitSetRingBufferPageCount,
  VmbClientChannelInitSetTargetPnp,
  VmbClientChannelInitSetTargetProcessorIndex,
  VmbPacketAllocate,
  type VMBCHANNEL,
} from '../../src/index.js';
import type { ChannelConfig } from '../../src/kmcl/channel/channel-config.js';
import { TEST_INSTANCE, TEST_INTERFACE, allocate, core, makeHarness, type Harness } from './support/harness.js';

const S = NTSTATUS;
const noop = (): void => undefined;
const P1 = S.STATUS_INVALID_PARAMETER_1;
const P2 = S.STATUS_INVALID_PARAMETER_2;
const P3 = S.STATUS_INVALID_PARAMETER_3;
const P4 = S.STATUS_INVALID_PARAMETER_4;

/** One setter: good arguments and what they set, bad arguments and their statuses. */
interface SetterCase {
  readonly name: string;
  readonly call: (channel: unknown, ...args: unknown[]) => number;
  readonly good: unknown[];
  readonly effect: (config: ChannelConfig) => unknown;
  readonly expected: unknown;
  readonly bad: [string, unknown[], number][];
}

function callbacks(overrides: Record<string, unknown> = {}): unknown {
  return { ...VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT(), ...overrides };
}

const CASES: SetterCase[] = [
  {
    name: 'VmbChannelInitSetClientContextSize',
    call: VmbChannelInitSetClientContextSize as SetterCase['call'],
    good: [64],
    effect: (c) => c.clientContextSize,
    expected: 64,
    bad: [['negative', [-1], P2], ['fraction', [1.5], P2], ['above 64 KiB', [0x10001], P2], ['string', ['8'], P2]],
  },
  {
    name: 'VmbChannelInitSetFlags',
    call: VmbChannelInitSetFlags as SetterCase['call'],
    good: [1],
    effect: (c) => c.flags,
    expected: 1,
    bad: [['unknown bit 0x2', [2], P2], ['high bit', [0x8000_0000], P2], ['not a number', [null], P2]],
  },
  {
    name: 'VmbChannelInitSetFriendlyName',
    call: VmbChannelInitSetFriendlyName as SetterCase['call'],
    good: ['Network'],
    effect: (c) => c.friendlyName,
    expected: 'Network',
    bad: [['not a string', [42], P2], ['longer than a UNICODE_STRING', ['x'.repeat(0x8000)], P2]],
  },
  {
    name: 'VmbChannelInitSetMaximumExternalData',
    call: VmbChannelInitSetMaximumExternalData as SetterCase['call'],
    good: [65536, 4],
    effect: (c) => [c.maximumExternalDataSize, c.maximumExternalDataChainLength],
    expected: [65536, 4],
    // "Zero (0) is invalid" for both (fn_vmb_channel_init_set_maximum_external_data.md, Return value).
    bad: [['DataSize 0', [0, 4], P2], ['ChainLength 0', [4096, 0], P3], ['DataSize negative', [-5, 1], P2]],
  },
  {
    name: 'VmbChannelInitSetMaximumPacketSize',
    call: VmbChannelInitSetMaximumPacketSize as SetterCase['call'],
    good: [256],
    effect: (c) => c.maximumPacketSize,
    expected: 256,
    // "Zero (0) is invalid" (fn_vmb_channel_init_set_maximum_packet_size.md, Return value).
    bad: [['zero', [0], P2], ['beyond length8', [0x80000], P2], ['string', ['256'], P2]],
  },
  {
    name: 'VmbChannelInitSetProcessPacketCallbacks',
    call: VmbChannelInitSetProcessPacketCallbacks as SetterCase['call'],
    good: [noop, null],
    effect: (c) => [c.processPacket, c.processingComplete],
    expected: [noop, null],
    bad: [['no process callback', [null, null], P2], ['complete not a function', [noop, 5], P3]],
  },
  {
    name: 'VmbChannelInitSetProcessPacketCallbacksEx',
    call: VmbChannelInitSetProcessPacketCallbacksEx as SetterCase['call'],
    good: [noop, noop],
    effect: (c) => [c.processPacketEx, c.processingCompleteEx, c.processPacket],
    expected: [noop, noop, null],
    bad: [['no process callback', ['x', null], P2], ['complete not a function', [noop, {}], P3]],
  },
  {
    name: 'VmbChannelInitSetStateChangeCallbacks',
    call: VmbChannelInitSetStateChangeCallbacks as SetterCase['call'],
    good: [callbacks({ EvtChannelOpened: noop })],
    effect: (c) => c.stateCallbacks?.EvtChannelOpened,
    expected: noop,
    // "wrong version or size" (fn_vmb_channel_init_set_state_change_callbacks.md, Return value).
    bad: [
      ['wrong version', [callbacks({ Version: 2 })], P2],
      ['wrong size', [callbacks({ Size: 40 })], P2],
      ['member not a function', [callbacks({ EvtChannelClosed: 'x' })], P2],
      ['not a structure', [null], P2],
    ],
  },
  {
    name: 'VmbChannelInitSetInlinePacketContextSize',
    call: VmbChannelInitSetInlinePacketContextSize as SetterCase['call'],
    good: [24],
    effect: (c) => c.inlinePacketContextSize,
    expected: 24,
    bad: [['negative', [-1], P2], ['above 64 KiB', [0x10001], P2]],
  },
  {
    name: 'VmbChannelInitSetMaximumPacketCount',
    call: VmbChannelInitSetMaximumPacketCount as SetterCase['call'],
    good: [3],
    effect: (c) => c.maximumPacketCount,
    expected: 3,
    bad: [['zero', [0], P2], ['not an integer', [2.5], P2]],
  },
  {
    name: 'VmbChannelInitSetBounceBufferSizes',
    call: VmbChannelInitSetBounceBufferSizes as SetterCase['call'],
    good: [8, 2],
    effect: (c) => c.bounceBuffers,
    expected: { poolPageCount: 8, maximumBufferPageCount: 2 },
    bad: [['zero pool', [0, 1], P2], ['zero buffer', [8, 0], P3], ['buffer above the pool', [8, 9], P3]],
  },
  {
    name: 'VmbClientChannelInitSetRingBufferPageCount',
    call: VmbClientChannelInitSetRingBufferPageCount as SetterCase['call'],
    good: [4, 6],
    effect: (c) => [c.incomingRingPages, c.outgoingRingPages],
    expected: [4, 6],
    bad: [['incoming 1 page (no data page)', [1, 4], P2], ['outgoing 0', [4, 0], P3], ['incoming not a number', ['4', 4], P2]],
  },
  {
    name: 'VmbClientChannelInitSetTargetPnp',
    call: VmbClientChannelInitSetTargetPnp as SetterCase['call'],
    good: [`{${TEST_INTERFACE.toUpperCase()}}`, TEST_INSTANCE, noop],
    effect: (c) => c.target,
    expected: { interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE, pnpFailure: noop },
    bad: [
      ['interface not a GUID', ['nope', null, null], P2],
      ['interface missing', [null, null, null], P2],
      ['instance not a GUID', [TEST_INTERFACE, 'nope', null], P3],
      ['callback not a function', [TEST_INTERFACE, null, 'f'], P4],
    ],
  },
  {
    name: 'VmbClientChannelInitSetTargetProcessorIndex',
    call: VmbClientChannelInitSetTargetProcessorIndex as SetterCase['call'],
    good: [3],
    effect: (c) => c.targetProcessorIndex,
    expected: 3,
    bad: [['beyond the VP limit (64, src/hv MAX_VPS)', [64], P2], ['negative', [-1], P2]],
  },
];

/** Handles that are not a live channel. */
function badHandles(h: Harness): [string, unknown][] {
  const cleaned = allocate(h);
  VmbChannelCleanup(cleaned);
  const live = allocate(h);
  return [
    ['null', null],
    ['undefined', undefined],
    ['a plain object', {}],
    ['a number', 7],
    ['unrelated bytes', new Uint8Array(512)],
    ['a cleaned-up channel', cleaned],
    ['a packet', VmbPacketAllocate(live)],
  ];
}

test('each init setter stores good values', () => {
  for (const setter of CASES) {
    const h = makeHarness();
    const channel = allocate(h);
    assert.equal(setter.call(channel, ...setter.good), S.STATUS_SUCCESS, setter.name);
    assert.deepEqual(setter.effect(core(channel).config), setter.expected, setter.name);
  }
});

test('each init setter rejects bad values with its parameter\'s status and changes nothing', () => {
  for (const setter of CASES) {
    for (const [what, args, status] of setter.bad) {
      const h = makeHarness();
      const channel = allocate(h);
      const before = JSON.stringify(setter.effect(core(channel).config) ?? null);
      assert.equal(setter.call(channel, ...args), status, `${setter.name}: ${what}`);
      assert.equal(JSON.stringify(setter.effect(core(channel).config) ?? null), before, `${setter.name}: ${what} changed the setting`);
    }
  }
});

test('each init setter answers a bad handle with STATUS_INVALID_PARAMETER_1, never a throw', () => {
  const h = makeHarness();
  for (const setter of CASES) {
    for (const [what, handle] of badHandles(h)) {
      assert.equal(setter.call(handle, ...setter.good), P1, `${setter.name}: ${what}`);
    }
  }
});

test('each init setter answers a channel that is no longer disabled with STATUS_INVALID_PARAMETER_1', () => {
  for (const setter of CASES) {
    const h = makeHarness();
    h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
    const channel = allocate(h, h.device.children()[0]);
    assert.equal(VmbChannelEnable(channel), S.STATUS_SUCCESS);
    const before = JSON.stringify(setter.effect(core(channel).config) ?? null);
    assert.equal(setter.call(channel, ...setter.good), P1, setter.name);
    assert.equal(JSON.stringify(setter.effect(core(channel).config) ?? null), before, setter.name);
  }
});

test('the default maximum packet size is 4 KiB until set', () => {
  const h = makeHarness();
  assert.equal(core(allocate(h)).config.maximumPacketSize, DEFAULT_MAXIMUM_PACKET_SIZE);
});

test('the inline context size is fixed once the channel made a packet object', () => {
  const h = makeHarness();
  const channel = allocate(h);
  VmbPacketAllocate(channel);
  assert.equal(VmbChannelInitSetInlinePacketContextSize(channel, 16), P1);
});

test('VmbChannelInitSetPrimaryChannel takes a live channel of the same bus that is not a subchannel', () => {
  const h = makeHarness();
  const primary = allocate(h);
  const sub = allocate(h);
  const other = makeHarness();
  const foreign = allocate(other);
  const cases: [string, unknown, number][] = [
    ['itself', sub, P2],
    ['not a channel', {}, P2],
    ['a channel of another VMBus device', foreign, P2],
  ];
  for (const [what, value, status] of cases) assert.equal(VmbChannelInitSetPrimaryChannel(sub, value as VMBCHANNEL), status, what);
  assert.equal(VmbChannelInitSetPrimaryChannel(sub, primary), S.STATUS_SUCCESS);
  assert.equal(core(sub).config.primaryChannel, core(primary));
  const third = allocate(h);
  assert.equal(VmbChannelInitSetPrimaryChannel(third, sub), P2, 'a subchannel cannot be a primary');
  assert.equal(VmbChannelInitSetPrimaryChannel({} as VMBCHANNEL, primary), P1);
});
