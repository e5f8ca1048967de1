/**
 * The incoming side of an open channel: drains the ring at DISPATCH_LEVEL
 * (synchronously, in the signal handler) or at PASSIVE_LEVEL (on the passive
 * queue), hands data packets to the process-packet callback and completion
 * packets to the send queue, and keeps the rules that stop a drain: the
 * transaction quota, the DPC budget, a pause, a failed packet, a deferral.
 *
 * Interrupt mask protocol: the mask is set while draining so the peer does
 * not signal per packet; a drain that ran the ring empty clears it (and looks
 * again, closing the race). A drain that stopped early leaves it set: this
 * side resumes on its own (a completion, Start, the budget's next turn).
 */
import { RingCorruptError, type RingReader } from '../../ring/index.js';
import { PACKET_TYPE } from '../../wire/packet-types.js';
import { reportDriverFault } from '../driver-fault.js';
import { Fifo } from '../fifo.js';
import type { ChannelEndpoint } from '../bus-port.js';
import type { KmclChannel } from '../channel/channel.js';
import { VMBUS_CHANNEL_INIT_FLAG_IS_PIPE } from '../flags.js';
import { INCOMING_DEFERRED, INCOMING_DELIVERED, INCOMING_FREE, KmclIncomingPacket } from './incoming-packet.js';
import { parseIncoming } from './incoming-parse.js';
import { CompletionPayload } from './completion-payload.js';

/** Packets a drain handles between two publications of its progress (read index, sends held). */
const PUBLISH_BATCH = 64;

export class IncomingQueue {
  /** The queue runs: the channel started and is not paused. */
  running = false;
  /** VmbChannelSetIncomingProcessingAtPassive(TRUE): every delivery from the passive queue. */
  requirePassive = false;
  /** VmbChannelSetTransactionQuota; 0 means no quota. */
  quota = 0;
  /** VmbChannelSetAllowableDpcCpuUsage, in 100 ns; 0 means no budget. */
  dpcBudget = 0;
  /** Packets delivered and not yet completed, failed or released. */
  outstanding = 0;
  /** VmbChannelPacketFail or a malformed packet stopped the queue. */
  failed = false;
  private reader: RingReader | null = null;
  private endpoint: ChannelEndpoint | null = null;
  private draining = false;
  private blockedByQuota = false;
  private kickScheduled = false;
  private passiveQueued = false;
  /** The delivery in progress asked to stop the batch (a deferral). */
  private stopBatch = false;
  private readonly freeList: KmclIncomingPacket[] = [];
  private readonly deferred = new Fifo<KmclIncomingPacket>();
  private idleWaiters: (() => void)[] = [];
  private readonly completionPayload = new CompletionPayload();
  private deferredWaiters: (() => void)[] = [];

  constructor(private readonly channel: KmclChannel) {}

  /** Deferred packets waiting to be delivered again at PASSIVE_LEVEL. */
  get deferredCount(): number {
    return this.deferred.length;
  }

  attach(endpoint: ChannelEndpoint): void {
    this.endpoint = endpoint;
    this.reader = endpoint.reader;
    this.failed = false;
    // The client context size may have changed since the last open.
    this.freeList.length = 0;
  }

  detach(): void {
    this.endpoint = null;
    this.reader = null;
    this.running = false;
  }

  /** The peer signalled (or this side resumes): drain at the level the channel asks for. */
  readonly onSignal = (): void => {
    if (!this.running || this.failed || this.reader === null) return;
    if (this.requirePassive || this.deferred.length > 0) this.queuePassive();
    else this.drain(false);
  };

  /** Resolves once no delivered packet is outstanding. */
  whenIdle(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops taking packets from the ring (pause, disable). Packets deferred to
   * PASSIVE_LEVEL are still delivered again: the promise resolves once they
   * were, so no process-packet call remains queued.
   */
  stop(): Promise<void> {
    this.running = false;
    if (this.deferred.length === 0) return Promise.resolve();
    this.queuePassive();
    return new Promise((resolve) => this.deferredWaiters.push(resolve));
  }

  /** The peer is gone: deferred packets will never be delivered again; retire them here. */
  abandonDeferred(): void {
    for (const incoming of this.deferred.drain()) {
      if (incoming.state !== INCOMING_DEFERRED) continue;
      this.release(incoming);
      this.retired();
    }
    this.resolveDeferredWaiters();
  }

  /** Runs `onSignal` on a later turn (a DPC queued from PASSIVE code). */
  kick(): void {
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    this.channel.scheduler.schedule(() => {
      this.kickScheduled = false;
      this.onSignal();
    }, 0);
  }

  /** The driver finished a packet (completed or failed it): quota and idle bookkeeping (the rare parts out of line: this runs per packet). */
  retired(): void {
    this.outstanding--;
    if (this.blockedByQuota) this.unblockIfUnderQuota();
    if (this.outstanding === 0 && this.idleWaiters.length > 0) this.resolveIdleWaiters();
  }

  private unblockIfUnderQuota(): void {
    if (this.quota !== 0 && this.outstanding >= this.quota) return;
    this.blockedByQuota = false;
    this.kick();
  }

  private resolveIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Returns a packet object to the free list. */
  release(incoming: KmclIncomingPacket): void {
    incoming.state = INCOMING_FREE;
    incoming.ranges = null;
    this.freeList.push(incoming);
  }

  /** VmbChannelPacketDeferToPassive from inside the process-packet call. */
  requestDeferral(incoming: KmclIncomingPacket): void {
    incoming.deferRequested = true;
  }

  /** Drains the ring until it is empty or a rule stops the batch. */
  drain(atPassive: boolean): void {
    const reader = this.reader;
    if (this.draining || reader === null || !this.running || this.failed) return;
    this.draining = true;
    // What the callbacks send while we drain is published once per batch, not once per packet.
    const sends = this.channel.sends;
    sends.hold();
    try {
      reader.maskInterrupts();
      const scheduler = this.channel.scheduler;
      for (;;) {
        let delivered = 0;
        let handled = 0;
        // Counts down to the next mid-batch publication (a `%` per packet compiles to a division).
        let untilPublish = PUBLISH_BATCH;
        let stopped = false;
        const budget = this.dpcBudget;
        // The DPC budget bounds DISPATCH_LEVEL work only; passive work may run long.
        const budgeted = budget > 0 && !atPassive;
        const start = budgeted ? scheduler.now() : 0;
        for (;;) {
          if (!this.running || this.failed || this.reader !== reader) {
            stopped = true;
            break;
          }
          if (this.quota !== 0 && this.outstanding >= this.quota) {
            this.blockedByQuota = true;
            stopped = true;
            break;
          }
          if (budgeted && handled > 0 && scheduler.now() - start >= budget) {
            this.kick();
            stopped = true;
            break;
          }
          if (untilPublish === 0) {
            this.publishBatch(reader);
            untilPublish = PUBLISH_BATCH;
          }
          if (!reader.tryRead()) break;
          handled++;
          untilPublish--;
          const view = reader.packet;
          if (view.packetType === PACKET_TYPE.VM_PKT_COMP) {
            this.channel.sends.onCompletion(view.transactionIdLo, view.transactionIdHi, this.completionPayload.of(view));
            continue;
          }
          if (this.deliver()) delivered++;
          if (this.stopBatch) {
            this.stopBatch = false;
            stopped = true;
            break;
          }
        }
        if (reader.commit()) this.endpoint?.signalPeer();
        if (delivered > 0) this.batchComplete(delivered, stopped);
        sends.publishHeld();
        if (stopped || this.reader !== reader) break;
        if (reader.unmaskInterruptsIfEmpty()) break;
      }
    } catch (error) {
      if (!(error instanceof RingCorruptError)) throw error;
      this.channel.peerBrokeRing(error);
    } finally {
      this.draining = false;
      sends.release();
    }
  }

  /** Mid-batch: frees the ring space read so far and publishes what was sent, so a long drain does not stall the peer. */
  private publishBatch(reader: RingReader): void {
    if (reader.commit()) this.endpoint?.signalPeer();
    this.channel.sends.publishHeld();
  }

  /** Hands the packet just read to the driver; false when it failed validation (the queue stops). */
  private deliver(): boolean {
    const view = this.reader!.packet;
    const incoming = this.freeList.pop() ?? new KmclIncomingPacket(this.channel, this.channel.config.clientContextSize);
    const problem = parseIncoming(view, incoming, (this.channel.config.flags & VMBUS_CHANNEL_INIT_FLAG_IS_PIPE) !== 0);
    if (problem !== null) {
      this.rejectMalformed(incoming, problem);
      return false;
    }
    incoming.state = INCOMING_DELIVERED;
    if (incoming.clientContext.length > 0) incoming.clientContext.fill(0);
    this.outstanding++;
    this.channel.counters.packetsReceived++;
    this.invoke(incoming);
    return true;
  }

  private invoke(incoming: KmclIncomingPacket): void {
    const config = this.channel.config;
    incoming.inCallback = true;
    incoming.deferRequested = false;
    try {
      if (config.processPacketEx !== null) {
        config.processPacketEx(this.channel.handle, incoming.handle, incoming.buffer, incoming.buffer.length, incoming.flags, incoming.clientContext);
      } else if (config.processPacket !== null) {
        config.processPacket(this.channel.handle, incoming.handle, incoming.buffer, incoming.buffer.length, incoming.flags);
      } else {
        // Decision: with no callback registered, packets are completed at once with an empty completion.
        this.channel.completeIncoming(incoming, null, 0);
      }
    } catch (error) {
      reportDriverFault(error);
    }
    incoming.inCallback = false;
    if (incoming.deferRequested) this.defer(incoming);
  }

  /** The packet failed validation: back to the free list, and the queue stops. */
  private rejectMalformed(incoming: KmclIncomingPacket, problem: string): void {
    this.freeList.push(incoming);
    this.channel.peerSentMalformedPacket(problem);
    this.stopBatch = true;
  }

  /** The driver asked, in its process-packet call, to have the packet again at PASSIVE_LEVEL (unless it finished it meanwhile). */
  private defer(incoming: KmclIncomingPacket): void {
    if (incoming.state !== INCOMING_DELIVERED) return;
    incoming.state = INCOMING_DEFERRED;
    this.deferred.push(incoming);
    this.stopBatch = true;
    this.queuePassive();
  }

  private batchComplete(delivered: number, morePending: boolean): void {
    const config = this.channel.config;
    try {
      if (config.processingCompleteEx !== null) config.processingCompleteEx(this.channel.handle, delivered, morePending);
      else if (config.processingComplete !== null) config.processingComplete(this.channel.handle, delivered);
    } catch (error) {
      reportDriverFault(error);
    }
  }

  private queuePassive(): void {
    if (this.passiveQueued) return;
    this.passiveQueued = true;
    this.channel.passive.enqueue(this.runAtPassive);
  }

  /** PASSIVE_LEVEL: deferred packets first, in order, then the ring (while the queue runs). */
  private readonly runAtPassive = (): void => {
    this.passiveQueued = false;
    while (this.deferred.length > 0) {
      const incoming = this.deferred.shift()!;
      if (incoming.state !== INCOMING_DEFERRED) continue;
      incoming.state = INCOMING_DELIVERED;
      this.invoke(incoming);
      if (this.stopBatch) {
        this.stopBatch = false;
        return;
      }
    }
    this.resolveDeferredWaiters();
    if (this.running) this.drain(true);
  };

  private resolveDeferredWaiters(): void {
    if (this.deferredWaiters.length === 0) return;
    const waiters = this.deferredWaiters;
    this.deferredWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
