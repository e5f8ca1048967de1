/**
 * The host side of a seeded machine, serviced on demand: save the host bus,
 * close it for servicing, stop the old device instance (its process is gone),
 * restore a new bus from the bytes, offer the same channels with a new device
 * instance and complete the restore. And a driver that runs the machine in
 * random slices, servicing the host between them.
 */
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { HostBus, SavedStateError, type HostBusOptions, type HostChannelHandlers, type HostOfferOptions } from '../../../src/bus/index.js';
import type { SeededRandom } from '../../../src/hv/seeded-random.js';
import type { SeededMachine } from './seeded-machine.js';

/** A device instance the servicing can stop, as the old host process goes away. */
export type ServicedDevice = HostChannelHandlers & { stop(): void };

export class ServicedHost<D extends ServicedDevice> {
  bus: HostBus;
  device: D;
  /** Every device instance, oldest first. */
  readonly devices: D[] = [];
  servicings = 0;
  readonly #machine: SeededMachine;
  readonly #offers: readonly HostOfferOptions[];
  readonly #makeDevice: () => D;

  /** Offers `offers` on the machine's host bus with a first device instance. */
  constructor(machine: SeededMachine, offers: readonly HostOfferOptions[], makeDevice: () => D) {
    this.#machine = machine;
    this.#offers = offers;
    this.#makeDevice = makeDevice;
    this.bus = machine.hostBus;
    this.device = this.#newDevice();
    for (const offer of offers) this.bus.offerChannel(offer, this.device);
  }

  /** The options the machine's host bus was made with. */
  get options(): HostBusOptions {
    const m = this.#machine;
    return { host: m.host, guest: m.guest, guestMemory: m.memory, scheduler: m.scheduler, trace: m.trace };
  }

  /** Replaces the host side; `makeDevice` gives the new instance (default: the constructor's). */
  service(makeDevice: () => D = this.#makeDevice): void {
    const saved = this.bus.save();
    this.bus.close({ servicing: true });
    this.device.stop();
    const restored = HostBus.restore(this.options, saved);
    assert.ok(!(restored instanceof SavedStateError), restored instanceof SavedStateError ? restored.message : '');
    this.bus = restored;
    this.device = this.#newDevice(makeDevice);
    for (const offer of this.#offers) this.bus.offerChannel(offer, this.device);
    this.bus.completeRestore();
    this.servicings++;
  }

  #newDevice(makeDevice: () => D = this.#makeDevice): D {
    const device = makeDevice();
    this.devices.push(device);
    return device;
  }
}

/**
 * Runs the machine until `work` settles, in slices of 1..maxSlice scheduler
 * steps; after each slice, with `percent` chance, services the host.
 */
export async function driveWithServicing<T>(
  machine: SeededMachine,
  work: Promise<T>,
  random: SeededRandom,
  service: () => void,
  { percent = 10, maxSlice = 30 }: { percent?: number; maxSlice?: number } = {},
): Promise<T> {
  let settled = false;
  work.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let idleTurns = 0; !settled; ) {
    let steps = 0;
    const slice = 1 + random.nextBelow(maxSlice);
    while (steps < slice && machine.scheduler.step()) steps++;
    await nextTurn();
    if (!settled && random.nextBelow(100) < percent) service();
    idleTurns = steps === 0 ? idleTurns + 1 : 0;
    if (idleTurns > 20) throw new Error('the machine is idle and the awaited work never settled');
  }
  return work;
}
