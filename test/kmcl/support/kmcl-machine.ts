/**
 * End-to-end setting for the KMCL: a host and a guest partition in one
 * thread under a SeededScheduler, the real bus drivers (HostBus, GuestBus),
 * the KMCL VMBus device object over the guest bus, and a host device the test
 * scripts (it accepts or refuses opens and hands the test each channel's
 * host endpoint). Same seed, same run.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { GuestBus, HostBus, type ChannelEndpoint, type HostChannelHandlers, type HostOpenRequest } from '../../../src/bus/index.js';
import { SeededScheduler, createHypervisor, type Hypervisor, type Partition } from '../../../src/hv/index.js';
import { GuestMemory, PageAllocator } from '../../../src/memory/index.js';
import { NTSTATUS, type NtStatus } from '../../../src/wire/ntstatus.js';
import { KmclDeviceObject, type GuestBusPort, type KmclScheduler } from '../../../src/kmcl/index.js';
import type { HostPacket } from './harness.js';

/** The test's host device: records opens and closes, keeps the host endpoints. */
export class ScriptedDevice implements HostChannelHandlers {
  openStatus: NtStatus = NTSTATUS.STATUS_SUCCESS;
  readonly opened: HostOpenRequest[] = [];
  readonly closed: number[] = [];
  readonly endpoints = new Map<number, ChannelEndpoint>();
  readonly gpadls: [number, number][] = [];

  open(request: HostOpenRequest): NtStatus {
    this.opened.push(request);
    if (this.openStatus === NTSTATUS.STATUS_SUCCESS) this.endpoints.set(request.channelId, request.endpoint);
    return this.openStatus;
  }

  close(channelId: number): void {
    this.closed.push(channelId);
  }

  gpadlCreated(channelId: number, gpadlId: number): void {
    this.gpadls.push([channelId, gpadlId]);
  }
}

export class KmclMachine {
  readonly scheduler: SeededScheduler;
  readonly hv: Hypervisor;
  readonly host: Partition;
  readonly guest: Partition;
  readonly memory: GuestMemory;
  readonly allocator: PageAllocator;
  readonly hostBus: HostBus;
  readonly hostDevice = new ScriptedDevice();
  guestBus!: GuestBus;
  device!: KmclDeviceObject;

  constructor(seed: number) {
    this.scheduler = new SeededScheduler(seed);
    this.hv = createHypervisor({ partitions: [{ id: 0, vpCount: 1 }, { id: 1, vpCount: 2 }] }, this.scheduler);
    this.host = this.hv.partition(0);
    this.guest = this.hv.partition(1);
    this.memory = new GuestMemory(1024);
    this.allocator = new PageAllocator(this.memory);
    this.hostBus = HostBus.create({ host: this.host, guest: this.guest, guestMemory: this.memory, scheduler: this.scheduler });
  }

  /**
   * Connects the guest bus (offers made so far are delivered) and makes the
   * KMCL VMBus device object over it, on the machine's scheduler unless
   * `scheduler` stands in for it (a test clock, say).
   */
  async connect(scheduler: KmclScheduler = this.scheduler): Promise<KmclDeviceObject> {
    this.guestBus = await this.drive(
      GuestBus.connect({ partition: this.guest, memory: this.memory, allocator: this.allocator, scheduler: this.scheduler }),
    );
    // The guest bus is the KMCL's bus port as is.
    const port: GuestBusPort = this.guestBus;
    this.device = KmclDeviceObject.createVmbus({
      bus: port,
      memory: this.memory,
      allocator: this.allocator,
      scheduler,
      monitor: this.guest.monitor,
    });
    return this.device;
  }

  /** Runs everything (moving the virtual clock through timers too) until nothing is left. */
  async settle(): Promise<void> {
    for (let idle = 0; idle < 3; ) {
      await nextTurn();
      idle = this.scheduler.runUntilIdle() === 0 ? idle + 1 : 0;
    }
  }

  /** Settles until `work` settles; throws if it never does. */
  async drive<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const tracked = work.finally(() => {
      done = true;
    });
    await this.settle();
    if (!done) throw new Error(`stuck: the awaited work never settled (seed ${this.scheduler.seed})`);
    return tracked;
  }
}

/** The host takes every packet from its incoming ring, then unmasks so the guest signals the next one. */
export function hostDrain(endpoint: ChannelEndpoint): HostPacket[] {
  const packets: HostPacket[] = [];
  const reader = endpoint.reader;
  for (;;) {
    while (reader.tryRead()) {
      const view = reader.packet;
      packets.push({
        type: view.packetType,
        flags: view.flags,
        transactionIdLo: view.transactionIdLo,
        transactionIdHi: view.transactionIdHi,
        bytes: view.packetBytes.slice(),
        payload: view.payload.slice(),
      });
    }
    if (reader.commit()) endpoint.signalPeer();
    if (reader.unmaskInterruptsIfEmpty()) return packets;
  }
}
