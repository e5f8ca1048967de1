/**
 * The outgoing side of an open channel: packets and completion packets go
 * into the ring in order; when the ring is full they wait here, in order,
 * with the pending send size set so the peer signals when space returns.
 *
 * Completion packets (VmbChannelPacketComplete) have their own queue and go
 * first: they must flow while the channel pauses (the driver completes its
 * outstanding packets then), when new sends are held back.
 */
import { RingCorruptError, type RingWriter } from '../../ring/index.js';
import { PACKET_DESCRIPTOR_SIZE, PACKET_FLAG_COMPLETION_REQUESTED, PACKET_TRAILER_SIZE, packetRingSize } from '../../wire/packet-descriptor.js';
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import type { ChannelEndpoint } from '../bus-port.js';
import { Fifo } from '../fifo.js';
import type { KmclIncomingPacket } from '../receive/incoming-packet.js';
import type { KmclChannel } from '../channel/channel.js';
import { EMPTY_BYTES, KmclPacket, PACKET_AWAITING_COMPLETION, PACKET_IDLE, PACKET_QUEUED } from './packet.js';

/**
 * Extended header plus payload bytes of the largest packet `writer` takes:
 * `packetRingSize(h, p) > maxPacketSize` exactly when `h + p` is above it.
 * Computed once per open, so no packet pays packetRingSize's division.
 */
function largestPacketBody(writer: RingWriter): number {
  return Math.floor((writer.maxPacketSize - PACKET_TRAILER_SIZE) / 8) * 8 - PACKET_DESCRIPTOR_SIZE;
}

export class SendQueue {
  /** New packets may enter the ring: the channel is started and not pausing. */
  sendsEnabled = false;
  /** Packets in the ring waiting for the peer's completion. */
  awaitingCount = 0;
  /** Extended header plus payload bytes one packet may carry on the attached ring (see `largestPacketBody`); 0 when none is. */
  largestBody = 0;
  private endpoint: ChannelEndpoint | null = null;
  private writer: RingWriter | null = null;
  private readonly packets = new Fifo<KmclPacket>();
  private readonly completions = new Fifo<KmclIncomingPacket>();
  /** Packets written without a completion request in this flush: their routines run after the commit. */
  private written: KmclPacket[] = [];
  /** Emptied lists for `written`: a routine that sends again flushes into another list. */
  private readonly spareWritten: KmclPacket[][] = [];
  /** Nonzero while the incoming queue drains (see `hold`). */
  private holding = 0;
  /** Packets written while held and not yet published. */
  private unpublished = false;

  constructor(private readonly channel: KmclChannel) {}

  /** Packets waiting for the ring. */
  get queuedCount(): number {
    return this.packets.length;
  }

  /** Completion packets waiting for the ring. */
  get queuedCompletionCount(): number {
    return this.completions.length;
  }

  /** True while an open ring is attached. */
  get attached(): boolean {
    return this.writer !== null;
  }

  /** The outgoing ring while one is attached (its maxPacketSize bounds completions too). */
  get ringWriter(): RingWriter | null {
    return this.writer;
  }

  attach(endpoint: ChannelEndpoint): void {
    this.endpoint = endpoint;
    this.writer = endpoint.writer;
    this.largestBody = largestPacketBody(endpoint.writer);
  }

  /** Stops writing (the ring is closing or gone); queued items stay until cancelled. */
  detach(): void {
    this.endpoint = null;
    this.writer = null;
    this.largestBody = 0;
  }

  /**
   * Sends a prepared packet, or queues it behind earlier ones. Returns
   * STATUS_INVALID_BUFFER_SIZE, without sending, when it can never fit the ring.
   */
  submit(packet: KmclPacket): NtStatus {
    const writer = this.writer;
    if (writer !== null) {
      if (packet.header.length + packet.payload.length > this.largestBody) return NTSTATUS.STATUS_INVALID_BUFFER_SIZE;
      // The common case: nothing waits before it, so it goes straight in, published at once.
      if (this.sendsEnabled && this.packets.length === 0 && this.completions.length === 0 && this.writeNow(writer, packet)) {
        return NTSTATUS.STATUS_SUCCESS;
      }
    }
    packet.state = PACKET_QUEUED;
    this.packets.push(packet);
    if (writer !== null && this.sendsEnabled) this.flush();
    return NTSTATUS.STATUS_SUCCESS;
  }

  /** Writes and publishes one packet if the ring has room; false (packet untouched) otherwise. */
  private writeNow(writer: RingWriter, packet: KmclPacket): boolean {
    const generation = this.channel.pool.nextGeneration(packet.slot);
    try {
      if (!writer.tryWrite(packet.packetType, packet.ringFlags, packet.slot, generation, packet.header, packet.payload)) return false;
      this.channel.counters.packetsSent++;
      const wait = (packet.ringFlags & PACKET_FLAG_COMPLETION_REQUESTED) !== 0;
      if (wait) {
        packet.state = PACKET_AWAITING_COMPLETION;
        this.awaitingCount++;
      }
      this.publish(writer);
      if (!wait) packet.complete(NTSTATUS.STATUS_SUCCESS, EMPTY_BYTES, 0);
    } catch (error) {
      this.queueAfterRingFailure(packet, error);
    }
    return true;
  }

  /** The ring broke under a write: queued, the packet's transaction ends with the others in the failure's cancellation. */
  private queueAfterRingFailure(packet: KmclPacket, error: unknown): void {
    if (!(error instanceof RingCorruptError)) throw error;
    packet.state = PACKET_QUEUED;
    this.packets.push(packet);
    this.channel.peerBrokeRing(error);
  }

  /**
   * Sends a prepared packet only if it enters the ring at once (the channel
   * runs, nothing waits before it, the ring has room); else STATUS_BUFFER_OVERFLOW
   * and the packet is left idle.
   */
  submitNow(packet: KmclPacket): NtStatus {
    const writer = this.writer;
    if (writer === null || !this.sendsEnabled || this.packets.length > 0 || this.completions.length > 0) {
      return NTSTATUS.STATUS_BUFFER_OVERFLOW;
    }
    const needed = packetRingSize(packet.header.length, packet.payload.length);
    if (needed > writer.maxPacketSize) return NTSTATUS.STATUS_INVALID_BUFFER_SIZE;
    try {
      if (writer.writableBytes() < needed) return NTSTATUS.STATUS_BUFFER_OVERFLOW;
    } catch (error) {
      if (!(error instanceof RingCorruptError)) throw error;
      this.channel.peerBrokeRing(error);
      return NTSTATUS.STATUS_DEVICE_REMOVED;
    }
    return this.submit(packet);
  }

  /**
   * Holds publishing while the incoming queue drains a batch: the sends and
   * completions that the batch's callbacks write go out with one commit (and
   * at most one signal) in `publishHeld`, not one per packet.
   */
  hold(): void {
    this.holding++;
  }

  /** Ends a `hold`, publishing what was written during it. */
  release(): void {
    this.holding--;
    this.publishHeld();
  }

  /** Publishes what was written while held (the drain reached a batch boundary). */
  publishHeld(): void {
    if (!this.unpublished) return;
    this.unpublished = false;
    const writer = this.writer;
    if (writer === null) return;
    try {
      if (writer.commit()) this.endpoint!.signalPeer();
    } catch (error) {
      if (!(error instanceof RingCorruptError)) throw error;
      this.channel.peerBrokeRing(error);
    }
  }

  /** Makes written packets visible to the peer now, or at the end of the held batch. */
  private publish(writer: RingWriter): void {
    if (this.holding > 0) this.unpublished = true;
    else if (writer.commit()) this.endpoint!.signalPeer();
  }

  /**
   * Sends the completion packet of an incoming packet carrying `length`
   * bytes of `buffer`: straight into the ring from the driver's buffer when
   * no completion waits before it and there is room, else copied and queued.
   */
  submitCompletion(incoming: KmclIncomingPacket, buffer: Uint8Array | null, length: number): void {
    const writer = this.writer;
    if (writer !== null && this.completions.length === 0) {
      const payload = buffer === null || length === 0 ? EMPTY_BYTES : buffer.length === length ? buffer : buffer.subarray(0, length);
      try {
        if (writer.tryWriteCompletion(payload, incoming.transactionIdLo, incoming.transactionIdHi)) {
          this.channel.incoming.release(incoming);
          this.publish(writer);
          return;
        }
      } catch (error) {
        if (!(error instanceof RingCorruptError)) throw error;
        // Queued, so the failure's teardown drops it with the others.
        this.queueCompletion(incoming, buffer, length);
        this.channel.peerBrokeRing(error);
        return;
      }
    }
    this.queueCompletion(incoming, buffer, length);
    if (writer !== null) this.flush();
  }

  /** Keeps a copy of the completion payload and queues the completion behind the others. */
  private queueCompletion(incoming: KmclIncomingPacket, buffer: Uint8Array | null, length: number): void {
    incoming.setCompletion(buffer, length);
    this.completions.push(incoming);
  }

  /**
   * Writes queued completions, then queued packets (when sends are enabled),
   * until the ring is full; commits once and signals if the ring says so.
   * Then runs the completion routines of packets that asked for none.
   */
  flush(): void {
    const writer = this.writer;
    if (writer === null) return;
    let wrote = false;
    try {
      while (this.completions.length > 0) {
        const incoming = this.completions.peek()!;
        if (!writer.tryWriteCompletion(incoming.completionView, incoming.transactionIdLo, incoming.transactionIdHi)) {
          if (writer.requestSpace()) continue;
          break;
        }
        this.completions.shift();
        wrote = true;
        this.channel.incoming.release(incoming);
      }
      if (this.completions.length === 0 && this.sendsEnabled) {
        while (this.packets.length > 0) {
          const packet = this.packets.peek()!;
          if (packet.header.length + packet.payload.length > this.largestBody) {
            this.packets.shift();
            packet.complete(NTSTATUS.STATUS_INVALID_BUFFER_SIZE, EMPTY_BYTES, 0);
            continue;
          }
          const generation = this.channel.pool.nextGeneration(packet.slot);
          if (!writer.tryWrite(packet.packetType, packet.ringFlags, packet.slot, generation, packet.header, packet.payload)) {
            if (writer.requestSpace()) continue;
            break;
          }
          this.packets.shift();
          wrote = true;
          this.channel.counters.packetsSent++;
          if ((packet.ringFlags & PACKET_FLAG_COMPLETION_REQUESTED) !== 0) {
            packet.state = PACKET_AWAITING_COMPLETION;
            this.awaitingCount++;
          } else {
            this.written.push(packet);
          }
        }
      }
      if (wrote) this.publish(writer);
    } catch (error) {
      if (!(error instanceof RingCorruptError)) throw error;
      this.channel.peerBrokeRing(error);
    }
    const written = this.written;
    if (written.length === 0) return;
    this.written = this.spareWritten.pop() ?? [];
    for (let i = 0; i < written.length; i++) written[i]!.complete(NTSTATUS.STATUS_SUCCESS, EMPTY_BYTES, 0);
    written.length = 0;
    this.spareWritten.push(written);
  }

  /** The peer completed a transaction: runs its routine, or counts an unknown id. */
  onCompletion(transactionIdLo: number, transactionIdHi: number, buffer: Uint8Array): void {
    const packet = this.channel.pool.awaiting(transactionIdLo, transactionIdHi);
    if (packet === null) {
      this.channel.counters.unknownCompletions++;
      return;
    }
    this.awaitingCount--;
    packet.complete(NTSTATUS.STATUS_SUCCESS, buffer, buffer.length);
  }

  /**
   * Ends one packet's transaction early (a synchronous request timed out):
   * out of the queue, or forgotten while in the ring so a late completion is
   * dropped. False when the packet has no transaction in progress.
   */
  cancel(packet: KmclPacket, status: NtStatus): boolean {
    if (packet.state === PACKET_QUEUED) {
      this.packets.remove(packet);
    } else if (packet.state === PACKET_AWAITING_COMPLETION) {
      this.channel.pool.nextGeneration(packet.slot);
      this.awaitingCount--;
    } else {
      return false;
    }
    packet.complete(status, EMPTY_BYTES, 0);
    return true;
  }

  /** Ends every transaction in progress with `status`: those in the ring first, then the queued ones in queue order. */
  cancelAll(status: NtStatus): void {
    const awaiting: KmclPacket[] = [];
    for (const packet of this.channel.pool.packets()) if (packet.state === PACKET_AWAITING_COMPLETION) awaiting.push(packet);
    for (const packet of awaiting) {
      this.channel.pool.nextGeneration(packet.slot);
      packet.state = PACKET_IDLE;
    }
    this.awaitingCount = 0;
    this.channel.pool.forgetRestored();
    for (const packet of awaiting) packet.complete(status, EMPTY_BYTES, 0);
    for (const packet of this.packets.drain()) packet.complete(status, EMPTY_BYTES, 0);
  }

  /** Drops completion packets that can no longer be written (the ring is gone). */
  dropCompletions(): void {
    for (const incoming of this.completions.drain()) this.channel.incoming.release(incoming);
  }
}
