/**
 * Shutdown end to end in one thread (seeded): `requestShutdown` on the host
 * device resolves with the status the guest driver answered, and the guest's
 * handler acts only after answering.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShutdownVsc } from '../../../src/devices/ic/guest/index.js';
import { IcTransactionError, ShutdownVsp } from '../../../src/devices/ic/host/index.js';
import { IC_STATUS, SHTDN_REASON_FLAG_PLANNED, type ShutdownRequest } from '../../../src/devices/ic/protocol/index.js';
import { testSeed } from '../../support/seed.js';
import { IcMachine } from './support/ic-machine.js';

async function rejection(work: Promise<unknown>): Promise<IcTransactionError> {
  const error: unknown = await work.then(() => assert.fail('expected a rejection'), (e: unknown) => e);
  assert.ok(error instanceof IcTransactionError, String(error));
  return error;
}

test('shutdown: requestShutdown resolves with the guest\'s status; the guest\'s handler gets reason, flags and message', async (t) => {
  const m = new IcMachine(testSeed(t.name));
  const vsp = new ShutdownVsp({ device: m.hostDeviceObject });
  await m.connect();
  assert.equal((await rejection(vsp.requestShutdown())).reason, 'closed', 'no guest has opened the channel yet');

  const acted: ShutdownRequest[] = [];
  const vsc = new ShutdownVsc({
    device: m.device,
    // A guest that cannot hibernate refuses it with HV_E_FAIL (linux-vmbus.md §A.5.5).
    decide: (request) => (request.kind === 'hibernate' ? IC_STATUS.HV_E_FAIL : IC_STATUS.HV_S_OK),
    onShutdown: (request) => acted.push(request),
  });
  await m.drive(vsp.ic.whenReady());
  // Guest preference 3.2 first; OpenVMM's host offers 1.0 … 3.2 (linux-vmbus.md §A.5.5).
  assert.deepEqual(vsp.ic.versions?.message, { major: 3, minor: 2 });

  const restart = vsp.requestShutdown({ reason: 0x8000_0002, flags: { restart: true, force: true }, message: 'Patch Tuesday 🛠', timeoutSeconds: 60 });
  assert.equal(await m.drive(restart), IC_STATUS.HV_S_OK);
  // That the handler runs only once the answer is in the ring: guest-vsc.test.ts, where the host reads its ring from inside it.
  assert.deepEqual(acted, [{ kind: 'restart', force: true, reasonCode: 0x8000_0002, timeoutSeconds: 60, message: 'Patch Tuesday 🛠' }]);

  assert.equal(await m.drive(vsp.requestShutdown({ flags: { hibernate: true } })), IC_STATUS.HV_E_FAIL, 'the guest\'s refusal');
  assert.equal(acted.length, 1, 'a refused request is not acted on');
  assert.equal(await m.drive(vsp.requestShutdown()), IC_STATUS.HV_S_OK);
  assert.deepEqual(acted[1], { kind: 'power-off', force: false, reasonCode: SHTDN_REASON_FLAG_PLANNED, timeoutSeconds: 0, message: '' });

  assert.equal((await rejection(vsp.requestShutdown({ flags: { restart: true, hibernate: true } }))).reason, 'bad-request');
  assert.equal((await rejection(vsp.requestShutdown({ reason: -1 }))).reason, 'bad-request', 'a reason code that is no u32');
  await m.drive(vsc.stop());
  await m.drive(vsp.stop());
});
