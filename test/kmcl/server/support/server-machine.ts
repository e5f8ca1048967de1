/**
 * The server interface's test setting: the KMCL machine of the client tests
 * (host and guest partitions in one thread under a SeededScheduler, the real
 * HostBus and GuestBus) plus a host device object over its HostBus, the
 * server interface table queried on it, and helpers a VSP test needs.
 */
import assert from 'node:assert/strict';
import { GuestBus, type HostBus } from '../../../../src/bus/index.js';
import {
  KMCL_SERVER_INTERFACE_TYPE,
  KmclHostDeviceObject,
  NTSTATUS,
  SIZEOF_KMCL_SERVER_INTERFACE_V5,
  VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT,
  channelFrom,
  queryInterface,
  type KMCL_SERVER_INTERFACE,
  type KMCL_SERVER_INTERFACE_V5,
  type HostBusPort,
  type KmclChannel,
  type Out,
  type VMBCHANNEL,
  type VMBPACKETCOMPLETION,
} from '../../../../src/index.js';
import { KmclMachine } from '../../support/kmcl-machine.js';

/** A device class of these tests (any GUID; no protocol behind it). */
export const VSP_INTERFACE = '8f6c1a2e-4b3d-4c5e-9f7a-0b1c2d3e4f50';
export const VSP_INSTANCE = '1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6';

export interface ServerMachineOptions {
  /** The host device object's release timeout (100 ns units). */
  readonly releaseTimeout?: number;
  /** What the host device object uses for a bus: the machine's HostBus, or a stand-in around it. */
  readonly bus?: (hostBus: HostBus) => HostBusPort;
}

/** A KmclMachine with a host device object and the server table (V5) queried on it. */
export class ServerMachine extends KmclMachine {
  readonly hostDeviceObject: KmclHostDeviceObject;
  readonly kmcl: KMCL_SERVER_INTERFACE_V5;

  constructor(seed: number, options: ServerMachineOptions = {}) {
    super(seed);
    this.hostDeviceObject = KmclHostDeviceObject.create({
      bus: options.bus?.(this.hostBus) ?? this.hostBus,
      guestMemory: this.memory,
      scheduler: this.scheduler,
      name: 'VSP host',
      ...(options.releaseTimeout === undefined ? {} : { releaseTimeout: options.releaseTimeout }),
    });
    const box: Out<KMCL_SERVER_INTERFACE | null> = { value: null };
    assert.equal(queryInterface(this.hostDeviceObject, KMCL_SERVER_INTERFACE_TYPE, box, SIZEOF_KMCL_SERVER_INTERFACE_V5, 5), NTSTATUS.STATUS_SUCCESS);
    this.kmcl = box.value as KMCL_SERVER_INTERFACE_V5;
  }

  /** A guest bus alone: no KMCL device object, so nothing releases a rescinded channel unless the test does. */
  async connectBareGuest(): Promise<GuestBus> {
    this.guestBus = await this.drive(
      GuestBus.connect({ partition: this.guest, memory: this.memory, allocator: this.allocator, scheduler: this.scheduler }),
    );
    return this.guestBus;
  }

  /**
   * A server channel on the host device object, offered as VSP_INTERFACE /
   * VSP_INSTANCE unless `configure` says otherwise, with `driver`'s
   * callbacks; enabled and started when `enable` is not false.
   */
  serverChannel(driver: VspDriver, configure?: (channel: VMBCHANNEL) => void, enable = true): VMBCHANNEL {
    const box: Out<VMBCHANNEL | null> = { value: null };
    assert.equal(this.kmcl.VmbChannelAllocate(this.hostDeviceObject, true, box), NTSTATUS.STATUS_SUCCESS);
    const channel = box.value!;
    assert.equal(this.kmcl.VmbServerChannelInitSetTargetInterfaceId(channel, VSP_INTERFACE, VSP_INSTANCE), NTSTATUS.STATUS_SUCCESS);
    driver.install(this.kmcl, channel);
    configure?.(channel);
    if (enable) {
      assert.equal(this.kmcl.VmbChannelEnable(channel), NTSTATUS.STATUS_SUCCESS);
      assert.equal(this.kmcl.VmbChannelStart(channel), NTSTATUS.STATUS_SUCCESS);
    }
    return channel;
  }
}

/** One packet the VSP was given. */
export interface VspDelivered {
  readonly packet: VMBPACKETCOMPLETION;
  readonly bytes: Uint8Array;
}

/** A VSP written against the server table: records state callbacks and packets, completes them (echoing) unless `hold`. */
export class VspDriver {
  readonly events: string[] = [];
  readonly delivered: VspDelivered[] = [];
  /** Delivered while `hold`, not completed yet. */
  readonly held: VspDelivered[] = [];
  hold = false;
  openedStatus: number = NTSTATUS.STATUS_SUCCESS;
  /** Runs inside EvtChannelClosed (to unmap GPADLs, say). */
  onClosed: (() => void) | null = null;
  #kmcl: KMCL_SERVER_INTERFACE_V5 | null = null;

  install(kmcl: KMCL_SERVER_INTERFACE_V5, channel: VMBCHANNEL): void {
    this.#kmcl = kmcl;
    const callbacks = VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT();
    callbacks.EvtChannelOpened = () => {
      this.events.push('opened');
      return this.openedStatus;
    };
    callbacks.EvtChannelStarted = () => void this.events.push('started');
    callbacks.EvtChannelPostStarted = () => void this.events.push('post-started');
    callbacks.EvtChannelSuspend = () => void this.events.push('suspend');
    callbacks.EvtChannelClosed = () => {
      this.events.push('closed');
      this.onClosed?.();
    };
    assert.equal(kmcl.VmbChannelInitSetStateChangeCallbacks(channel, callbacks), NTSTATUS.STATUS_SUCCESS);
    const status = kmcl.VmbChannelInitSetProcessPacketCallbacks(
      channel,
      (_channel, packet, buffer, length) => {
        const delivered = { packet, bytes: buffer.slice(0, length) };
        this.delivered.push(delivered);
        if (this.hold) this.held.push(delivered);
        else kmcl.VmbChannelPacketComplete(packet, delivered.bytes, length);
      },
      null,
    );
    assert.equal(status, NTSTATUS.STATUS_SUCCESS);
  }

  /** Completes every held packet, echoing its bytes. */
  completeAll(): void {
    for (const { packet, bytes } of this.held.splice(0)) this.#kmcl?.VmbChannelPacketComplete(packet, bytes, bytes.length);
  }
}

export function core(channel: VMBCHANNEL): KmclChannel {
  return channelFrom(channel)!;
}
