/**
 * A hostile guest against a host IC device over the real buses (one thread,
 * seeded): the guest negotiates properly, then answers every KVP request
 * with a randomly damaged copy of the right answer. Every request the host
 * makes still ends once, with a value or an IcTransactionError, and nothing
 * throws; an honest answer afterwards is taken as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IcGuestChannel } from '../../../src/devices/ic/guest/index.js';
import { IcTransactionError, KvpVsp } from '../../../src/devices/ic/host/index.js';
import { IC_MESSAGE_TYPE, IC_SERVICES, KVP_POOL, KvpMemoryStore, respondKvp } from '../../../src/devices/ic/protocol/index.js';
import { WireError } from '../../../src/wire/index.js';
import { testSeed } from '../../support/seed.js';
import { IcMachine } from './support/ic-machine.js';

/** A damage to an answer: set `count` bytes from `at` to `value`, then keep the first `keep` bytes (0: all). */
interface Damage {
  readonly at: number;
  readonly count: number;
  readonly value: number;
  readonly keep: number;
}

const damage = fc.record({
  // The IC header is bytes 8..27 and the KVP header 28..31 (linux-vmbus.md §A.5.2, §A.5.7): aim there most.
  at: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 2700 })),
  count: fc.integer({ min: 1, max: 4 }),
  value: fc.integer({ min: 0, max: 255 }),
  keep: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2700 })),
});

test('a guest answering with damaged packets never breaks the host: each request ends once, and honest answers still work', async (t) => {
  const seed = testSeed(t.name);
  const damages = fc.sample(damage, { seed, numRuns: 60 });
  const m = new IcMachine(seed);
  const vsp = new KvpVsp({ device: m.hostDeviceObject, timeoutMs: 20 });
  await m.connect();
  const store = new KvpMemoryStore();
  store.set(KVP_POOL.EXTERNAL, 'key', { type: 'string', text: 'value' });
  let next: Damage | undefined;
  const guest = IcGuestChannel.open({
    device: m.device,
    spec: IC_SERVICES.kvp,
    // Negotiations (icmsgtype, the u16 at byte 12: linux-vmbus.md §A.5.2) are answered honestly.
    respond: (request, versions) => {
      const reply = respondKvp(request, { versions, store, autoPool: (key) => key });
      if (reply instanceof WireError || request[12] === IC_MESSAGE_TYPE.NEGOTIATE || next === undefined) return reply;
      const response = reply.response.slice();
      response.fill(next.value, next.at, next.at + next.count);
      return { ...reply, response: next.keep === 0 ? response : response.subarray(0, next.keep) };
    },
  });
  await m.drive(vsp.ic.whenReady());

  const outcomes = new Map<string, number>();
  for (const d of damages) {
    next = d;
    let ended = 0;
    let outcome = '';
    const work = vsp.get(KVP_POOL.EXTERNAL, 'key').then(
      (value) => ((outcome = value === undefined ? 'no value' : 'value'), ended++),
      (error: unknown) => {
        assert.ok(error instanceof IcTransactionError, String(error));
        outcome = error.reason;
        ended++;
      },
    );
    await m.settle();
    // An answer dropped as stale leaves the request to its timeout; the host then negotiates afresh.
    if (ended === 0) await m.advance(25);
    await work;
    assert.equal(ended, 1);
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    next = undefined;
    await m.drive(vsp.ic.whenReady());
  }
  assert.ok((outcomes.get('malformed') ?? 0) > 0, `outcomes: ${JSON.stringify([...outcomes])}`);
  assert.deepEqual(await m.drive(vsp.get(KVP_POOL.EXTERNAL, 'key')), { type: 'string', text: 'value' });
  await m.drive(guest.stop());
  await m.drive(vsp.stop());
});
