/**
 * The guest of the `idle` benchmark (a createVm guest module, in its worker):
 * the four integration-component drivers, the echo VSC with its channels
 * open and silent (its go word is never set), and the meter that reports
 * this thread's CPU over the measured window.
 */
import { HeartbeatVsc, KvpVsc, ShutdownVsc, TimeSyncVsc } from '../../src/devices/index.js';
import type { GuestContext, Teardown } from '../../src/vm/index.js';
import type { WireError } from '../../src/wire/wire-error.js';
import type { EchoVscData } from '../scale/echo-device.js';
import { startEchoVsc } from '../scale/echo-vsc.js';
import { meterIdleWindow } from './idle-meter.js';

/** The event a driver's failure is reported with; its detail is the message. */
export const IC_FAILURE = 'ic-failure';

export interface IdleGuestData {
  readonly echo: EchoVscData;
  readonly meter: Int32Array;
}

export default async function idleGuest(context: GuestContext): Promise<Teardown> {
  const { device } = context;
  const data = context.data as IdleGuestData;
  const failed = (service: string) => (error: WireError) => context.emit(IC_FAILURE, `${service}: ${error.message}`);
  const drivers = [
    new HeartbeatVsc({ device, onFailure: failed('heartbeat') }),
    new ShutdownVsc({ device, onShutdown: () => context.emit(IC_FAILURE, 'shutdown: the host asked for one'), onFailure: failed('shutdown') }),
    new TimeSyncVsc({ device, onFailure: failed('timeSync') }),
    new KvpVsc({ device, onFailure: failed('kvp') }),
  ];
  const stopEcho = await startEchoVsc(context, data.echo);
  void meterIdleWindow(context, data.meter);
  return async () => {
    await stopEcho();
    await Promise.all(drivers.map((driver) => driver.stop()));
  };
}
