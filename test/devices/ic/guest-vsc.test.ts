/**
 * Each guest IC driver over the real buses in one thread (seeded), against a
 * host the test scripts with the protocol's host requesters: negotiation
 * first, then the service's own transactions, answered in place.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { HeartbeatVsc } from '../../../src/devices/ic/guest/heartbeat-vsc.js';
import { ShutdownVsc } from '../../../src/devices/ic/guest/shutdown-vsc.js';
import { TimeSyncVsc, type TimeSyncSample } from '../../../src/devices/ic/guest/timesync-vsc.js';
import { KvpVsc } from '../../../src/devices/ic/guest/kvp-vsc.js';
import { IC_MAXIMUM_PACKET_SIZE, IC_RING_PAGE_COUNT } from '../../../src/devices/ic/guest/ic-channel.js';
import {
  HEARTBEAT_APPLICATION_STATE,
  HEARTBEAT_HOST,
  IC_SERVICES,
  IC_STATUS,
  IcHostSession,
  KVP_AUTO_POOL_KEYS,
  KVP_HOST,
  KVP_POOL,
  SHUTDOWN_HOST,
  TIME_SYNC_HOST,
  type IcHostReceipt,
  type IcHostService,
  type IcRequestRefused,
  type ShutdownRequest,
} from '../../../src/devices/ic/protocol/index.js';
import type { WireError } from '../../../src/wire/index.js';
import { testSeed } from '../../support/seed.js';
import { ScriptedIcHost } from './support/scripted-ic-host.js';

function bytes(packet: Uint8Array | WireError | IcRequestRefused): Uint8Array {
  assert.ok(packet instanceof Uint8Array, String(packet));
  return packet;
}

/** The host negotiates with its default offer and returns the session, ready. */
async function negotiated<Req, Res>(host: ScriptedIcHost, service: IcHostService<Req, Res>): Promise<IcHostSession<Req, Res>> {
  const session = new IcHostSession(service);
  const receipt = session.receive(await host.exchange(bytes(session.negotiate())));
  assert.equal(receipt.kind, 'negotiated');
  return session;
}

async function transact<Req, Res>(host: ScriptedIcHost, session: IcHostSession<Req, Res>, request: Req): Promise<IcHostReceipt<Req, Res>> {
  return session.receive(await host.exchange(bytes(session.request(request))));
}

test('the IC channel opens 16 KiB rings each way and carries the largest request such a ring holds', () => {
  // 4 pages = control page + 3 data pages = VMBUS_RING_SIZE(3 * 4096) of Linux (linux-vmbus.md §A.5.1);
  // a packet is a 16-byte descriptor, the payload and an 8-byte trailer, and a writer keeps 8 bytes free (§A.1).
  assert.equal(IC_RING_PAGE_COUNT * 4096, 16 * 1024);
  assert.equal(16 + IC_MAXIMUM_PACKET_SIZE + 8 + 8, 3 * 4096);
});

test('heartbeat: the guest answers each beat with the sequence number plus one and its application state', async (t) => {
  const host = await ScriptedIcHost.create(testSeed(t.name), IC_SERVICES.heartbeat);
  const beats: bigint[] = [];
  const vsc = new HeartbeatVsc({ device: host.m.device, onBeat: (beat) => beats.push(beat.sequenceNumber) });
  await host.m.settle();
  assert.equal(vsc.ic.state, 'open');
  assert.equal(host.m.hostDevice.opened[0]!.channelId, host.offer.channelId, 'it opened the heartbeat offer');
  const session = await negotiated(host, HEARTBEAT_HOST);
  // Guest preference 3.0 first (linux-vmbus.md §A.5.3-4), offered by the host: framework 3.0, heartbeat 3.0.
  assert.deepEqual(vsc.ic.versions, { framework: { major: 3, minor: 0 }, message: { major: 3, minor: 0 } });
  assert.deepEqual(session.versions, vsc.ic.versions);

  assert.deepEqual(await transact(host, session, { sequenceNumber: 41n }), {
    kind: 'response',
    request: { sequenceNumber: 41n },
    result: { ok: true, sequenceNumber: 42n, applicationState: HEARTBEAT_APPLICATION_STATE.HEALTHY },
  });
  vsc.applicationState = HEARTBEAT_APPLICATION_STATE.CRITICAL;
  const wrapped = await transact(host, session, { sequenceNumber: 0xffff_ffff_ffff_ffffn });
  assert.deepEqual(wrapped.kind === 'response' && wrapped.result, { ok: true, sequenceNumber: 0n, applicationState: HEARTBEAT_APPLICATION_STATE.CRITICAL });
  assert.deepEqual(beats, [42n, 0n]);
  assert.deepEqual(vsc.ic.counters, { answered: 3, failed: 0, refused: 0, unsent: 0 });
  await host.m.drive(vsc.stop());
  assert.equal(vsc.ic.state, 'stopped');
  assert.deepEqual(host.m.hostDevice.closed, [host.offer.channelId]);
});

test('shutdown: the answer is in the host ring before the handler acts; a refused request is answered and not acted on', async (t) => {
  const host = await ScriptedIcHost.create(testSeed(t.name), IC_SERVICES.shutdown);
  const acted: { request: ShutdownRequest; answersInRing: Uint8Array[] }[] = [];
  const vsc = new ShutdownVsc({
    device: host.m.device,
    // Like Linux without hibernation support: hibernate is refused with HV_E_FAIL (linux-vmbus.md §A.5.5).
    decide: (request) => (request.kind === 'hibernate' ? IC_STATUS.HV_E_FAIL : IC_STATUS.HV_S_OK),
    // The handler reads the host's ring when it runs: the answer must already be there.
    onShutdown: (request) => acted.push({ request, answersInRing: host.receive() }),
  });
  await host.m.settle();
  const session = await negotiated(host, SHUTDOWN_HOST);
  // Guest preference 3.2, 3.1, 3.0, 1.0 (linux-vmbus.md §A.5.5); the host offers all four: 3.2.
  assert.deepEqual(session.versions?.message, { major: 3, minor: 2 });

  const restart = { kind: 'restart', force: true, reasonCode: 0x8000_0000, timeoutSeconds: 30, message: 'Rebooting — patch' } as const;
  host.send(bytes(session.request(restart)));
  await host.m.settle();
  assert.equal(acted.length, 1);
  assert.deepEqual(acted[0]!.request, restart);
  assert.equal(acted[0]!.answersInRing.length, 1, 'the answer was in the ring when the handler ran');
  assert.deepEqual(session.receive(acted[0]!.answersInRing[0]!), { kind: 'response', request: restart, result: { ok: true } });

  const hibernate = await transact(host, session, { kind: 'hibernate', force: false });
  assert.deepEqual(hibernate.kind === 'response' && hibernate.result, { ok: false, status: IC_STATUS.HV_E_FAIL });
  assert.equal(acted.length, 1, 'a refused request is not acted on');
  await host.m.drive(vsc.stop());
});

test('time sync v4: the guest keeps the host sample and computes its clock offset from the reference counter', async (t) => {
  const host = await ScriptedIcHost.create(testSeed(t.name), IC_SERVICES.timeSync);
  let reference = 1_000n;
  let guestClock = 133_485_408_000_000_000n; // 2024-01-01T00:00:00Z as FILETIME (100 ns since 1601)
  const samples: TimeSyncSample[] = [];
  const vsc = new TimeSyncVsc({
    device: host.m.device,
    clocks: { referenceTime: () => reference, guestTime: () => guestClock },
    onSample: (sample) => samples.push(sample),
  });
  await host.m.settle();
  const session = await negotiated(host, TIME_SYNC_HOST);
  // The host offers 4.0 only (O hyperv_ic/src/timesync.rs:31); the guest takes it: the v4 reference form.
  assert.deepEqual(vsc.ic.versions?.message, { major: 4, minor: 0 });
  assert.equal(vsc.lastSample, undefined);
  assert.equal(vsc.clockOffset(), undefined);

  // The host sampled its clock at guest reference time 400, 5 s ahead of the guest's clock; 600 units passed since.
  const hostTime = guestClock + 50_000_000n - 600n;
  const sync = await transact(host, session, { kind: 'sync', parentTime: hostTime, vmReferenceTime: 400n });
  assert.deepEqual(sync.kind === 'response' && sync.result, { ok: true });
  assert.equal(samples.length, 1);
  assert.equal(samples[0]!.adjustment.kind, 'sync');
  assert.equal(samples[0]!.offset, 50_000_000n, 'host minus guest, with the elapsed reference time added');
  assert.equal(vsc.hostTimeNow(), hostTime + 600n);
  reference += 10n;
  guestClock += 10n;
  assert.equal(vsc.clockOffset(), 50_000_000n, 'both clocks moved alike: same offset');

  await transact(host, session, { kind: 'sample', parentTime: guestClock - 20n, vmReferenceTime: reference });
  assert.equal(vsc.lastSample!.adjustment.kind, 'sample');
  assert.equal(vsc.lastSample!.offset, -20n, 'a guest ahead of the host has a negative offset');
  await host.m.drive(vsc.stop());
});

test('time sync v3: a host offering 3.0 only gets the legacy form, stamped with the reference time of arrival', async (t) => {
  const host = await ScriptedIcHost.create(testSeed(t.name), IC_SERVICES.timeSync);
  const vsc = new TimeSyncVsc({ device: host.m.device, clocks: { referenceTime: () => 7_000n, guestTime: () => 1_000_000n } });
  await host.m.settle();
  const v3 = { framework: [{ major: 3, minor: 0 }], message: [{ major: 3, minor: 0 }] };
  const session = new IcHostSession(TIME_SYNC_HOST, v3);
  assert.equal(session.receive(await host.exchange(bytes(session.negotiate()))).kind, 'negotiated');
  assert.deepEqual(vsc.ic.versions?.message, { major: 3, minor: 0 });
  const answer = await host.exchange(bytes(session.request({ kind: 'sample', parentTime: 1_000_300n, vmReferenceTime: 0n })));
  // v1/v3 body: 28 bytes (O timesync.rs:30-45) after the 28 header bytes (linux-vmbus.md §A.5.6).
  assert.equal(new DataView(answer.buffer, answer.byteOffset).getUint16(18, true), 28, 'icmsgsize of the legacy body');
  assert.equal(vsc.lastSample!.adjustment.message.form, 'legacy');
  assert.equal(vsc.lastSample!.adjustment.referenceTime, 7_000n);
  assert.equal(vsc.lastSample!.offset, 300n);
  await host.m.drive(vsc.stop());
});

test('KVP: SET, GET, ENUMERATE and DELETE on the guest\'s pools: UTF-16 keys and values, REG_SZ, U32 and U64', async (t) => {
  const host = await ScriptedIcHost.create(testSeed(t.name), IC_SERVICES.kvp);
  const vsc = new KvpVsc({ device: host.m.device });
  await host.m.settle();
  const session = await negotiated(host, KVP_HOST);
  // Guest 4.0, 3.0, 1.0 against OpenVMM's 3.0, 4.0, 5.0 (linux-vmbus.md §A.5.7): 4.0.
  assert.deepEqual(session.versions?.message, { major: 4, minor: 0 });
  const ext = KVP_POOL.EXTERNAL;
  const run = (request: Parameters<typeof session.request>[0]): Promise<unknown> =>
    transact(host, session, request).then((r) => (r.kind === 'response' ? r.result : r));

  assert.deepEqual(await run({ op: 'set', pool: ext, key: 'Ünïcode 🔑', value: { type: 'string', text: 'välue 🚀' } }), { kind: 'done' });
  assert.deepEqual(await run({ op: 'set', pool: ext, key: 'count', value: { type: 'u32', value: 0xdead_beef } }), { kind: 'done' });
  assert.deepEqual(await run({ op: 'set', pool: ext, key: 'big', value: { type: 'u64', value: 0xffff_ffff_ffff_fffen } }), { kind: 'done' });
  // A new negotiation (the host reset its side) restarts the guest's protocol run; the store stays.
  const fresh = await negotiated(host, KVP_HOST);
  const get = (key: string): Promise<unknown> => transact(host, fresh, { op: 'get', pool: ext, key }).then((r) => r.kind === 'response' && r.result);
  assert.deepEqual(await get('Ünïcode 🔑'), { kind: 'value', key: 'Ünïcode 🔑', value: { type: 'string', text: 'välue 🚀' } });
  assert.deepEqual(await get('count'), { kind: 'value', key: 'count', value: { type: 'u32', value: 0xdead_beef } });
  assert.deepEqual(await get('missing'), { kind: 'no-more-items' }, 'no such key: HV_S_CONT');
  const listed: unknown[] = [];
  for (let index = 0; ; index++) {
    const r = await transact(host, fresh, { op: 'enumerate', pool: ext, index });
    assert.equal(r.kind, 'response');
    if (r.kind !== 'response' || r.result.kind !== 'value') {
      assert.deepEqual(r.kind === 'response' && r.result, { kind: 'no-more-items' }, 'the enumeration ends with HV_S_CONT');
      break;
    }
    listed.push([r.result.key, r.result.value]);
  }
  assert.deepEqual(listed, [
    ['Ünïcode 🔑', { type: 'string', text: 'välue 🚀' }],
    ['count', { type: 'u32', value: 0xdead_beef }],
    ['big', { type: 'u64', value: 0xffff_ffff_ffff_fffen }],
  ]);
  const deleted = await transact(host, fresh, { op: 'delete', pool: ext, key: 'count' });
  assert.deepEqual(deleted.kind === 'response' && deleted.result, { kind: 'done' });
  assert.equal(vsc.store.get(ext, 'count'), undefined);
  assert.deepEqual(await get('count'), { kind: 'no-more-items' });
  await host.m.drive(vsc.stop());
});

test('KVP: the AUTO pool enumerates the running process\'s facts from the os module, then no more items', async (t) => {
  const host = await ScriptedIcHost.create(testSeed(t.name), IC_SERVICES.kvp);
  const vsc = new KvpVsc({ device: host.m.device });
  await host.m.settle();
  const session = await negotiated(host, KVP_HOST);
  const auto: Record<string, unknown> = {};
  for (let index = 0; index <= KVP_AUTO_POOL_KEYS.length; index++) {
    const r = await transact(host, session, { op: 'enumerate', pool: KVP_POOL.AUTO, index });
    assert.equal(r.kind, 'response');
    if (r.kind === 'response' && r.result.kind === 'value') auto[r.result.key] = r.result.value.type === 'string' && r.result.value.text;
    else assert.deepEqual(r.kind === 'response' && r.result, { kind: 'no-more-items' });
  }
  // Index -> key: L include/uapi/linux/hyperv.h:213-223 (linux-vmbus.md §A.5.7).
  assert.deepEqual(Object.keys(auto), [...KVP_AUTO_POOL_KEYS]);
  assert.equal(auto['FullyQualifiedDomainName'], os.hostname());
  assert.equal(auto['OSName'], os.type());
  assert.equal(auto['OSBuildNumber'], os.release());
  assert.equal(auto['OSVersion'], os.version());
  assert.equal(auto['ProcessorArchitecture'], os.machine());
  assert.equal(auto['OSMajorVersion'], /^\d+/.exec(os.release())?.[0]);
  const set = await transact(host, session, { op: 'set', pool: KVP_POOL.AUTO, key: 'OSName', value: { type: 'string', text: 'x' } });
  assert.deepEqual(set.kind === 'response' && set.result, { kind: 'failed', status: IC_STATUS.HV_ERROR_NOT_SUPPORTED }, 'the AUTO pool is read-only');
  await host.m.drive(vsc.stop());
});
