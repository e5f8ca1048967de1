/**
 * A hostile host, at random: sequences of well-formed, misdirected and malformed
 * host messages interleaved with local requests. The client must never throw,
 * must keep its state rules, must end every request it accepted exactly once and
 * complete nothing it did not accept, and must hold nothing after an unload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FIRST_GPADL_ID, VmbusClient } from '../../../src/bus/client/index.js';
import type { ClientEvent, ClientNotifier } from '../../../src/bus/client/index.js';
import { VMBUS_VERSIONS } from '../../../src/wire/messages/index.js';
import { RecordingTrace } from '../../../src/trace/index.js';
import { testSeed } from '../../support/seed.js';
import {
  ALL_OFFERS_DELIVERED,
  HEARTBEAT_IC,
  HEARTBEAT_IC_WIRE,
  KVP_IC,
  KVP_IC_WIRE,
  PAUSE_RESPONSE,
  SHUTDOWN_IC_WIRE,
  UNLOAD_COMPLETE,
  gpadlCreated,
  gpadlTorndown,
  hex,
  modifyChannelResponse,
  offer,
  openResult,
  pagesRange,
  rescind,
  u32,
  u8,
  versionResponse,
  versionResponse2,
} from './harness.js';

// Ids near the ones the client hands out (GPADL ids count up from FIRST_GPADL_ID, open ids from 1), plus edges.
const channelId = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom(2047, 2048, 0xffff_ffff));
const gpadlId = fc.oneof(fc.integer({ min: 0, max: 10 }).map((i) => FIRST_GPADL_ID + i), fc.constantFrom(0, 0xffff_ffff));
const openId = fc.integer({ min: 0, max: 8 });
// 0 success, the host's failure (protocol.rs:31-33), STATUS_CONNECTION_REFUSED.
const status = fc.constantFrom(0, 0, 0x8000_ffff, 0xc000_0236);
const guidWire = fc.constantFrom(HEARTBEAT_IC_WIRE, SHUTDOWN_IC_WIRE, KVP_IC_WIRE);

/** Host→guest messages in their layouts (harness.ts cites each), with plausible and implausible ids. */
const wellFormed: fc.Arbitrary<string> = fc.oneof(
  fc
    .record({
      channelId,
      interfaceWire: guidWire,
      instanceWire: guidWire,
      subchannelIndex: fc.integer({ min: 0, max: 2 }),
      monitorId: fc.constantFrom(0, 127, 128, 0xff),
      monitorAllocated: fc.constantFrom(0, 1),
      // 0x2010: an hvsocket offer (tlnpi_provider | named_pipe_mode).
      flags: fc.constantFrom(0, 0x2010),
    })
    .map(offer),
  channelId.map(rescind),
  fc.constant(ALL_OFFERS_DELIVERED),
  fc.tuple(channelId, openId, status).map(([c, o, s]) => openResult(c, o, s)),
  fc.tuple(channelId, gpadlId, status).map(([c, g, s]) => gpadlCreated(c, g, s)),
  gpadlId.map(gpadlTorndown),
  fc.constant(UNLOAD_COMPLETE),
  fc.constant(PAUSE_RESPONSE),
  fc.tuple(channelId, status).map(([c, s]) => modifyChannelResponse(c, s)),
  fc
    .tuple(fc.constantFrom(0, 1), fc.constantFrom(0, 0, 1), fc.constantFrom(0, 0x1234, 0x100_0000, 0x0003_0000))
    .map(([supported, state, selected]) => versionResponse(supported, state, selected)),
  fc.tuple(fc.constantFrom(0, 0x1234), fc.integer({ min: 0, max: 0xff })).map(([id, features]) => versionResponse2(id, features)),
  // TL_CONNECT_REQUEST_RESULT (23), MODIFY_CONNECTION_RESPONSE (26), CLOSE_RESERVED_RESPONSE (20): openvmm-vmbus.md §6.9.
  fc.tuple(guidWire, guidWire, status).map(([e, s, st]) => `17000000 00000000 ${e} ${s} ${u32(st)}`),
  fc.constantFrom(0, 1, 2).map((state) => `1a000000 00000000 ${u8(state)}`),
  channelId.map((c) => `14000000 00000000 ${u32(c)}`),
);

const fromHost: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: wellFormed.map(hex) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 260 }) },
  // A well-formed message cut short.
  { weight: 1, arbitrary: fc.tuple(wellFormed.map(hex), fc.nat()).map(([b, n]) => b.slice(0, n % (b.length + 1))) },
  // A well-formed body under another type number, guest→host ones included.
  {
    weight: 1,
    arbitrary: fc.tuple(wellFormed.map(hex), fc.integer({ min: 0, max: 31 })).map(([b, type]) => {
      const copy = b.slice();
      new DataView(copy.buffer).setUint32(0, type, true);
      return copy;
    }),
  },
);

/**
 * Local requests. `pick` chooses among what exists (channels, GPADLs the client
 * handed out), so requests reach deep states; one pick in (n + 1) names an id
 * that does not exist.
 */
type Local =
  | { readonly op: 'connect'; readonly versions: number[] | null; readonly featureFlags: number }
  | { readonly op: 'requestOffers' | 'pause' | 'resume' | 'unload' }
  | { readonly op: 'createGpadl'; readonly pick: number; readonly pages: number; readonly split: boolean }
  | { readonly op: 'teardownGpadl'; readonly pick: number }
  | { readonly op: 'openChannel'; readonly pick: number; readonly offset: number; readonly eventFlag: number | null }
  | { readonly op: 'closeChannel' | 'releaseId'; readonly pick: number }
  | { readonly op: 'modifyChannel'; readonly pick: number; readonly targetVp: number }
  | { readonly op: 'tlConnect'; readonly toKvp: boolean }
  | { readonly op: 'modifyConnection'; readonly page: number };

const pick = fc.nat();
// Requests that end the connection or stall it are rarer than the ones that build state.
const local: fc.Arbitrary<Local> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('connect' as const),
      versions: fc.option(fc.subarray([...VMBUS_VERSIONS], { minLength: 1 }), { nil: null }),
      featureFlags: fc.integer({ min: 0, max: 0xff }),
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom('requestOffers' as const, 'pause' as const, 'unload' as const).map((op) => ({ op })) },
  { weight: 2, arbitrary: fc.constant({ op: 'resume' as const }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('createGpadl' as const), pick, pages: fc.integer({ min: 1, max: 60 }), split: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('teardownGpadl' as const), pick }) },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('openChannel' as const),
      pick,
      offset: fc.integer({ min: 0, max: 4 }),
      eventFlag: fc.option(fc.integer({ min: 0, max: 9 }), { nil: null }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('closeChannel' as const, 'releaseId' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('modifyChannel' as const), pick, targetVp: fc.constantFrom(0, 1, 0xffff_ffff) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('tlConnect' as const), toKvp: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('modifyConnection' as const), page: fc.constantFrom(0, 0x1000, 0x1001) }) },
);

/**
 * Host answers built at run time for what the client waits for, and 'stale'
 * ones: a GPADL_CREATED, GPADL_TORNDOWN or OPEN_RESULT repeated for a request
 * that already ended or is in another state.
 */
type Reply = 'progress' | 'stale' | 'offer' | 'gpadl-created' | 'gpadl-torndown' | 'open-result' | 'modify-response' | 'rescind' | 'tl-result' | 'tl-offer';
// Answers that move things forward come more often than rescinds and hvsocket answers.
const reply = fc.record({
  reply: fc.constantFrom<Reply>(
    'progress', 'progress', 'offer', 'offer', 'gpadl-created', 'gpadl-created', 'gpadl-created', 'gpadl-torndown',
    'open-result', 'open-result', 'modify-response', 'rescind', 'tl-result', 'tl-offer', 'stale', 'stale',
  ),
  pick,
  status,
});

type Step = { readonly host: Uint8Array } | { readonly local: Local } | { readonly reply: Reply; readonly pick: number; readonly status: number };
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: fromHost.map((host) => ({ host })) },
  { weight: 3, arbitrary: reply },
  { weight: 4, arbitrary: local.map((l) => ({ local: l })) },
);

/** The picked element, or undefined for the one pick in (n + 1) meant to miss. */
function choose<T>(items: readonly T[], n: number): T | undefined {
  return items[n % (items.length + 1)];
}

/** An id no channel or GPADL has. */
const MISSING = 9999;

/**
 * Requests the client accepted and has not ended, by id; fails on a completion
 * for nothing waiting, on a second completion, and on sends that break the transport rules.
 */
class Ledger implements ClientNotifier {
  /** GPADL id → whether GPADL_CREATED(0) has made it live. */
  readonly gpadls = new Map<number, 'creating' | 'live'>();
  /** Open id → channel id. */
  readonly opens = new Map<number, number>();
  readonly modifies = new Set<number>();
  readonly tlConnects = new Set<string>();
  /** Every GPADL (id → channel) and open (id → channel) ever accepted, for stale answers. */
  readonly pastGpadls = new Map<number, number>();
  readonly pastOpens = new Map<number, number>();
  modifyConnection = false;
  sendMessage(bytes: Uint8Array, connectionId: number): void {
    // A SynIC payload holds 240 bytes; connection ids are 24-bit and not 0 (openvmm-vmbus.md §6.1).
    assert.ok(bytes.length >= 8 && bytes.length <= 240, `sent ${bytes.length} bytes`);
    assert.ok(connectionId > 0 && connectionId <= 0xff_ffff, `sent on connection ${connectionId}`);
  }
  event(e: ClientEvent): void {
    switch (e.kind) {
      case 'gpadl-created':
        assert.equal(this.gpadls.get(e.gpadlId), 'creating', `gpadl-created for ${e.gpadlId}, not waiting`);
        if (e.status === 0) this.gpadls.set(e.gpadlId, 'live');
        else this.gpadls.delete(e.gpadlId);
        break;
      case 'gpadl-torndown':
        assert.equal(this.gpadls.get(e.gpadlId), 'live', `gpadl-torndown for ${e.gpadlId}, not live`);
        this.gpadls.delete(e.gpadlId);
        break;
      case 'open-result':
        assert.ok(this.opens.delete(e.openId), `open-result for open ${e.openId}, not waiting`);
        break;
      case 'modify-channel-result':
        assert.ok(this.modifies.delete(e.channelId), `modify result for channel ${e.channelId}, not waiting`);
        break;
      case 'tl-connect-result':
        assert.ok(this.tlConnects.delete(`${e.endpointId}/${e.serviceId}`), 'tl-connect-result nobody waits for');
        break;
      case 'modify-connection-result':
        assert.ok(this.modifyConnection, 'modify-connection-result nobody waits for');
        this.modifyConnection = false;
        break;
      case 'connected':
      case 'connect-failed':
      case 'offer':
      case 'all-offers-delivered':
      case 'rescinded':
      case 'paused':
      case 'unloaded':
        break;
    }
  }
}

function perform(client: VmbusClient, ledger: Ledger, l: Local): void {
  const channel = (n: number): number => choose(client.channelIds(), n) ?? MISSING;
  // GPADLs the host accepted: the ones open and teardown can succeed with.
  const gpadl = (n: number): number => choose([...ledger.gpadls.keys()].filter((id) => client.gpadl(id)?.state === 'created'), n) ?? MISSING;
  switch (l.op) {
    case 'connect':
      client.connect({ targetMessageVp: 0, featureFlags: l.featureFlags, ...(l.versions === null ? {} : { versions: l.versions }) });
      return;
    case 'requestOffers':
    case 'pause':
    case 'resume':
    case 'unload':
      client[l.op]();
      return;
    case 'createGpadl': {
      const ranges = l.split ? [pagesRange(0x100, l.pages), { byteOffset: 5, byteCount: 100, pfns: [0x900] }] : [pagesRange(0x100, l.pages)];
      const channelId = channel(l.pick);
      const id = client.createGpadl(channelId, ranges);
      if (typeof id === 'number') {
        assert.ok(!ledger.gpadls.has(id), `GPADL id ${id} handed out while alive`);
        ledger.gpadls.set(id, 'creating');
        ledger.pastGpadls.set(id, channelId);
      }
      return;
    }
    case 'teardownGpadl': {
      const id = gpadl(l.pick);
      client.teardownGpadl(client.gpadl(id)?.channelId ?? MISSING, id);
      return;
    }
    case 'openChannel': {
      const ringGpadlId = gpadl(l.pick);
      const channelId = client.gpadl(ringGpadlId)?.channelId ?? MISSING;
      const id = client.openChannel(channelId, {
        ringGpadlId,
        downstreamRingPageOffset: l.offset,
        targetVp: 0,
        ...(l.eventFlag === null ? {} : { eventFlag: l.eventFlag }),
      });
      if (typeof id === 'number') {
        ledger.opens.set(id, channelId);
        ledger.pastOpens.set(id, channelId);
      }
      return;
    }
    case 'closeChannel':
    case 'releaseId':
      client[l.op](channel(l.pick));
      return;
    case 'modifyChannel': {
      const channelId = channel(l.pick);
      // Before 5.3 the result comes during the call, so the ledger entry goes in first.
      const fresh = client.channel(channelId)?.modifyPending === false;
      if (fresh) ledger.modifies.add(channelId);
      if (client.modifyChannel(channelId, l.targetVp) !== undefined && fresh) ledger.modifies.delete(channelId);
      return;
    }
    case 'tlConnect': {
      const [endpointId, serviceId] = l.toKvp ? [HEARTBEAT_IC, KVP_IC] : [KVP_IC, HEARTBEAT_IC];
      if (client.tlConnect({ endpointId, serviceId }) === undefined) ledger.tlConnects.add(`${endpointId}/${serviceId}`);
      return;
    }
    case 'modifyConnection':
      if (client.modifyConnection({ parentToChild: BigInt(l.page), childToParent: BigInt(l.page) }) === undefined) {
        ledger.modifyConnection = true;
      }
      return;
  }
}

/** The host's answer to something the client waits for, in the layouts harness.ts cites. */
function answer(client: VmbusClient, ledger: Ledger, r: { reply: Reply; pick: number; status: number }): string | undefined {
  // The GPADLs in the state the answer is for; the random host messages cover the rest.
  const gpadlIn = (state: string): number | undefined =>
    choose([...ledger.gpadls.keys()].filter((id) => client.gpadl(id)?.state === state), r.pick);
  const tl = choose([...ledger.tlConnects], r.pick)?.split('/');
  switch (r.reply) {
    case 'stale': {
      const gpadl = choose([...ledger.pastGpadls], r.pick);
      const open = choose([...ledger.pastOpens], r.pick);
      if (r.pick % 3 === 0) return gpadl === undefined ? undefined : gpadlCreated(gpadl[1], gpadl[0], r.status);
      if (r.pick % 3 === 1) return gpadl === undefined ? undefined : gpadlTorndown(gpadl[0]);
      return open === undefined ? undefined : openResult(open[1], open[0], r.status);
    }
    case 'progress':
      // Moves a waiting connection on: accept a version, complete an unload or a pause.
      switch (client.phase) {
        case 'connecting':
          return versionResponse2(0x1234, 0xff);
        case 'unloading':
          return UNLOAD_COMPLETE;
        case 'connected':
          return PAUSE_RESPONSE;
        case 'disconnected':
          return undefined;
      }
      break;
    case 'offer': {
      // A new id; the subchannel index keeps devices apart.
      const channelId = (r.pick % 6) + 1;
      return offer({ channelId, subchannelIndex: channelId });
    }
    case 'gpadl-created': {
      const gpadlId = gpadlIn('creating');
      return gpadlId === undefined ? undefined : gpadlCreated(client.gpadl(gpadlId)!.channelId, gpadlId, r.status);
    }
    case 'gpadl-torndown': {
      const gpadlId = gpadlIn('tearing-down');
      return gpadlId === undefined ? undefined : gpadlTorndown(gpadlId);
    }
    case 'open-result': {
      const open = choose([...ledger.opens], r.pick);
      return open === undefined ? undefined : openResult(open[1], open[0], r.status);
    }
    case 'modify-response': {
      const channelId = choose([...ledger.modifies], r.pick);
      return channelId === undefined ? undefined : modifyChannelResponse(channelId, r.status);
    }
    case 'rescind': {
      const channelId = choose(client.channelIds(), r.pick);
      return channelId === undefined ? undefined : rescind(channelId);
    }
    case 'tl-result':
      return tl === undefined ? undefined : `17000000 00000000 ${wireOf(tl[0]!)} ${wireOf(tl[1]!)} ${u32(r.status)}`;
    case 'tl-offer':
      // An hvsocket offer (flags 0x2010) for the pending request: interface = service, instance = endpoint.
      return tl === undefined
        ? undefined
        : offer({ channelId: (r.pick % 6) + 1, interfaceWire: wireOf(tl[1]!), instanceWire: wireOf(tl[0]!), flags: 0x2010 });
  }
}

function wireOf(guid: string): string {
  return guid === KVP_IC ? KVP_IC_WIRE : HEARTBEAT_IC_WIRE;
}

/** Ends the connection whatever state it is in: refuse every version, answer a pause, unload. */
function finish(client: VmbusClient): void {
  for (let round = 0; round < 20 && client.phase !== 'disconnected'; round++) {
    switch (client.phase) {
      case 'connecting':
        client.receive(hex(versionResponse(0, 0, 0)));
        break;
      case 'connected':
        if (client.unload() !== undefined) client.receive(hex(PAUSE_RESPONSE));
        break;
      case 'unloading':
        client.receive(hex(UNLOAD_COMPLETE));
        break;
    }
  }
  assert.equal(client.phase, 'disconnected');
}

test('a hostile host never makes the client throw, break its rules, answer twice or leak', () => {
  const seed = testSeed('bus client: hostile host property');
  fc.assert(
    fc.property(fc.array(step, { maxLength: 200, size: 'max' }), (steps) => {
      const ledger = new Ledger();
      const client = new VmbusClient({ notifier: ledger, trace: new RecordingTrace() });
      // Most runs start connected, so that deep states are reached.
      client.connect({ targetMessageVp: 0 });
      client.receive(hex(versionResponse2(0x1234, 0xff)));
      client.requestOffers();
      for (const s of steps) {
        if ('host' in s) client.receive(s.host);
        else if ('local' in s) perform(client, ledger, s.local);
        else {
          const text = answer(client, ledger, s);
          if (text !== undefined) client.receive(hex(text));
        }
        assert.deepEqual(client.checkInvariants(), []);
      }
      finish(client);
      assert.deepEqual(client.checkInvariants(), []);
      assert.deepEqual(Object.values(client.counts()), [0, 0, 0, 0, 0, 0, 0, 0]);
      // Every request the client accepted has ended.
      assert.deepEqual([ledger.gpadls.size, ledger.opens.size, ledger.modifies.size, ledger.tlConnects.size], [0, 0, 0, 0]);
      assert.equal(ledger.modifyConnection, false);
    }),
    { seed, numRuns: 300 },
  );
});
