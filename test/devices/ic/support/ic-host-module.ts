/**
 * The host module of the IC VM tests: for each guest, a host device object
 * over the guest's host bus and the four IC host devices on it (the server
 * interface), kept in a map by guest name for the test to drive.
 */
import { KmclHostDeviceObject } from '../../../../src/index.js';
import { HeartbeatVsp, KvpVsp, ShutdownVsp, TimeSyncVsp, type HeartbeatReport } from '../../../../src/devices/ic/host/index.js';
import { filetimeFromUnixNs } from '../../../../src/devices/ic/protocol/index.js';
import type { HostContext, Teardown } from '../../../../src/vm/index.js';

export interface IcHostDevices {
  readonly heartbeat: HeartbeatVsp;
  readonly shutdown: ShutdownVsp;
  readonly timeSync: TimeSyncVsp;
  readonly kvp: KvpVsp;
  readonly beats: HeartbeatReport[];
  /** Resolves once `count` beats were answered. */
  beatsReached(count: number): Promise<void>;
}

export interface IcHostModuleOptions {
  readonly heartbeatIntervalMs: number;
  readonly timeSyncIntervalMs: number;
  /** How far the host's wall clock is set ahead of the real one, in ms. */
  readonly hostAheadMs: number;
}

/** 1 s, not the default 10: the guest has unloaded when the VM stops the host modules, so the rescinds end at once. */
const RELEASE_TIMEOUT = 10_000_000;

export function icHostModule(found: Map<string, IcHostDevices>, options: IcHostModuleOptions): (context: HostContext) => Teardown {
  return (context) => {
    const device = KmclHostDeviceObject.create({
      bus: context.bus,
      guestMemory: context.guestMemory,
      scheduler: context.scheduler,
      name: `IC host of ${context.guestName}`,
      releaseTimeout: RELEASE_TIMEOUT,
    });
    const beats: HeartbeatReport[] = [];
    const waiters: { count: number; resolve: () => void }[] = [];
    const heartbeat = new HeartbeatVsp({
      device,
      intervalMs: options.heartbeatIntervalMs,
      onBeat: (beat) => {
        beats.push(beat);
        for (const waiter of waiters.filter((w) => w.count <= beats.length)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      },
    });
    const ahead = BigInt(options.hostAheadMs) * 10_000n;
    const timeSync = new TimeSyncVsp({
      device,
      intervalMs: options.timeSyncIntervalMs,
      clocks: { hostTime: () => filetimeFromUnixNs(BigInt(Date.now()) * 1_000_000n) + ahead },
    });
    const devices: IcHostDevices = {
      heartbeat,
      shutdown: new ShutdownVsp({ device }),
      timeSync,
      kvp: new KvpVsp({ device }),
      beats,
      beatsReached: (count) => (beats.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    };
    found.set(context.guestName, devices);
    return async () => {
      await Promise.all([devices.heartbeat.stop(), devices.shutdown.stop(), devices.timeSync.stop(), devices.kvp.stop()]);
    };
  };
}
