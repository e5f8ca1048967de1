/**
 * What flowed over a guest's VMBus, measured where the host sees every
 * channel: its end of each ring. The meter stands between the host bus and
 * the devices offered on it (a `HostBusPort` for the KMCL host device object,
 * or one offer's handlers), gives each device an endpoint whose reader and
 * writer count the packets, ring bytes and completions that pass, and keeps
 * a row per opened channel (its id and ring sizes) for the channel table.
 *
 * It only observes: the rings, signals and channel lifetimes are the bus's.
 */
import type { ChannelEndpoint, HostChannelHandlers, HostOffer, HostOfferOptions, HostOpenRequest, HostRestoreRequest } from '../bus/index.js';
import type { HostBusPort } from '../kmcl/server/index.js';
import { RingReader, RingWriter, type RingMemory } from '../ring/index.js';
import type { Guid } from '../wire/guid.js';
import { PACKET_DESCRIPTOR_SIZE, PACKET_TRAILER_SIZE } from '../wire/packet-descriptor.js';
import { PACKET_TYPE } from '../wire/packet-types.js';
import { RING_CONTROL_PAGE_SIZE } from '../wire/ring-control.js';

/** Traffic in both directions over every metered channel. */
export interface Traffic {
  /** Packets the host wrote and read. */
  packets: number;
  /** Ring bytes those packets took: descriptor, payload, padding and trailer. */
  bytes: number;
  /** Completion packets (VM_PKT_COMP) among them, either way. */
  completions: number;
}

/** One channel the guest opened, as the host end sees it. */
export interface MeteredChannel {
  readonly interfaceId: Guid;
  readonly instanceId: Guid;
  readonly channelId: number;
  /** Ring sizes in bytes, control page included. */
  readonly guestToHostRingBytes: number;
  readonly hostToGuestRingBytes: number;
}

class MeteredRingReader extends RingReader {
  constructor(
    memory: RingMemory,
    private readonly traffic: Traffic,
  ) {
    super(memory);
  }

  override tryRead(): boolean {
    if (!super.tryRead()) return false;
    const packet = this.packet;
    this.traffic.packets++;
    this.traffic.bytes += packet.packetBytes.length + PACKET_TRAILER_SIZE;
    if (packet.packetType === PACKET_TYPE.VM_PKT_COMP) this.traffic.completions++;
    return true;
  }
}

class MeteredRingWriter extends RingWriter {
  constructor(
    memory: RingMemory,
    private readonly traffic: Traffic,
  ) {
    super(memory);
  }

  override tryWrite(packetType: number, flags: number, idLo: number, idHi: number, header: Uint8Array, payload: Uint8Array): boolean {
    if (!super.tryWrite(packetType, flags, idLo, idHi, header, payload)) return false;
    this.traffic.packets++;
    // Padded to 8 bytes, as the writer lays it out (linux-vmbus.md §A.1.2).
    this.traffic.bytes += ((PACKET_DESCRIPTOR_SIZE + header.length + payload.length + 7) & ~7) + PACKET_TRAILER_SIZE;
    if (packetType === PACKET_TYPE.VM_PKT_COMP) this.traffic.completions++;
    return true;
  }
}

export class TrafficMeter {
  readonly traffic: Traffic = { packets: 0, bytes: 0, completions: 0 };
  /** Every channel opened so far, in the order the guest opened them. */
  readonly channels: MeteredChannel[] = [];

  /** The host bus (a `HostBus`) as a KMCL host device object uses it, with every offer made through it metered. */
  port(bus: HostBusPort): HostBusPort {
    return {
      offerChannel: (offer, handlers) => this.offer(bus, offer, handlers),
      mapGpadl: (channelId, gpadlId, options) => bus.mapGpadl(channelId, gpadlId, options),
      unmapGpadl: (mapping) => bus.unmapGpadl(mapping),
    };
  }

  /** Offers a channel on `bus` (a `HostBus`) with `handlers` seeing a metered endpoint. */
  offer(bus: Pick<HostBusPort, 'offerChannel'>, offer: HostOfferOptions, handlers: HostChannelHandlers): HostOffer {
    return bus.offerChannel(offer, this.#handlers(offer, handlers));
  }

  #handlers(offer: HostOfferOptions, handlers: HostChannelHandlers): HostChannelHandlers {
    const { gpadlCreated, gpadlTeardown, save, restore } = handlers;
    return {
      open: (request) => handlers.open(this.#opened(offer, request)),
      close: (channelId) => handlers.close(channelId),
      ...(gpadlCreated !== undefined && { gpadlCreated: (channelId: number, gpadlId: number) => gpadlCreated.call(handlers, channelId, gpadlId) }),
      ...(gpadlTeardown !== undefined && { gpadlTeardown: (channelId: number, gpadlId: number) => gpadlTeardown.call(handlers, channelId, gpadlId) }),
      ...(save !== undefined && { save: (channelId: number) => save.call(handlers, channelId) }),
      ...(restore !== undefined && { restore: (request: HostRestoreRequest) => restore.call(handlers, this.#opened(offer, request)) }),
    };
  }

  /** The request with its endpoint metered, the channel recorded. */
  #opened<R extends HostOpenRequest>(offer: HostOfferOptions, request: R): R {
    const { reader, writer } = request.endpoint;
    this.channels.push({
      interfaceId: offer.interfaceId,
      instanceId: offer.instanceId,
      channelId: request.channelId,
      guestToHostRingBytes: reader.dataSize + RING_CONTROL_PAGE_SIZE,
      hostToGuestRingBytes: writer.dataSize + RING_CONTROL_PAGE_SIZE,
    });
    return { ...request, endpoint: this.#endpoint(request.endpoint) };
  }

  /**
   * The same endpoint with a counting reader and writer over the same rings.
   * They start from the ring's shared indices, which the bus's own reader and
   * writer have not moved: a device reads and writes before anything else does.
   */
  #endpoint(endpoint: ChannelEndpoint): ChannelEndpoint {
    const reader = new MeteredRingReader(endpoint.reader.memory, this.traffic);
    const writer = new MeteredRingWriter(endpoint.writer.memory, this.traffic);
    return {
      channelId: endpoint.channelId,
      reader,
      writer,
      signalPeer: () => endpoint.signalPeer(),
      onSignal: (handler) => endpoint.onSignal(handler),
      get stats() {
        return endpoint.stats;
      },
    };
  }
}
