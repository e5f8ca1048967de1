/**
 * The guest's VMBus on the idiomatic API: the VMBus device object of the
 * KMCL core, the offers on it, and the channels and guest buffers a driver
 * makes on it.
 */
import { KmclDeviceObject, type VmbusDeviceObjectOptions } from '../device-object.js';
import type { OfferInfo } from '../bus-port.js';
import { Channel } from './channel.js';
import type { ChannelOptions } from './channel-options.js';
import { GuestBuffer } from './guest-buffer.js';

export class Vmbus {
  /** The VMBus device object (query the KMCL interface tables on it to mix both surfaces). */
  readonly device: KmclDeviceObject;

  /** The idiomatic API over an existing VMBus device object (or any of its children). */
  constructor(device: KmclDeviceObject) {
    this.device = device.vmbusDevice;
  }

  /** A VMBus device object over a connected guest bus (createVmbusDeviceObject), wrapped. */
  static create(options: VmbusDeviceObjectOptions): Vmbus {
    return new Vmbus(KmclDeviceObject.createVmbus(options));
  }

  /** The offers present now, in offer order. */
  offers(): OfferInfo[] {
    return this.device.children().map((child) => child.offer!);
  }

  /** A closed channel configured with `options` (KmclError with the first init setter's failure). */
  createChannel(options: ChannelOptions): Channel {
    return new Channel(this.device, options);
  }

  /** `createChannel` then `open()`; a channel that fails to open is disposed and the error rethrown. */
  async openChannel(options: ChannelOptions): Promise<Channel> {
    const channel = this.createChannel(options);
    try {
      await channel.open();
    } catch (error) {
      await channel.dispose();
      throw error;
    }
    return channel;
  }

  /** Contiguous guest pages to share with the host (see GuestBuffer); free it when the host is done. */
  allocateBuffer(byteCount: number): GuestBuffer {
    return GuestBuffer.allocate(this.device.context, byteCount);
  }

  /** Stops following the bus's offers (the VMBus device is going away). */
  [Symbol.dispose](): void {
    this.device.detach();
  }
}
