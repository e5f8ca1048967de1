/**
 * Any arguments, valid handles: every member of the V5 table answers with a
 * status (or its "nothing" value), never a throw, whatever the other
 * parameters hold, on a channel that is open and carrying packets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as K from '../../src/index.js';
import { clientInterfaceMembers } from '../../src/index.js';
import { Mdl } from '../../src/memory/index.js';
import { testSeed } from '../support/seed.js';
import { hostSend, makeHarness, openChannel } from './support/harness.js';
import { settle } from './support/settle.js';

const members = clientInterfaceMembers(5);

function argument(handles: unknown[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.anything(),
    fc.constantFrom(...handles),
    fc.integer({ min: -2, max: 0x1_0000_0002 }),
    fc.uint8Array({ maxLength: 64 }),
    fc.record({ value: fc.anything() }),
    fc.record({ QuadPart: fc.oneof(fc.integer(), fc.bigInt()) }),
    fc.constant(Mdl.fromPfns([3], 5, 100)),
    fc.constant(() => undefined),
    fc.constant(K.VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT()),
  );
}

test('no member throws, whatever its arguments', async (t) => {
  const seed = testSeed(t.name);
  const h = makeHarness(seed);
  const { channel, host, driver } = await openChannel(h);
  driver.hold = true;
  hostSend(host, new Uint8Array(8), { completion: true });
  await settle(h.scheduler);
  const handles = [channel, K.VmbPacketAllocate(channel), driver.delivered[0]!.packet, h.device, h.device.children()[0]];
  const functions = K as unknown as Record<string, (...args: unknown[]) => unknown>;
  const answers = (result: unknown): boolean => result === null || typeof result === 'number' || typeof result === 'object';
  // The pointer getters give back whatever a SetPointer call stored: any value.
  const anyValue = new Set(['VmbChannelGetPointer', 'VmbPacketGetPointer']);
  const lateAnswers: [string, unknown][] = [];
  fc.assert(
    fc.property(fc.constantFrom(...members), fc.array(argument(handles), { maxLength: 8 }), (name, args) => {
      const result = functions[name]!(...args);
      // A call that waits in C returns a Promise; it may wait for ever (a request nobody answers), so it is not awaited here.
      if (result instanceof Promise) result.then((late) => void (answers(late) || lateAnswers.push([name, late])));
      else if (!anyValue.has(name) && !answers(result)) throw new Error(`${name} answered ${String(result)}`);
    }),
    { seed, numRuns: 2000 },
  );
  await settle(h.scheduler);
  assert.deepEqual(lateAnswers, []);
});
