/**
 * KVP end to end in one thread (seeded): the host device's get / set /
 * delete / enumerate promises against the guest driver's pools, one
 * transaction on the wire at a time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { KvpVsc, KVP_INTEGRATION_SERVICES_VERSION } from '../../../src/devices/ic/guest/index.js';
import { IcTransactionError, KvpVsp } from '../../../src/devices/ic/host/index.js';
import { IC_STATUS, KVP_AUTO_POOL_KEYS, KVP_POOL, KvpMemoryStore } from '../../../src/devices/ic/protocol/index.js';
import { testSeed } from '../../support/seed.js';
import { IcMachine } from './support/ic-machine.js';

async function setup(seed: number): Promise<{ m: IcMachine; vsp: KvpVsp; vsc: KvpVsc }> {
  const m = new IcMachine(seed);
  const vsp = new KvpVsp({ device: m.hostDeviceObject });
  await m.connect();
  const store = new KvpMemoryStore();
  store.set(KVP_POOL.GUEST, 'GuestKey', { type: 'string', text: 'from the guest' });
  const vsc = new KvpVsc({ device: m.device, store });
  await m.drive(vsp.ic.whenReady());
  return { m, vsp, vsc };
}

test('KVP: set, get, delete and enumerate on the pools, with UTF-16 keys and REG_SZ, U32 and U64 values', async (t) => {
  const { m, vsp, vsc } = await setup(testSeed(t.name));
  // Guest 4.0, 3.0, 1.0 against OpenVMM's 3.0, 4.0, 5.0 (linux-vmbus.md §A.5.7): 4.0.
  assert.deepEqual(vsp.ic.versions?.message, { major: 4, minor: 0 });
  const ext = KVP_POOL.EXTERNAL;
  await m.drive(vsp.set(ext, 'Ω key', { type: 'string', text: 'välue 🚀' }));
  await m.drive(vsp.set(ext, 'dword', { type: 'u32', value: 0xffff_ffff }));
  await m.drive(vsp.set(ext, 'qword', { type: 'u64', value: 0x1234_5678_9abc_def0n }));
  assert.deepEqual(vsc.store.get(ext, 'dword'), { type: 'u32', value: 0xffff_ffff }, 'the guest holds what the host set');
  assert.deepEqual(await m.drive(vsp.get(ext, 'Ω key')), { type: 'string', text: 'välue 🚀' });
  assert.equal(await m.drive(vsp.get(ext, 'nope')), undefined, 'no such key');
  assert.deepEqual(await m.drive(vsp.enumerate(ext, 2)), { key: 'qword', value: { type: 'u64', value: 0x1234_5678_9abc_def0n } });
  assert.equal(await m.drive(vsp.enumerate(ext, 3)), undefined, 'past the end: no more items');
  assert.equal(await m.drive(vsp.delete(ext, 'dword')), true);
  assert.equal(await m.drive(vsp.delete(ext, 'dword')), false, 'gone already');
  assert.deepEqual(
    (await m.drive(vsp.enumerateAll(ext))).map((e) => e.key),
    ['Ω key', 'qword'],
  );
  assert.deepEqual(await m.drive(vsp.enumerateAll(KVP_POOL.GUEST)), [{ key: 'GuestKey', value: { type: 'string', text: 'from the guest' } }]);
  assert.deepEqual(await m.drive(vsp.enumerateAll(KVP_POOL.AUTO_EXTERNAL)), [], 'an empty pool ends at index 0');
  await m.drive(vsc.stop());
  await m.drive(vsp.stop());
});

test('KVP: requests issued together go out one at a time and each gets its own answer', async (t) => {
  const { m, vsp, vsc } = await setup(testSeed(t.name));
  const keys = ['a', 'b', 'c', 'd', 'e'];
  const sets = keys.map((key, i) => vsp.set(KVP_POOL.EXTERNAL, key, { type: 'u32', value: i }));
  assert.equal(vsp.ic.pending, 5, 'one on the wire, four waiting');
  await m.drive(Promise.all(sets));
  const gets = keys.map((key) => vsp.get(KVP_POOL.EXTERNAL, key));
  assert.deepEqual(await m.drive(Promise.all(gets)), keys.map((_, i) => ({ type: 'u32', value: i })));
  assert.equal(vsc.ic.counters.answered, 1 + 10, 'the negotiation and ten transactions');
  await m.drive(vsc.stop());
  await m.drive(vsp.stop());
});

test('KVP: the AUTO pool answers from the os module of the running process and is read-only', async (t) => {
  const { m, vsp, vsc } = await setup(testSeed(t.name));
  const auto = await m.drive(vsp.enumerateAll(KVP_POOL.AUTO));
  // Index → key name: L include/uapi/linux/hyperv.h:213-223 (linux-vmbus.md §A.5.7); every value REG_SZ.
  assert.deepEqual(auto.map((e) => e.key), [...KVP_AUTO_POOL_KEYS]);
  const text = new Map(auto.map((e) => [e.key, e.value.type === 'string' ? e.value.text : undefined]));
  assert.equal(text.get('FullyQualifiedDomainName'), os.hostname());
  assert.equal(text.get('IntegrationServicesVersion'), KVP_INTEGRATION_SERVICES_VERSION);
  assert.equal(text.get('OSName'), os.type());
  assert.equal(text.get('OSVersion'), os.version());
  assert.equal(text.get('ProcessorArchitecture'), os.machine());
  assert.deepEqual(await m.drive(vsp.get(KVP_POOL.AUTO, 'OSBuildNumber')), { type: 'string', text: os.release() });
  const refused = await m.drive(vsp.set(KVP_POOL.AUTO, 'OSName', { type: 'string', text: 'x' }).then(() => undefined, (e: unknown) => e));
  assert.ok(refused instanceof IcTransactionError);
  assert.equal(refused.reason, 'guest-status');
  assert.equal(refused.status, IC_STATUS.HV_ERROR_NOT_SUPPORTED);
  await m.drive(vsc.stop());
  await m.drive(vsp.stop());
});
