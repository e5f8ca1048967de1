/**
 * Programs one given monitor id of a guest's monitored notifications.
 *
 * The server picks a channel's monitor id when it sends the offer, and the
 * guest triggers exactly that id (linux-vmbus.md §A.1.3: bit `monitorid % 32`
 * of trigger group `monitorid / 32`); the host must then make the hypervisor
 * turn that id into the channel's signal, as OpenVMM registers the monitor of
 * a channel with its connection id when the channel opens. The simulated
 * hypervisor's `MonitoredNotifications` hands out the lowest free id, so a
 * given id is taken by allocating up to it and giving back the ids below it,
 * which were free before and are free again after.
 */
import type { MonitoredNotifications, MonitorParameter } from '../hv/index.js';

/** Takes `monitorId` for `parameter` with `latency100ns`; false if it is taken or out of range. */
export function claimMonitorId(
  monitor: MonitoredNotifications,
  monitorId: number,
  parameter: MonitorParameter,
  latency100ns: number,
): boolean {
  if (monitor.isAllocated(monitorId)) return false;
  const below: number[] = [];
  let taken = monitor.allocate(parameter, latency100ns);
  while (taken !== undefined && taken < monitorId) {
    below.push(taken);
    taken = monitor.allocate(parameter, latency100ns);
  }
  for (const id of below) monitor.release(id);
  if (taken === monitorId) return true;
  if (taken !== undefined) monitor.release(taken);
  return false;
}
