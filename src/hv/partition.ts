import { WireError } from '../wire/wire-error.js';
import type { HvStatus } from './hv-status.js';
import type { Hypercalls } from './hypercalls.js';
import { MonitoredNotifications } from './monitored-notifications.js';
import { MonitorPage } from './monitor-page.js';
import { HV_PORT_TYPE } from './port-table.js';
import { SINT_COUNT, type HvMessage } from './synic-message.js';

/** Names a port: the partition that receives through it and its id there. Plain data, safe to send to another thread. */
export interface PortRef {
  readonly partitionId: number;
  readonly portId: number;
}

/** Where a message port delivers (HV_PORT_INFO MessagePortInfo). SINT 0 is the hypervisor's. */
export interface MessagePortOptions {
  readonly vp: number;
  readonly sint: number;
}

/** Where an event port delivers (HV_PORT_INFO EventPortInfo): flags base..base+count-1 of the SINT. */
export interface EventPortOptions {
  readonly vp: number;
  readonly sint: number;
  readonly baseFlagNumber: number;
  /** Default 1. */
  readonly flagCount?: number;
}

/**
 * Receives one message, already copied out of the slot. A throw still ends
 * the message ('auto' mode) and then propagates to the scheduler: out of
 * `step()` in a seeded run, and out of the thread's listener (ending it) in
 * thread mode.
 */
export type MessageHandler = (message: HvMessage) => void;
/**
 * Receives one event flag (its number in the SINT's 2048 flags), already
 * cleared. A throw propagates like a MessageHandler's; the flags it had not
 * been handed yet stay set for the next scan.
 */
export type EventHandler = (flagNumber: number) => void;

export interface MessageHandlerOptions {
  /**
   * 'auto' (default): end of message when the handler returns, unless it
   * called `eom` itself. 'manual': the slot stays busy, and later messages
   * queue, until `eom(vp, sint)`.
   */
  readonly eom?: 'auto' | 'manual';
}

/** What this thread has done for a partition. */
export interface PartitionStats {
  /** Times the thread looked for raised SINTs of this partition (one per doorbell wake in thread mode). */
  readonly drains: number;
  readonly messages: number;
  readonly events: number;
  /** Slots whose header was impossible; they were ended and dropped. */
  readonly invalidMessages: number;
}

interface MessageSubscription {
  readonly handler: MessageHandler;
  readonly manual: boolean;
  awaitingEom: boolean;
}

/**
 * One partition of the simulated machine, as partition code uses it: the
 * hypercalls it makes (ports, connections, post, signal), the handlers that
 * receive on its VPs' SINTs, and its monitored notifications. The same code
 * runs under the seeded scheduler and in a worker thread.
 *
 * Handlers are per thread: exactly one thread should receive for a partition.
 */
export class Partition {
  readonly id: number;
  readonly vpCount: number;
  readonly monitor: MonitoredNotifications;
  private readonly messageHandlers: (MessageSubscription | undefined)[] = [];
  private readonly eventHandlers: (EventHandler | undefined)[] = [];
  /** The stop functions of this thread's handlers. */
  private readonly subscriptions = new Set<() => void>();
  private stopListening: (() => void) | undefined;
  private readonly counters = { drains: 0, messages: 0, events: 0, invalidMessages: 0 };

  constructor(
    private readonly hv: Hypercalls,
    private readonly index: number,
  ) {
    const memory = hv.memory.partitions[index]!;
    this.id = memory.config.id;
    this.vpCount = memory.config.vpCount;
    this.monitor = new MonitoredNotifications(
      new MonitorPage(memory.bytes, memory.monitorPageOffset),
      memory.bytes.i32,
      memory.monitorAllocationIndex,
      hv.scheduler,
      (parameter) => hv.signalEvent(index, parameter.connectionId, parameter.flagNumber),
    );
    hv.setDispatcher(index, (vp, sint) => this.dispatch(vp, sint));
  }

  /** HvCreatePort for a message port of this partition. */
  createMessagePort(portId: number, options: MessagePortOptions): HvStatus {
    return this.hv.createPort(this.index, portId, {
      type: HV_PORT_TYPE.MESSAGE,
      vp: options.vp,
      sint: options.sint,
      baseFlagNumber: 0,
      flagCount: 0,
    });
  }

  /** HvCreatePort for an event port of this partition. */
  createEventPort(portId: number, options: EventPortOptions): HvStatus {
    return this.hv.createPort(this.index, portId, {
      type: HV_PORT_TYPE.EVENT,
      vp: options.vp,
      sint: options.sint,
      baseFlagNumber: options.baseFlagNumber,
      flagCount: options.flagCount ?? 1,
    });
  }

  /** HvDeletePort; connections to the port then fail with INVALID_PORT_ID and its queued messages are dropped. */
  deletePort(portId: number): HvStatus {
    return this.hv.deletePort(this.index, portId);
  }

  /** HvConnectPort: `connectionId` of this partition now reaches `port`. */
  connect(connectionId: number, port: PortRef): HvStatus {
    return this.hv.connect(this.index, connectionId, port.partitionId, port.portId);
  }

  /** HvDisconnectPort. */
  disconnect(connectionId: number): HvStatus {
    return this.hv.disconnect(this.index, connectionId);
  }

  /** HvPostMessage: at most 240 bytes, type 1..0x7fffffff; INSUFFICIENT_BUFFERS means retry later. */
  postMessage(connectionId: number, messageType: number, payload: Uint8Array): HvStatus {
    return this.hv.postMessage(this.index, connectionId, messageType, payload);
  }

  /** HvSignalEvent: sets flag base+`flagNumber` of the connected event port. */
  signalEvent(connectionId: number, flagNumber = 0): HvStatus {
    return this.hv.signalEvent(this.index, connectionId, flagNumber);
  }

  /** Receives the messages of one SINT of one VP in this thread. Returns the function that stops it. */
  onMessage(vp: number, sint: number, handler: MessageHandler, options: MessageHandlerOptions = {}): () => void {
    const key = this.keyOf(vp, sint);
    if (this.messageHandlers[key] !== undefined) {
      throw new Error(`partition ${this.id}: VP ${vp} SINT ${sint} already has a message handler`);
    }
    const subscription: MessageSubscription = { handler, manual: options.eom === 'manual', awaitingEom: false };
    this.messageHandlers[key] = subscription;
    return this.subscribe(vp, sint, () => {
      this.messageHandlers[key] = undefined;
      // Leaving a message un-ended would block the SINT for whoever receives next.
      this.endMessage(vp, sint, subscription);
    });
  }

  /** Receives the event flags of one SINT of one VP in this thread. Returns the function that stops it. */
  onEvent(vp: number, sint: number, handler: EventHandler): () => void {
    const key = this.keyOf(vp, sint);
    if (this.eventHandlers[key] !== undefined) {
      throw new Error(`partition ${this.id}: VP ${vp} SINT ${sint} already has an event handler`);
    }
    this.eventHandlers[key] = handler;
    return this.subscribe(vp, sint, () => {
      this.eventHandlers[key] = undefined;
    });
  }

  /**
   * End of message for the message the SINT's handler received: frees the
   * slot and lets the next queued message in. False if no message was
   * awaiting its EOM there.
   */
  eom(vp: number, sint: number): boolean {
    return this.endMessage(vp, sint, this.messageHandlers[this.keyOf(vp, sint)]);
  }

  /** Stops every handler of this partition in this thread. */
  close(): void {
    for (const stop of [...this.subscriptions]) stop();
  }

  get stats(): PartitionStats {
    return { ...this.counters };
  }

  /** Handles one raised SINT: acknowledge, take its event flags, deliver its slot's message. */
  private dispatch(vp: number, sint: number): void {
    const synic = this.hv.synic;
    synic.clearPending(this.index, vp, sint);
    const key = vp * SINT_COUNT + sint;
    const onEvent = this.eventHandlers[key];
    if (onEvent !== undefined) this.counters.events += synic.takeEventFlags(this.index, vp, sint, onEvent);
    const subscription = this.messageHandlers[key];
    if (subscription === undefined || subscription.awaitingEom) return;
    const message = synic.readSlot(this.index, vp, sint);
    if (message === undefined) return;
    if (message instanceof WireError) {
      this.counters.invalidMessages++;
      this.hv.endOfMessage(this.index, vp, sint);
      return;
    }
    this.counters.messages++;
    subscription.awaitingEom = true;
    if (subscription.manual) {
      subscription.handler(message);
      return;
    }
    try {
      subscription.handler(message);
    } finally {
      this.endMessage(vp, sint, subscription);
    }
  }

  /** Dispatches every raised SINT of every VP (the thread-mode wake). */
  private drain(): void {
    this.counters.drains++;
    for (let vp = 0; vp < this.vpCount; vp++) {
      let sints = this.hv.synic.pendingSints(this.index, vp);
      while (sints !== 0) {
        const sint = 31 - Math.clz32(sints & -sints);
        sints &= sints - 1;
        this.dispatch(vp, sint);
      }
    }
  }

  private endMessage(vp: number, sint: number, subscription: MessageSubscription | undefined): boolean {
    if (subscription === undefined || !subscription.awaitingEom) return false;
    subscription.awaitingEom = false;
    this.hv.endOfMessage(this.index, vp, sint);
    return true;
  }

  /** Starts listening with the first handler, and raises the SINT so that whatever arrived before the handler is seen. */
  private subscribe(vp: number, sint: number, remove: () => void): () => void {
    if (this.subscriptions.size === 0) this.stopListening = this.hv.scheduler.listen(this.index, () => this.drain());
    const stop = (): void => {
      if (!this.subscriptions.delete(stop)) return;
      remove();
      if (this.subscriptions.size === 0) {
        this.stopListening?.();
        this.stopListening = undefined;
      }
    };
    this.subscriptions.add(stop);
    this.hv.raise(this.index, vp, sint);
    return stop;
  }

  private keyOf(vp: number, sint: number): number {
    if (!Number.isInteger(vp) || vp < 0 || vp >= this.vpCount) {
      throw new RangeError(`partition ${this.id} has no VP ${vp}`);
    }
    if (!Number.isInteger(sint) || sint < 0 || sint >= SINT_COUNT) {
      throw new RangeError(`SINT ${sint} is outside 0..${SINT_COUNT - 1}`);
    }
    return vp * SINT_COUNT + sint;
  }
}
