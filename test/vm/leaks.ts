/**
 * What every VM test checks once the VM stopped: each guest's bus, client
 * and pages, each host bus and its server, and the hypervisor's connections
 * and monitor ids: nothing is left.
 */
import assert from 'node:assert/strict';
import { HV_STATUS, MONITOR_ID_COUNT } from '../../src/hv/index.js';
import type { Vm, VmStopReport } from '../../src/vm/index.js';
import { VMBUS_MESSAGE_CONNECTION_ID, VMBUS_MESSAGE_CONNECTION_ID_MULTICLIENT } from '../../src/wire/messages/index.js';

/** A guest bus after unload (src/bus/guest-types.ts GuestBusResources): all zero. */
export const GUEST_BUS_RELEASED = { openChannels: 0, pages: 0, routedFlags: 0, pendingRequests: 0, backlog: 0 };
/** A closed host bus whose offers were rescinded (src/bus/host-types.ts HostBusResources): all zero. */
export const HOST_BUS_RELEASED = { offers: 0, channels: 0, routedFlags: 0, guestPorts: 0, messagePorts: 0, backlog: 0 };

export function assertNothingLeft(vm: Vm, report: VmStopReport, exit: 'in-thread' | 'clean'): void {
  assert.deepEqual(report.failures, []);
  assert.equal(report.liveWorkers, 0, 'no worker thread is alive');
  assert.equal(vm.liveWorkers, 0);
  assert.equal(report.guests.length, vm.guests.length);
  for (const guest of report.guests) {
    assert.deepEqual(guest.bus, GUEST_BUS_RELEASED, `guest ${guest.name}: bus`);
    assert.deepEqual(guest.invariants, [], `guest ${guest.name}: client invariants`);
    assert.equal(guest.pagesAllocated, 0, `guest ${guest.name}: every page is free`);
    assert.equal(guest.exit, exit, `guest ${guest.name}: exit`);
  }
  assert.equal(report.host.length, vm.guests.length);
  for (const host of report.host) {
    assert.equal(host.connection, 'disconnected', `host bus of ${host.guest}`);
    assert.deepEqual(host.table, { gpadls: 0, mappings: 0, mappedPages: 0 }, `host bus of ${host.guest}: GPADL table`);
    assert.deepEqual(host.invariants, [], `host bus of ${host.guest}: server invariants`);
    assert.deepEqual(host.resources, HOST_BUS_RELEASED, `host bus of ${host.guest}: ports, routes, offers`);
  }
  for (const guest of vm.guests) {
    const partition = vm.hypervisor.partition(guest.partitionId);
    // Message connections 1 and 4 (linux-vmbus.md §A.3.1) were the host bus's: gone with it.
    for (const connectionId of [VMBUS_MESSAGE_CONNECTION_ID, VMBUS_MESSAGE_CONNECTION_ID_MULTICLIENT]) {
      assert.equal(partition.postMessage(connectionId, 1, new Uint8Array(8)), HV_STATUS.INVALID_CONNECTION_ID, `${guest.name}: connection ${connectionId}`);
    }
    for (let id = 0; id < MONITOR_ID_COUNT; id++) assert.equal(partition.monitor.isAllocated(id), false, `${guest.name}: monitor id ${id}`);
  }
}
