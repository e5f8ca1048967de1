/**
 * A hostile guest: random sequences of well-formed and malformed messages,
 * interleaved with local offers, rescinds, open completions, maps and unmaps.
 * The server never throws, its invariants hold after every step, everything it
 * sends is a host→guest message of at most 240 bytes, and after a final UNLOAD
 * and the release of every mapping nothing is left: no GPADL, no channel id,
 * no mapped page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryError, type GpadlMapping } from '../../../src/memory/index.js';
import { decodeMessage, messageSpecOfType, type ChannelMessage } from '../../../src/wire/messages/index.js';
import { WireError } from '../../../src/wire/wire-error.js';
import type { ChannelType, HvsockConnectRequest } from '../../../src/bus/server/index.js';
import { testSeed } from '../../support/seed.js';
import { PAGE, PAGES, V, gpadlMessages, guest, setup, targetInfo, type Env } from './harness.js';

const GUIDS = ['0000000a-0000-0000-0000-000000000000', '0000000b-0000-0000-0000-000000000000', '0000000c-0000-0000-0000-000000000000'];
const VERSIONS = [...Object.values(V), 0x0005_0004, 0xffff_ffff];
const u32 = fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constant(0xffff_ffff), fc.nat({ max: 0xffff_ffff }));
// Preambles offer 2-6 channels, so ids 1-3 mostly name a channel.
const channelId = fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 3 }) }, { weight: 1, arbitrary: u32 });
const gpadlId = fc.integer({ min: 0, max: 6 });
// Mostly good PFNs; sometimes one beyond guest memory.
const pfn = fc.oneof({ weight: 19, arbitrary: fc.integer({ min: 0, max: PAGES - 1 }) }, { weight: 1, arbitrary: fc.constant(PAGES) });

const rangeArb = fc
  .record({
    byteOffset: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1000 }) }),
    pages: fc.integer({ min: 1, max: 5 }),
    trim: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: PAGE }) }),
    pfns: fc.array(pfn, { minLength: 6, maxLength: 6 }),
  })
  .map(({ byteOffset, pages, trim, pfns }) => {
    const byteCount = Math.max(0, pages * PAGE - byteOffset - trim);
    const spanned = Math.ceil((byteOffset + byteCount) / PAGE);
    return [BigInt(byteCount) | (BigInt(byteOffset) << 32n), ...pfns.slice(0, spanned).map(BigInt)];
  });

type Step =
  | { readonly t: 'guest'; readonly message: ChannelMessage; readonly connectionId: number }
  | { readonly t: 'gpadl'; readonly messages: ChannelMessage[]; readonly send: number }
  | { readonly t: 'raw'; readonly bytes: Uint8Array }
  | { readonly t: 'offer'; readonly iface: number; readonly inst: number; readonly sub: number; readonly monitored: boolean; readonly type: ChannelType }
  | { readonly t: 'rescind'; readonly pick: number }
  | { readonly t: 'open-complete'; readonly pick: number; readonly success: boolean }
  | { readonly t: 'unmap'; readonly pick: number }
  | { readonly t: 'map'; readonly gpadlId: number }
  | { readonly t: 'hvsock'; readonly pick: number; readonly accept: boolean }
  /** OPEN_CHANNEL on a GPADL the server reported created, so that opens get past the ring checks. */
  | { readonly t: 'open-created'; readonly pick: number; readonly split: number; readonly targetVp: number };

const contactArb = fc
  .record({
    version: fc.constantFrom(...VERSIONS),
    features: fc.oneof(fc.constant(0), fc.nat({ max: 0xff })),
    sint: fc.oneof({ weight: 9, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) }),
    vtl: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 }) }),
    vp: fc.integer({ min: 0, max: 3 }),
    pages: fc.constantFrom<[bigint, bigint]>([0n, 0n], [0x1000n, 0x2000n], [0x1000n, 0n]),
    clientId: fc.boolean(),
    connectionId: fc.constantFrom(1, 1, 4, 7),
  })
  .map(({ version, features, sint, vtl, vp, pages, clientId, connectionId }): Step => {
    const base = {
      versionRequested: version,
      targetMessageVp: vp,
      interruptPageOrTargetInfo: version >= V.Win10Rs3_1 ? targetInfo(sint, vtl, features) : 0n,
      parentToChildMonitorPageGpa: pages[0],
      childToParentMonitorPageGpa: pages[1],
    };
    const message: ChannelMessage = clientId
      ? { kind: 'InitiateContact2', ...base, clientId: GUIDS[0]! }
      : { kind: 'InitiateContact', ...base };
    return { t: 'guest', message, connectionId };
  });

const gpadlArb = fc
  .record({
    channelId,
    gpadlId,
    ranges: fc.oneof({ weight: 3, arbitrary: fc.tuple(rangeArb) }, { weight: 1, arbitrary: fc.array(rangeArb, { minLength: 1, maxLength: 3 }) }),
    lenDelta: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -16, max: 24 }) }),
    countDelta: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -1, max: 2 }) }),
    send: fc.integer({ min: 1, max: 4 }),
    bigRing: fc.boolean(),
  })
  .map(({ channelId, gpadlId, ranges, lenDelta, countDelta, send, bigRing }): Step => {
    // Sometimes a ring big enough to need bodies: one range of 40 pages.
    const values = bigRing ? [BigInt(40 * PAGE), ...Array.from({ length: 40 }, (_, i) => BigInt(i))] : ranges.flat();
    const count = Math.max(0, (bigRing ? 1 : ranges.length) + countDelta);
    const messages = gpadlMessages(channelId, gpadlId, values, count);
    const header = messages[0]!;
    if (header.kind === 'GpadlHeader') messages[0] = { ...header, len: Math.min(0xffff, Math.max(0, header.len + lenDelta)) };
    return { t: 'gpadl', messages, send };
  });

const openArb = fc
  .record({
    channelId,
    openId: u32,
    gpadlId,
    targetVp: fc.constantFrom(0, 1, 0xffff_ffff),
    split: fc.integer({ min: 0, max: 6 }),
    v2: fc.boolean(),
    connectionId: fc.constant(0x3000),
    eventFlag: fc.integer({ min: 0, max: 0xffff }),
    flags: fc.integer({ min: 0, max: 3 }),
  })
  .map((o): Step => {
    const open = {
      channelId: o.channelId,
      openId: o.openId,
      ringBufferGpadlId: o.gpadlId,
      targetVp: o.targetVp,
      downstreamRingBufferPageOffset: o.split,
      userData: new Uint8Array(120),
    };
    const message: ChannelMessage = o.v2
      ? { kind: 'OpenChannel2', ...open, connectionId: o.connectionId, eventFlag: o.eventFlag, flags: o.flags }
      : { kind: 'OpenChannel', ...open };
    return { t: 'guest', message, connectionId: 1 };
  });

const simpleGuest = (message: fc.Arbitrary<ChannelMessage>): fc.Arbitrary<Step> => message.map((m) => ({ t: 'guest', message: m, connectionId: 1 }));

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 1, arbitrary: contactArb },
  { weight: 3, arbitrary: simpleGuest(fc.constant({ kind: 'RequestOffers' })) },
  { weight: 6, arbitrary: gpadlArb },
  { weight: 1, arbitrary: simpleGuest(fc.record({ gpadlId, range: fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { maxLength: 4 }) }).map((b) => ({ kind: 'GpadlBody', ...b }) as const)) },
  { weight: 3, arbitrary: simpleGuest(fc.record({ channelId, gpadlId }).map((b) => ({ kind: 'GpadlTeardown', ...b }) as const)) },
  { weight: 5, arbitrary: openArb },
  { weight: 2, arbitrary: simpleGuest(channelId.map((id) => ({ kind: 'CloseChannel', channelId: id }) as const)) },
  { weight: 2, arbitrary: simpleGuest(channelId.map((id) => ({ kind: 'RelIdReleased', channelId: id }) as const)) },
  { weight: 1, arbitrary: simpleGuest(fc.record({ channelId, targetVp: fc.constantFrom(0, 2, 0xffff_ffff) }).map((m) => ({ kind: 'ModifyChannel', ...m }) as const)) },
  {
    weight: 1,
    arbitrary: simpleGuest(
      fc.record({ endpointId: fc.constantFrom(...GUIDS), serviceId: fc.constantFrom(...GUIDS) }).map((m) => ({ kind: 'TlConnectRequest', ...m }) as const),
    ),
  },
  { weight: 1, arbitrary: simpleGuest(fc.constantFrom<ChannelMessage>({ kind: 'Pause' }, { kind: 'Resume' }, { kind: 'Unload' })) },
  {
    weight: 1,
    arbitrary: simpleGuest(
      fc.constantFrom<ChannelMessage>(
        { kind: 'ModifyConnection', parentToChildMonitorPageGpa: 0x3000n, childToParentMonitorPageGpa: 0x4000n },
        { kind: 'ModifyConnection', parentToChildMonitorPageGpa: 0x3000n, childToParentMonitorPageGpa: 0n },
      ),
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ type: fc.integer({ min: 0, max: 31 }), body: fc.uint8Array({ maxLength: 250 }) })
      .map(({ type, body }): Step => {
        const bytes = new Uint8Array(Math.max(4, body.length));
        bytes.set(body);
        new DataView(bytes.buffer).setUint32(0, type, true);
        return { t: 'raw', bytes: body.length < 4 ? body : bytes };
      }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('offer' as const),
      iface: fc.integer({ min: 0, max: 1 }),
      inst: fc.integer({ min: 0, max: 2 }),
      sub: fc.integer({ min: 0, max: 2 }),
      monitored: fc.boolean(),
      type: fc.constantFrom<ChannelType>(
        { kind: 'device' },
        { kind: 'device', pipePackets: true },
        { kind: 'pipe', messageMode: true },
        { kind: 'hvsocket', isConnect: true, isForContainer: false },
      ),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('rescind' as const), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('open-complete' as const), pick: fc.nat(), success: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('unmap' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('map' as const), gpadlId }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('hvsock' as const), pick: fc.nat(), accept: fc.boolean() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('open-created' as const),
      pick: fc.nat(),
      split: fc.integer({ min: 1, max: 3 }),
      targetVp: fc.constantFrom(0, 1, 0xffff_ffff),
    }),
  },
);

/** A device layer that maps rings on open, keeps what the server hands it, and unmaps when asked (sometimes at once). */
class DeviceModel {
  readonly offers: number[] = [];
  readonly opening: number[] = [];
  readonly mappings: GpadlMapping[] = [];
  readonly hvsock: HvsockConnectRequest[] = [];
  readonly gpadls: { channelId: number; gpadlId: number }[] = [];

  constructor(readonly env: Env) {
    env.notifier.onAction = (action) => {
      switch (action.type) {
        case 'open': {
          this.opening.push(action.offerId);
          const ring = env.server.mapGpadl(action.ringGpadlId, { writable: true, channelId: action.channelId });
          if (!(ring instanceof MemoryError)) this.mappings.push(ring);
          break;
        }
        case 'hvsock-connect':
          this.hvsock.push(action.request);
          break;
        case 'gpadl-created':
          this.gpadls.push({ channelId: action.channelId, gpadlId: action.gpadlId });
          break;
        case 'gpadl-teardown':
          // Even ids are let go of at once, from inside the callback (a nested server call); odd ones later.
          if (action.gpadlId % 2 === 0) {
            for (const mapping of this.mappings.filter((m) => m.gpadlId === action.gpadlId)) {
              this.mappings.splice(this.mappings.indexOf(mapping), 1);
              env.server.unmapGpadl(mapping);
            }
          }
          break;
        default:
          break;
      }
    };
  }

  run(step: Step): void {
    const { server } = this.env;
    switch (step.t) {
      case 'guest':
        server.receiveMessage(guest(step.message), step.connectionId);
        return;
      case 'gpadl':
        for (const m of step.messages.slice(0, step.send)) server.receiveMessage(guest(m));
        return;
      case 'raw':
        server.receiveMessage(step.bytes);
        return;
      case 'offer': {
        const id = server.offerChannel({
          interfaceId: GUIDS[step.iface]!,
          instanceId: GUIDS[step.inst]!,
          subchannelIndex: step.sub,
          monitored: step.monitored,
          channelType: step.type,
        });
        if (typeof id === 'number') this.offers.push(id);
        return;
      }
      case 'rescind':
        if (this.offers.length > 0) server.rescindChannel(this.offers[step.pick % this.offers.length]!);
        return;
      case 'open-complete': {
        if (this.opening.length === 0) return;
        const [offerId] = this.opening.splice(step.pick % this.opening.length, 1);
        server.openComplete(offerId!, step.success ? 0 : 0x8000_ffff);
        return;
      }
      case 'unmap': {
        if (this.mappings.length === 0) return;
        const [mapping] = this.mappings.splice(step.pick % this.mappings.length, 1);
        server.unmapGpadl(mapping!);
        return;
      }
      case 'map': {
        const mapping = server.mapGpadl(step.gpadlId, { writable: false });
        if (!(mapping instanceof MemoryError)) this.mappings.push(mapping);
        return;
      }
      case 'hvsock': {
        if (this.hvsock.length === 0) return;
        const [request] = this.hvsock.splice(step.pick % this.hvsock.length, 1);
        const result = step.accept ? server.acceptHvsockConnect(request!) : server.refuseHvsockConnect(request!);
        if (typeof result === 'number') this.offers.push(result);
        return;
      }
      case 'open-created': {
        const gpadl = this.gpadls[step.pick % Math.max(1, this.gpadls.length)];
        if (gpadl === undefined) return;
        server.receiveMessage(
          guest({
            kind: 'OpenChannel',
            channelId: gpadl.channelId,
            openId: step.pick,
            ringBufferGpadlId: gpadl.gpadlId,
            targetVp: step.targetVp,
            downstreamRingBufferPageOffset: step.split,
            userData: new Uint8Array(120),
          }),
        );
        return;
      }
    }
  }

  /** UNLOAD, answer every open still owed, release every mapping; repeat while anything is left. */
  shutDown(): void {
    const { server } = this.env;
    for (let round = 0; round < 4; round++) {
      if (server.snapshot().connection === 'connected') server.receiveMessage(guest({ kind: 'Unload' }));
      for (const offerId of this.opening.splice(0)) server.openComplete(offerId, 0);
      for (const mapping of this.mappings.splice(0)) server.unmapGpadl(mapping);
    }
  }
}

/** Everything the server sent since the last check is a host→guest message of at most 240 bytes. */
function checkOutputs(env: Env): void {
  for (const output of env.notifier.take()) {
    if (output.kind !== 'message') continue;
    const decoded = decodeMessage(output.bytes);
    assert.ok(!(decoded instanceof WireError), `server sent undecodable bytes: ${String(decoded)}`);
    const type = new DataView(output.bytes.buffer).getUint32(0, true);
    assert.equal(messageSpecOfType(type)?.direction, 'host-to-guest');
  }
}

/** Most runs start connected with channels offered, so that the steps reach open channels and GPADLs. */
const preambleArb: fc.Arbitrary<Step[]> = fc
  .record({
    offers: fc.array(fc.record({ iface: fc.integer({ min: 0, max: 1 }), inst: fc.integer({ min: 0, max: 2 }), sub: fc.integer({ min: 0, max: 2 }), monitored: fc.boolean() }), { minLength: 2, maxLength: 6 }),
    version: fc.constantFrom(V.Win8, V.Win8_1, V.Win10, V.Win10Rs3_0, V.Win10Rs5, V.Iron, V.Copper),
    features: fc.nat({ max: 0xff }),
    pages: fc.boolean(),
    connect: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  })
  .map(({ offers, version, features, pages, connect }): Step[] => {
    const steps: Step[] = offers.map((o) => ({ t: 'offer', ...o, type: { kind: 'device' } }));
    if (!connect) return steps;
    const monitor = pages ? 0x1000n : 0n;
    steps.push({
      t: 'guest',
      connectionId: 1,
      message: {
        kind: 'InitiateContact2',
        versionRequested: version,
        targetMessageVp: 0,
        interruptPageOrTargetInfo: version >= V.Win10Rs3_1 ? targetInfo(2, 0, features) : 0n,
        parentToChildMonitorPageGpa: monitor,
        childToParentMonitorPageGpa: monitor,
        clientId: GUIDS[1]!,
      },
    });
    steps.push({ t: 'guest', connectionId: 1, message: { kind: 'RequestOffers' } });
    return steps;
  });

test('a hostile guest never makes the server throw, break an invariant or leak', () => {
  const seed = testSeed('bus server hostile guest');
  fc.assert(
    fc.property(preambleArb, fc.array(stepArb, { minLength: 1, maxLength: 100, size: 'max' }), (preamble, steps) => {
      const env = setup();
      const device = new DeviceModel(env);
      for (const step of [...preamble, ...steps]) {
        device.run(step);
        const problems = env.server.checkInvariants();
        if (problems.length > 0) {
          assert.fail(`${problems.join('; ')} after ${JSON.stringify(step, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`);
        }
        checkOutputs(env);
      }
      device.shutDown();
      assert.deepEqual(env.server.checkInvariants(), []);
      checkOutputs(env);
      const after = env.server.snapshot();
      assert.notEqual(after.connection, 'connected');
      assert.notEqual(after.connection, 'disconnecting');
      assert.deepEqual(after.table, { gpadls: 0, mappings: 0, mappedPages: 0 });
      assert.deepEqual(after.channelIds, []);
      assert.deepEqual(after.monitorIds, []);
      assert.deepEqual(after.gpadlsByState, { 'in-progress': 0, created: 0, 'tearing-down': 0, releasing: 0 });
      assert.equal(after.pendingHvsockRequests, 0);
      assert.equal(after.heldMessages, 0);
    }),
    { seed, numRuns: 200 },
  );
});
