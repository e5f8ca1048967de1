/**
 * The leak check every e2e scenario ends with, once the guest has unloaded:
 * nothing held by the server (channel ids, GPADLs, mappings), the client,
 * either bus, the guest's page allocator or the hypervisor.
 */
import assert from 'node:assert/strict';
import type { GuestBus } from '../../../src/bus/index.js';
import { HV_STATUS } from '../../../src/hv/index.js';
import { channelConnectionId } from '../../../src/wire/messages/index.js';
import type { SeededMachine } from './seeded-machine.js';

export async function assertNothingLeaked(machine: SeededMachine, bus: GuestBus, channelIds: readonly number[]): Promise<void> {
  await machine.quiesce();
  const { hostBus, allocator, guest } = machine;
  assert.deepEqual(hostBus.checkInvariants(), [], 'server invariants');
  assert.deepEqual(bus.checkInvariants(), [], 'client invariants');
  const snapshot = hostBus.snapshot();
  assert.equal(snapshot.connection, 'disconnected');
  assert.deepEqual(snapshot.channelIds, [], 'no channel id is held');
  assert.deepEqual(snapshot.monitorIds, [], 'no monitor id is held');
  assert.deepEqual(snapshot.table, { gpadls: 0, mappings: 0, mappedPages: 0 }, 'the GPADL table is empty');
  const counts = bus.clientCounts();
  assert.deepEqual([counts.channels, counts.gpadls, counts.pendingGpadls, counts.pendingOpens], [0, 0, 0, 0], 'client records');
  assert.deepEqual(bus.resources(), { openChannels: 0, pages: 0, routedFlags: 0, pendingRequests: 0, backlog: 0 });
  assert.equal(allocator.allocatedPageCount, 0, 'every guest page is free');
  const hostHeld = hostBus.resources();
  assert.deepEqual([hostHeld.channels, hostHeld.routedFlags, hostHeld.backlog], [0, 0, 0], 'host channels, routes, backlog');
  for (const channelId of channelIds) {
    assert.equal(guest.signalEvent(channelConnectionId(channelId)), HV_STATUS.INVALID_CONNECTION_ID, `channel ${channelId} connection`);
  }
  hostBus.close();
  const closed = { offers: hostHeld.offers, channels: 0, routedFlags: 0, guestPorts: 0, messagePorts: 0, backlog: 0 };
  assert.deepEqual(hostBus.resources(), closed);
  assert.equal(guest.postMessage(1, 1, new Uint8Array(8)), HV_STATUS.INVALID_CONNECTION_ID, 'message connection 1');
  assert.equal(guest.postMessage(4, 1, new Uint8Array(8)), HV_STATUS.INVALID_CONNECTION_ID, 'message connection 4');
  for (let id = 0; id < 128; id++) assert.equal(guest.monitor.isAllocated(id), false, `monitor id ${id}`);
  machine.hv.close();
}
