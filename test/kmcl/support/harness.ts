/**
 * A guest for KMCL tests: a seeded scheduler, guest memory and its page
 * allocator, the loopback bus, and the VMBus device object over them; plus
 * what the host side (the test, playing the peer) does with a channel's rings.
 */
import { SeededScheduler } from '../../../src/hv/index.js';
import { GuestMemory, PageAllocator } from '../../../src/memory/index.js';
import type { RingPacketView } from '../../../src/ring/index.js';
import { PACKET_FLAG_COMPLETION_REQUESTED } from '../../../src/wire/packet-descriptor.js';
import { PACKET_TYPE } from '../../../src/wire/packet-types.js';
import { NTSTATUS } from '../../../src/wire/ntstatus.js';
import {
  KmclDeviceObject,
  VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT,
  VmbChannelAllocate,
  VmbChannelEnable,
  VmbChannelInitSetProcessPacketCallbacks,
  VmbChannelInitSetStateChangeCallbacks,
  VmbChannelPacketComplete,
  channelFrom,
  type ChannelEndpoint,
  type KmclChannel,
  type OfferInfo,
  type Out,
  type VMBCHANNEL,
  type VMBPACKETCOMPLETION,
} from '../../../src/kmcl/index.js';
import { LoopbackBus, type LoopbackEndpoint } from './loopback-bus.js';
import { settle } from './settle.js';

/** A device class of the tests (any GUID; no protocol behind it). */
export const TEST_INTERFACE = '3375baf4-9e15-4b30-b765-67acb10d607b';
export const TEST_INSTANCE = '0a0e63d1-08b3-4d47-8fd1-6b0a39e3e93c';
export const OTHER_INSTANCE = 'c6a3c1c4-5d4e-4c3b-9a8b-7f6e5d4c3b2a';

export interface Harness {
  readonly scheduler: SeededScheduler;
  readonly memory: GuestMemory;
  readonly allocator: PageAllocator;
  readonly bus: LoopbackBus;
  readonly device: KmclDeviceObject;
}

export function makeHarness(seed = 1): Harness {
  const scheduler = new SeededScheduler(seed);
  const memory = new GuestMemory(512);
  const allocator = new PageAllocator(memory);
  const bus = new LoopbackBus(scheduler);
  const device = KmclDeviceObject.createVmbus({ bus, memory, allocator, scheduler });
  return { scheduler, memory, allocator, bus, device };
}

/** A fresh disabled channel on `parent` (the VMBus device by default). */
export function allocate(h: Harness, parent: KmclDeviceObject = h.device): VMBCHANNEL {
  const box: Out<VMBCHANNEL | null> = { value: null };
  const status = VmbChannelAllocate(parent, false, box);
  if (status !== NTSTATUS.STATUS_SUCCESS || box.value === null) throw new Error(`allocate failed: 0x${status.toString(16)}`);
  return box.value;
}

export function core(channel: VMBCHANNEL): KmclChannel {
  return channelFrom(channel)!;
}

/** One packet the driver was given. */
export interface Delivered {
  readonly packet: VMBPACKETCOMPLETION;
  readonly bytes: Uint8Array;
  readonly flags: number;
}

/** A driver that records state callbacks and packets (completing them at once unless `hold`). */
export class RecordingDriver {
  readonly events: string[] = [];
  readonly delivered: Delivered[] = [];
  readonly batches: number[] = [];
  hold = false;
  openedStatus: number = NTSTATUS.STATUS_SUCCESS;

  install(channel: VMBCHANNEL): void {
    const callbacks = VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT();
    callbacks.EvtChannelOpened = () => {
      this.events.push('opened');
      return this.openedStatus;
    };
    callbacks.EvtChannelStarted = () => void this.events.push('started');
    callbacks.EvtChannelPostStarted = () => void this.events.push('post-started');
    callbacks.EvtChannelSuspend = () => void this.events.push('suspend');
    callbacks.EvtChannelClosed = () => void this.events.push('closed');
    VmbChannelInitSetStateChangeCallbacks(channel, callbacks);
    VmbChannelInitSetProcessPacketCallbacks(
      channel,
      (_channel, packet, buffer, length, flags) => {
        this.delivered.push({ packet, bytes: buffer.slice(0, length), flags });
        if (!this.hold) VmbChannelPacketComplete(packet, null, 0);
      },
      (_channel, count) => void this.batches.push(count),
    );
  }

  /** Completes every held packet with an empty completion. */
  completeAll(): void {
    for (const { packet } of this.delivered) VmbChannelPacketComplete(packet, null, 0);
  }
}

export interface OpenChannel {
  readonly channel: VMBCHANNEL;
  readonly host: LoopbackEndpoint;
  readonly offer: OfferInfo;
  readonly driver: RecordingDriver;
}

/**
 * Offers TEST_INTERFACE, allocates a channel targeting it, lets `configure`
 * set it up, enables it and settles: the channel is open and started.
 */
export async function openChannel(h: Harness, configure?: (channel: VMBCHANNEL, driver: RecordingDriver) => void): Promise<OpenChannel> {
  const offer = h.bus.addOffer({ interfaceId: TEST_INTERFACE, instanceId: TEST_INSTANCE });
  const child = h.device.childForChannel(offer.channelId)!;
  const channel = allocate(h, child);
  const driver = new RecordingDriver();
  driver.install(channel);
  configure?.(channel, driver);
  const status = VmbChannelEnable(channel);
  if (status !== NTSTATUS.STATUS_SUCCESS) throw new Error(`enable failed: 0x${status.toString(16)}`);
  await settle(h.scheduler);
  const host = h.bus.hosts.get(offer.channelId);
  if (host === undefined) throw new Error('the channel did not open');
  return { channel, host, offer, driver };
}

/** A packet the host read, copied out of its ring. */
export interface HostPacket {
  readonly type: number;
  readonly flags: number;
  readonly transactionIdLo: number;
  readonly transactionIdHi: number;
  /** Descriptor to padding. */
  readonly bytes: Uint8Array;
  readonly payload: Uint8Array;
}

function copyOut(view: RingPacketView): HostPacket {
  return {
    type: view.packetType,
    flags: view.flags,
    transactionIdLo: view.transactionIdLo,
    transactionIdHi: view.transactionIdHi,
    bytes: view.packetBytes.slice(),
    payload: view.payload.slice(),
  };
}

/** The host takes every packet from its incoming ring (and signals if the guest waits for space). */
export function hostRead(host: ChannelEndpoint): HostPacket[] {
  const packets: HostPacket[] = [];
  while (host.reader.tryRead()) packets.push(copyOut(host.reader.packet));
  if (host.reader.commit()) host.signalPeer();
  return packets;
}

/** The host sends an in-band packet and signals if the ring says so. */
export function hostSend(host: ChannelEndpoint, payload: Uint8Array, options: { completion?: boolean; tid?: number } = {}): boolean {
  const flags = options.completion === true ? PACKET_FLAG_COMPLETION_REQUESTED : 0;
  if (!host.writer.tryWriteInBand(payload, options.tid ?? 0, 0, flags)) return false;
  if (host.writer.commit()) host.signalPeer();
  return true;
}

/** The host sends a completion packet for (lo, hi). */
export function hostComplete(host: ChannelEndpoint, lo: number, hi: number, payload: Uint8Array = new Uint8Array(0)): void {
  if (!host.writer.tryWriteCompletion(payload, lo, hi)) throw new Error('host ring full');
  if (host.writer.commit()) host.signalPeer();
}

/** The host writes any packet type with an extended header. */
export function hostSendRaw(
  host: ChannelEndpoint,
  type: number,
  header: Uint8Array,
  payload: Uint8Array,
  options: { completion?: boolean; tid?: number } = {},
): void {
  const flags = options.completion === true ? PACKET_FLAG_COMPLETION_REQUESTED : 0;
  if (!host.writer.tryWrite(type, flags, options.tid ?? 0, 0, header, payload)) throw new Error('host ring full');
  if (host.writer.commit()) host.signalPeer();
}

export const PACKET_TYPE_COMPLETION = PACKET_TYPE.VM_PKT_COMP;
