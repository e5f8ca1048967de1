/**
 * Version negotiation end to end: with the host capped at each version from
 * 0.13 to 6.0, the guest (which tries newest first) falls back to exactly that
 * version, posts on the connection ids the version calls for, and can open,
 * use, close and unload a channel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VMBUS_VERSION, VMBUS_VERSIONS, formatVersion } from '../../../src/wire/messages/index.js';
import { testSeed } from '../../support/seed.js';
import { EchoDevice } from './echo-device.js';
import { echoExchange } from './echo-exchange.js';
import { SeededMachine } from './seeded-machine.js';

/** A message connection id the host names in VERSION_RESPONSE from 5.0 (any 24-bit id but 1 and 4 would do). */
const SERVER_MESSAGE_CONNECTION_ID = 0x37;

test('the guest negotiates every version from 0.13 to 6.0 with a capped host and follows its connection-id rules', async (t) => {
  const seed = testSeed(t.name);
  for (const version of VMBUS_VERSIONS) {
    await t.test(`host capped at ${formatVersion(version)}`, async () => {
      const machine = new SeededMachine(seed, { host: { maxVersion: version, messageConnectionId: SERVER_MESSAGE_CONNECTION_ID } });
      const device = new EchoDevice();
      const ids = { interfaceId: 'c1a2b3d4-0000-4000-8000-000000000001', instanceId: 'c1a2b3d4-0000-4000-8000-000000000002' };
      machine.hostBus.offerChannel(ids, device);
      const bus = await machine.connectGuest({ vp: 1 });
      assert.equal(bus.version, version);
      assert.equal(machine.hostBus.version, version);

      // The guest tried every newer version first, newest first; the host refused each (openvmm-vmbus.md §6.8).
      const refused = machine.trace.events
        .filter((e) => e.source === 'server' && e.kind === 'message-rejected')
        .map((e) => e.detail?.['version']);
      const newer = VMBUS_VERSIONS.filter((v) => v > version).reverse();
      assert.deepEqual(refused, newer);

      // INITIATE_CONTACT goes to connection id 4 from 5.0 and to 1 before; later messages to the id the
      // host chose from 5.0, to 1 before (linux-vmbus.md §A.3.1, openvmm-vmbus.md §6.1).
      const multiclient = version >= VMBUS_VERSION.Win10Rs3_1;
      const received = machine.trace.events.filter((e) => e.source === 'host-bus' && e.kind === 'message-received');
      const contacts = received.filter((e) => e.detail?.['message'] === 'INITIATE_CONTACT');
      assert.equal(contacts.length, newer.length + 1);
      const accepted = contacts[contacts.length - 1]!;
      assert.equal(accepted.detail?.['connectionId'], multiclient ? 4 : 1);
      const later = received.filter((e) => e.detail?.['message'] !== 'INITIATE_CONTACT').map((e) => e.detail?.['connectionId']);
      assert.ok(later.length > 0);
      assert.deepEqual(new Set(later), new Set([multiclient ? SERVER_MESSAGE_CONNECTION_ID : 1]));
      assert.equal(bus.messageConnectionId, multiclient ? SERVER_MESSAGE_CONNECTION_ID : 1);

      // The host answers on the guest's message VP from 3.0; before, target_message_vp is not honoured (VP 0).
      const answeredVps = machine.trace.events
        .filter((e) => e.source === 'host-bus' && e.kind === 'message-sent' && e.detail?.['message'] === 'OFFER_CHANNEL')
        .map((e) => e.detail?.['vp']);
      assert.deepEqual(answeredVps, [version >= VMBUS_VERSION.Win8_1 ? 1 : 0]);

      const [offer] = bus.offers();
      assert.ok(offer);
      const channel = await machine.drive(bus.openChannel(offer.channelId, { outgoingRingPages: 3, incomingRingPages: 3 }));
      const result = await machine.drive(echoExchange(channel, 16));
      assert.deepEqual(result.mismatches, 0);
      await machine.drive(channel.close());
      await machine.drive(bus.unload());
      await machine.quiesce();
      // Before Win7 there is no UNLOAD_COMPLETE: the guest is done when UNLOAD is sent (openvmm-vmbus.md §2.1).
      const unloadComplete = machine.trace.events.some((e) => e.source === 'host-bus' && e.detail?.['message'] === 'UNLOAD_COMPLETE');
      assert.equal(unloadComplete, version >= VMBUS_VERSION.Win7);
      assert.equal(machine.allocator.allocatedPageCount, 0);
      assert.equal(machine.hostBus.snapshot().connection, 'disconnected');
      assert.deepEqual(machine.hostBus.checkInvariants(), []);
      assert.deepEqual(bus.checkInvariants(), []);
      machine.hostBus.close();
      machine.hv.close();
    });
  }
});
