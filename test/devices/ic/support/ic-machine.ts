/**
 * Host and guest in one thread under a SeededScheduler (the KMCL machine of
 * the client tests) with a host device object over the host bus, so host IC
 * devices (on the server interface) and guest IC drivers (on the client
 * interface) talk over the real buses. The host devices send on timers of
 * their own, so the machine never runs "until idle": `settle` runs what is
 * due now, and `advance` moves the clock in 1 ms steps, settling after each.
 */
import { KmclHostDeviceObject } from '../../../../src/index.js';
import { KmclMachine } from '../../../kmcl/support/kmcl-machine.js';
import { settle } from '../../../kmcl/support/settle.js';

const MS = 10_000;

export class IcMachine extends KmclMachine {
  readonly hostDeviceObject: KmclHostDeviceObject;

  constructor(seed: number) {
    super(seed);
    this.hostDeviceObject = KmclHostDeviceObject.create({
      bus: this.hostBus,
      guestMemory: this.memory,
      scheduler: this.scheduler,
      name: 'IC host',
    });
  }

  /** Runs the events due now and the promise reactions they release; the clock stays. */
  override settle(): Promise<void> {
    return settle(this.scheduler);
  }

  /** Moves the virtual clock `ms` milliseconds forward, settling after every millisecond. */
  async advance(ms: number): Promise<void> {
    await this.settle();
    for (let i = 0; i < ms; i++) {
      this.scheduler.runUntil(this.scheduler.now() + MS);
      await this.settle();
    }
  }

  /** Milliseconds on the virtual clock. */
  get ms(): number {
    return this.scheduler.now() / MS;
  }
}
