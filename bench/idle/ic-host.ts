/**
 * The host side of the four integration components for the `idle`
 * benchmark (a createVm host module): heartbeat, shutdown, time sync and KVP
 * offered on a host device object of the guest's bus. Heartbeat and time
 * sync send on their own timers: 'silent' spaces them an hour apart (each
 * still sends once right after negotiating, before the measured window),
 * 'hyper-v' keeps their default intervals (2 s and 5 s).
 */
import { HeartbeatVsp, KvpVsp, ShutdownVsp, TimeSyncVsp, type IcServiceName } from '../../src/devices/index.js';
import { KmclHostDeviceObject } from '../../src/index.js';
import type { HostModule, Teardown } from '../../src/vm/index.js';

export type IcTimers = 'silent' | 'hyper-v';

/** An hour: no periodic message falls in a window of a few seconds. */
const SILENT_INTERVAL_MS = 3_600_000;

export interface IcHostOptions {
  readonly timers: IcTimers;
  readonly onNegotiated: (service: IcServiceName) => void;
  readonly onFailure: (message: string) => void;
}

/** The host module: the four integration components, offered to every guest. */
export function icHost(options: IcHostOptions): HostModule {
  return (context): Teardown => {
    const device = KmclHostDeviceObject.create({ bus: context.bus, guestMemory: context.guestMemory, scheduler: context.scheduler, name: `ICs of ${context.guestName}` });
    const interval = options.timers === 'silent' ? { intervalMs: SILENT_INTERVAL_MS } : {};
    const negotiation = (service: IcServiceName) => ({
      onNegotiated: () => options.onNegotiated(service),
      onNegotiationFailed: (error: Error) => options.onFailure(`${service}: version negotiation failed: ${error.message}`),
    });
    const failed = (service: IcServiceName) => (error: Error) => options.onFailure(`${service}: ${error.message}`);
    const devices = [
      new HeartbeatVsp({ device, ...interval, ...negotiation('heartbeat'), onFailure: failed('heartbeat'), onMissed: (n) => options.onFailure(`heartbeat ${n} missed`) }),
      new ShutdownVsp({ device, ...negotiation('shutdown') }),
      new TimeSyncVsp({ device, ...interval, ...negotiation('timeSync'), onFailure: failed('timeSync') }),
      new KvpVsp({ device, ...negotiation('kvp') }),
    ];
    return async () => {
      await Promise.all(devices.map((vsp) => vsp.stop()));
    };
  };
}
