/**
 * Round trips: a server in some state is saved, a new server is restored from
 * the bytes, every device offers and claims its channel again, and the new
 * server's own save is the same bytes, with nothing sent to the guest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OfferParams, ServerAction } from '../../../src/bus/server/index.js';
import {
  PAGE,
  V,
  connect,
  connectWithOffers,
  createGpadl,
  did,
  gpadlMessages,
  openMessage,
  rangeValues,
  setup,
  type Env,
} from './harness.js';
import { reclaim, saveAndRestore, saved } from './restore-harness.js';

const IF_A = '0000000a-0000-0000-0000-000000000000';
const IF_B = '0000000b-0000-0000-0000-000000000000';
const INST = (n: number): string => `0000000${n}-0000-0000-0000-000000000000`;
// Copper feature flags (protocol.rs:154-199).
const GUEST_SIGNAL = 0x1;
const REDIRECT = 0x2;
const CLIENT_ID = 0x8;
const PAUSE_RESUME = 0x20;
const CLIENT = 'c1c1c1c1-0000-4000-8000-000000000001';
const MONITOR_PAGES = { parentToChild: 0x3_0000n, childToParent: 0x3_1000n };
const DISABLE_INTERRUPTS = 0xffff_ffff; // target_vp (protocol.rs:715-716)

interface Case {
  readonly name: string;
  /** Builds the state; returns every offer made, in order. */
  readonly build: (env: Env) => OfferParams[];
  /** What ending the restore sends or asks for (default nothing). */
  readonly afterFinish?: (offerIds: readonly number[]) => unknown[];
}

function offer(env: Env, params: OfferParams): OfferParams {
  assert.equal(typeof env.server.offerChannel(params), 'number');
  return params;
}

/** Opens channel `channelId` on a fresh 4-page ring GPADL and lets the device accept. */
function openChannel(env: Env, channelId: number, gpadlId: number, firstPfn: number, more: object = {}): void {
  createGpadl(env, channelId, gpadlId, [firstPfn, firstPfn + 1, firstPfn + 2, firstPfn + 3]);
  env.send({ ...openMessage(channelId, { gpadlId }), ...more });
  const actions = env.notifier.takeActions();
  const open = actions.find((a): a is Extract<ServerAction, { type: 'open' }> => a.type === 'open');
  assert.ok(open, `channel ${channelId} opens`);
  assert.equal(env.server.openComplete(open.offerId, 0), undefined);
  env.notifier.take();
}

const CASES: Case[] = [
  {
    name: 'disconnected, with offers waiting for a guest',
    build: (env) => [offer(env, { interfaceId: IF_A, instanceId: INST(1) }), offer(env, { interfaceId: IF_B, instanceId: INST(2), monitored: true })],
  },
  {
    name: 'connected at Win10, offers not yet requested',
    build: (env) => {
      const offers = [offer(env, { interfaceId: IF_A, instanceId: INST(1) })];
      connect(env, V.Win10);
      return offers;
    },
  },
  ...Object.entries(V).map(
    ([name, version]): Case => ({
      name: `connected at ${name} with monitor pages, two channels and a ring GPADL`,
      build: (env) => {
        const offers = [
          offer(env, { interfaceId: IF_A, instanceId: INST(1), monitored: true }),
          offer(env, { interfaceId: IF_A, instanceId: INST(2), order: 3, mmioMegabytes: 16 }),
        ];
        // target_message_vp is honoured from Win8.1 (channels.rs, target_message_vp).
        connect(env, version, 0, { targetMessageVp: version >= V.Win8_1 ? 1 : 0, ...MONITOR_PAGES });
        env.send({ kind: 'RequestOffers' });
        env.notifier.take();
        createGpadl(env, 2, 0x100, [10, 11]);
        return offers;
      },
    }),
  ),
  {
    name: 'Copper with guest signal parameters, a client id, subchannels, a pipe, an OpenChannel2 and an interrupts-disabled open',
    build: (env) => {
      const offers = [
        offer(env, { interfaceId: IF_A, instanceId: INST(1), monitored: true }),
        offer(env, { interfaceId: IF_A, instanceId: INST(1), subchannelIndex: 1 }),
        offer(env, { interfaceId: IF_A, instanceId: INST(1), subchannelIndex: 2, monitored: true }),
        offer(env, { interfaceId: IF_B, instanceId: INST(2), channelType: { kind: 'pipe', messageMode: true, pipeFlags: 1 } }),
      ];
      connect(env, V.Copper, GUEST_SIGNAL | REDIRECT | CLIENT_ID | PAUSE_RESUME, { clientId: CLIENT, ...{ parentToChild: 0x5000n, childToParent: 0x6000n } });
      env.send({ kind: 'RequestOffers' });
      env.notifier.take();
      openChannel(env, 1, 0x10, 10, { kind: 'OpenChannel2', connectionId: 0x7777, eventFlag: 9, flags: 1 });
      // Once guest signal parameters are negotiated every open is an OpenChannel2 (protocol.rs:745-758).
      openChannel(env, 3, 0x30, 20, { kind: 'OpenChannel2', targetVp: DISABLE_INTERRUPTS, connectionId: 0x2003, eventFlag: 3, flags: 0 });
      return offers;
    },
  },
  {
    name: 'GPADLs in progress, multi-message and multi-range, on two channels',
    build: (env) => {
      const offers = [offer(env, { interfaceId: IF_A, instanceId: INST(1) }), offer(env, { interfaceId: IF_A, instanceId: INST(2) })];
      connectWithOffers(env, V.Iron);
      // 40 pages: a header and a body (linux-vmbus.md §A.3.3), created.
      createGpadl(env, 1, 0x1, Array.from({ length: 40 }, (_, i) => i + 1));
      const twoRanges = [...rangeValues(0x10, PAGE, [50, 51]), ...rangeValues(0, 2 * PAGE, [52, 53])];
      for (const m of gpadlMessages(2, 0x2, twoRanges, 2)) env.send(m);
      // 60 values announced, only the header's 26 sent: in progress.
      env.send(gpadlMessages(2, 0x3, rangeValues(0, 59 * PAGE, Array.from({ length: 59 }, (_, i) => i)))[0]!);
      env.notifier.take();
      return offers;
    },
  },
  {
    name: 'a rescinded channel the guest has not released, and a rescinded channel offered again',
    build: (env) => {
      for (const n of [1, 2]) offer(env, { interfaceId: IF_A, instanceId: INST(n) });
      connectWithOffers(env, V.Win10Rs5);
      createGpadl(env, 1, 0x100, [10, 11, 12, 13]);
      const ids = [1, 2].map((n) => env.server.offerChannel({ interfaceId: IF_A, instanceId: INST(n) }));
      assert.ok(ids.every((id) => typeof id !== 'number'), 'duplicates are refused');
      for (const offerId of [1, 2]) assert.equal(env.server.rescindChannel(offerId), undefined);
      offer(env, { interfaceId: IF_A, instanceId: INST(2), mmioMegabytes: 8 });
      env.notifier.take();
      // Only the channel offered again is offered again after the restore.
      return [{ interfaceId: IF_A, instanceId: INST(2), mmioMegabytes: 8 }];
    },
  },
  {
    name: 'paused at 6.0, holding a rescind and an offer',
    build: (env) => {
      const offers = [offer(env, { interfaceId: IF_A, instanceId: INST(1) }), offer(env, { interfaceId: IF_A, instanceId: INST(2) })];
      connectWithOffers(env, V.Copper, PAUSE_RESUME);
      env.send({ kind: 'Pause' });
      assert.equal(env.server.rescindChannel(1), undefined);
      offers.push(offer(env, { interfaceId: IF_B, instanceId: INST(3) }));
      env.notifier.take();
      assert.equal(env.server.snapshot().heldMessages, 2);
      return offers.slice(1);
    },
  },
  {
    name: 'a channel whose device has not answered the open yet',
    build: (env) => {
      const offers = [offer(env, { interfaceId: IF_A, instanceId: INST(1) })];
      connectWithOffers(env, V.Win10);
      createGpadl(env, 1, 0x100, [10, 11, 12, 13]);
      env.send(openMessage(1, { gpadlId: 0x100, openId: 5 }));
      env.notifier.take();
      return offers;
    },
    // The new device is asked again, with the same parameters.
    afterFinish: ([offerId]) => [
      did({
        type: 'open', offerId: offerId!, channelId: 1, openId: 5, ringGpadlId: 0x100, downstreamRingPageOffset: 2, targetVp: 0,
        eventFlag: 1, connectionId: 0x2001, redirectInterrupt: false, monitorId: null, userData: new Uint8Array(120), version: V.Win10, features: 0,
      }),
    ],
  },
  {
    name: 'an hvsocket connect request waiting for the listener',
    build: (env) => {
      connectWithOffers(env, V.Win10Rs5);
      env.send({ kind: 'TlConnectRequest2', serviceId: IF_A, endpointId: INST(7), siloId: INST(8) });
      env.notifier.take();
      return [];
    },
    afterFinish: () => [
      did({ type: 'hvsock-connect', request: { serviceId: IF_A, endpointId: INST(7), siloId: INST(8), hostedSiloUnaware: false } }),
    ],
  },
];

for (const c of CASES) {
  test(`round trip: ${c.name}`, () => {
    const env = setup();
    const offers = c.build(env);
    assert.deepEqual(env.server.checkInvariants(), []);
    const bytes = saved(env);
    const restored = saveAndRestore(env);
    assert.equal(restored.server.restoring, true);
    assert.deepEqual(restored.notifier.take(), [], 'a restore sends nothing');
    const offerIds = reclaim(restored, offers);
    assert.equal(restored.server.restoring, false);
    assert.deepEqual(restored.notifier.take(), c.afterFinish?.(offerIds) ?? [], 'ending the restore');
    assert.deepEqual(restored.server.checkInvariants(), []);
    assert.deepEqual(saved(restored), bytes, 'the restored server saves the same bytes');
    const { table: before, ...was } = env.server.snapshot();
    const { table: after, ...is } = restored.server.snapshot();
    assert.deepEqual(is, was);
    // The new host maps nothing yet; the GPADLs themselves are all there.
    assert.deepEqual(after, { gpadls: before.gpadls, mappings: 0, mappedPages: 0 });
    assert.deepEqual(restored.trace.events, [], 'nothing was rejected or dropped');
  });
}
