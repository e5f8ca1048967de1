/**
 * The demo's guest (a createVm guest module: the same file runs in the VM's
 * thread or in the guest's worker). It loads the four integration-component
 * drivers, each binding its channel by class GUID as the host offers it, and
 * the example checksum driver; it tells the VM's owner what the time sync
 * driver measured, what failed, and when it acted on the host's shutdown
 * request: it answers it, unloads its drivers, then says 'shutdown' (the VM's
 * owner powers it off by stopping the VM, which unloads the bus).
 *
 * Events (VmGuestEvent kinds): 'time-sample' (GuestTimeSample), 'shutdown'
 * (GuestShutdown), 'failure' (GuestFailure), and the example's 'checksum-done'.
 */
import checksumDriver from '../../examples/checksum/guest-driver.js';
import { HeartbeatVsc, KvpVsc, ShutdownVsc, TimeSyncVsc, type IcGuestCounters, type ShutdownRequest } from '../devices/index.js';
import type { GuestContext, Teardown } from '../vm/index.js';
import type { WireError } from '../wire/wire-error.js';
import { GuestClock, demoWallClock, filetimeToIso, type DemoClockSource } from './demo-clocks.js';

/** What the demo hands its guest (`GuestSpec.data`). */
export interface DemoGuestData {
  readonly clock: DemoClockSource;
}

/** A time sync message the guest took in: the host's time and how far the guest's clock was from it. */
export interface GuestTimeSample {
  readonly kind: string;
  /** The host's clock the message carried, ISO 8601. */
  readonly hostTime: string;
  /** Host clock minus guest clock, 100 ns units (positive: the guest was behind). */
  readonly offset: number;
  /** True when the message was a SYNC and the guest set its clock by it. */
  readonly clockSet: boolean;
}

/** The host's shutdown request, as the guest acts on it. */
export interface GuestShutdown {
  readonly kind: string;
  readonly message: string;
}

/** A driver that failed, or a message it answered with a failure status, refused, or could not answer. */
export interface GuestFailure {
  readonly device: string;
  /** The WireError code of a bad message, or null. */
  readonly code: string | null;
  readonly message: string;
}

export default function demoGuest(context: GuestContext): Teardown {
  const { device } = context;
  const data = context.data as DemoGuestData;
  const report = (failure: GuestFailure): void => context.emit('failure', failure);
  const failed = (device: string) => (error: WireError) => report({ device, code: error.code, message: error.message });
  const clock = new GuestClock(demoWallClock(data.clock, device.context.scheduler));

  const heartbeat = new HeartbeatVsc({ device, onFailure: failed('heartbeat') });
  const shutdown = new ShutdownVsc({
    device,
    // The answer is in the ring; act on it later, outside the driver's callback: unload, then power off.
    onShutdown: (request) => device.context.scheduler.schedule(() => void powerOff(request), 0),
    onFailure: failed('shutdown'),
  });
  const timeSync = new TimeSyncVsc({
    device,
    clocks: { guestTime: () => clock.now() },
    onSample: ({ adjustment, offset }) => {
      const clockSet = adjustment.kind === 'sync';
      if (clockSet) clock.adjust(offset);
      const sample: GuestTimeSample = { kind: adjustment.kind, hostTime: filetimeToIso(adjustment.hostTime), offset: Number(offset), clockSet };
      context.emit('time-sample', sample);
    },
    onFailure: failed('timeSync'),
  });
  const kvp = new KvpVsc({ device, onFailure: failed('kvp') });
  const drivers: readonly { readonly name: string; readonly counters: IcGuestCounters; stop(): Promise<void> }[] = [
    { name: 'heartbeat', counters: heartbeat.ic.counters, stop: () => heartbeat.stop() },
    { name: 'shutdown', counters: shutdown.ic.counters, stop: () => shutdown.stop() },
    { name: 'timeSync', counters: timeSync.ic.counters, stop: () => timeSync.stop() },
    { name: 'kvp', counters: kvp.ic.counters, stop: () => kvp.stop() },
  ];
  // The example driver talks to its device as it starts; the VM's boot does not wait for it ('checksum-done' tells).
  const example = checksumDriver(context).catch((error: unknown) => {
    report({ device: 'checksum', code: null, message: messageOf(error) });
    return null;
  });

  let unloading: Promise<void> | null = null;
  /** Stops every driver, once: at the host's shutdown request or at the VM's stop, whichever comes first. */
  const unloadDrivers = (): Promise<void> =>
    (unloading ??= (async () => {
      await (await example)?.();
      for (const driver of drivers) {
        await driver.stop();
        // Failed and refused answers were reported as they happened; an answer never sent was not.
        const { unsent } = driver.counters;
        if (unsent > 0) report({ device: driver.name, code: null, message: `${unsent} answers could not be sent` });
      }
    })());
  const powerOff = (request: ShutdownRequest): Promise<void> =>
    unloadDrivers().then(
      () => context.emit('shutdown', { kind: request.kind, message: request.message } satisfies GuestShutdown),
      (error: unknown) => report({ device: 'shutdown', code: null, message: `unloading the drivers: ${messageOf(error)}` }),
    );
  return unloadDrivers;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
