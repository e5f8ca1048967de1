/**
 * A channel object (VMBCHANNEL): its init-time configuration, where it is in
 * the client state model (disabled → enabled → opened → closing → disabled,
 * and orthogonally active/paused), and the parts of its data plane: packet
 * pool, send queue, incoming queue, passive queue.
 *
 * State changes that wait (open, start, pause, close) run one after another
 * on `transition`; what must happen at once (stop sending, cancel the
 * transactions of a channel that is going away) happens in the caller.
 */
import type { RingCorruptError } from '../../ring/index.js';
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import type { ChannelEndpoint, OfferInfo, OpenChannelPort } from '../bus-port.js';
import type { ChannelContext, KmclDeviceObject } from '../device-object.js';
import type { KmclHostDeviceObject } from '../server/host-device-object.js';
import type { ServerChannel } from '../server/server-channel.js';
import { PassiveQueue, type KmclScheduler } from '../kmcl-scheduler.js';
import { PacketPool } from '../packet/packet-pool.js';
import { SendQueue } from '../packet/send-queue.js';
import { IncomingQueue } from '../receive/incoming-queue.js';
import { INCOMING_COMPLETING, type KmclIncomingPacket } from '../receive/incoming-packet.js';
import type { VMBCHANNEL, VmbChannelObject } from '../types.js';
import type { BounceBufferPool } from '../bounce-buffer.js';
import { ChannelConfig } from './channel-config.js';
import { closeAfterPeerLoss } from './lifecycle.js';

/**
 * Where a channel is in its lifetime (the header's client states, plus the
 * closing step). A server channel uses the same states: `enabled` is offered
 * and waiting for the guest to open it, and a guest's close takes it from
 * `opened` back to `enabled`.
 */
export type ChannelLifecycle =
  /** Allocated (or closed): configurable with the Init functions; not connected. */
  | 'disabled'
  /** VmbChannelEnable ran: waiting for the offer, opening (client); offered (server). */
  | 'enabled'
  /** Open: EvtChannelOpened is running or returned success. */
  | 'opened'
  /** Being closed (VmbChannelDisable, or the peer went away). */
  | 'closing';

/** The DEVICE_OBJECT a channel was allocated on: a guest's (client channels) or a host device object (server channels). */
export type ChannelParentDevice = KmclDeviceObject | KmclHostDeviceObject;

/** What the channel counted: traffic, and what a broken or hostile peer did. */
export interface ChannelCounters {
  packetsSent: number;
  packetsReceived: number;
  /** Completion packets whose transaction id matched no packet waiting for one: dropped. */
  unknownCompletions: number;
  /** Data packets that failed validation (the incoming queue stopped at the first). */
  malformedPackets: number;
}

export class KmclChannel {
  /** False after VmbChannelCleanup: the handle is invalid. */
  live = true;
  pointer: unknown = null;
  readonly config = new ChannelConfig();
  lifecycle: ChannelLifecycle = 'disabled';
  /**
   * VmbChannelPause on a disabled channel: open paused (no Started until
   * VmbChannelStart). A server channel keeps it while paused, from its
   * allocation (the host starts manually) or any Pause until VmbChannelStart.
   */
  autoPause = false;
  /** Started (the callback is running or ran) and not paused: packets flow both ways. */
  started = false;
  /** Opened returned success: Closed must be called when the channel closes. */
  openedCompleted = false;
  /** From the start of EvtChannelOpened to the end of EvtChannelClosed (VmbChannelSetInterruptLatency's window). */
  inOpenWindow = false;
  /** The peer rescinded the offer or broke the ring: nothing more goes over the bus for this open. */
  peerGone = false;
  /** The bound offer was rescinded: its channel id is released when the channel lets go of it. */
  offerRescinded = false;
  /** Why the channel last faulted (peer input that failed validation), for diagnostics. */
  faultDetail: string | null = null;
  offer: OfferInfo | null = null;
  targetDevice: KmclDeviceObject | null = null;
  endpoint: OpenChannelPort | null = null;
  /** Aborts the wait for an offer when the channel is disabled first. */
  enableAbort: AbortController | null = null;
  /** GPADL ids this channel created and has not deleted. */
  readonly gpadls = new Set<number>();
  bounceBuffers: BounceBufferPool | null = null;
  readonly counters: ChannelCounters = { packetsSent: 0, packetsReceived: 0, unknownCompletions: 0, malformedPackets: 0 };
  readonly pool: PacketPool;
  readonly sends: SendQueue;
  readonly incoming: IncomingQueue;
  readonly passive: PassiveQueue;
  /** Stops following the rescind of the bound offer. */
  unwatchRescind: (() => void) | null = null;
  /** Stops receiving the endpoint's signals. */
  unwatchSignal: (() => void) | null = null;
  /** The server endpoint's own state (src/kmcl/server/); null for a client channel. */
  server: ServerChannel | null = null;
  private transitions: Promise<void> = Promise.resolve();
  private pendingTransitions = 0;

  constructor(
    readonly parentDevice: ChannelParentDevice,
    readonly isServer: boolean,
    /** The caller's storage for VmbChannelInitialize channels (then also the handle), else null. */
    readonly storage: Uint8Array | null,
  ) {
    this.pool = new PacketPool(this);
    this.sends = new SendQueue(this);
    this.incoming = new IncomingQueue(this);
    this.passive = new PassiveQueue(this.context.scheduler);
  }

  get handle(): VMBCHANNEL {
    return this.storage ?? (this as unknown as VmbChannelObject);
  }

  /** The data plane's memory and time: the guest VMBus device's, or for a server channel the guest's it is offered to. */
  get context(): ChannelContext {
    return this.server?.device.context ?? this.parentDevice.context;
  }

  /**
   * The guest device object a client channel was allocated on. Only client
   * code asks (the server lifecycle lives in src/kmcl/server/), so a host
   * device here is a bug of this library, not a caller's mistake.
   */
  get guestDevice(): KmclDeviceObject {
    const device = this.parentDevice;
    if (device.kind === 'host') throw new Error(`server channel on ${device.name} reached client-only code`);
    return device;
  }

  get scheduler(): KmclScheduler {
    return this.parentDevice.context.scheduler;
  }

  /** True while a state change is running or queued. */
  get transitioning(): boolean {
    return this.pendingTransitions > 0;
  }

  /** Init-time setters are allowed: disabled and no state change under way. */
  get configurable(): boolean {
    return this.lifecycle === 'disabled' && this.pendingTransitions === 0;
  }

  /** Runs `step` after every earlier state change has finished. */
  transition(step: () => Promise<void>): Promise<void> {
    this.pendingTransitions++;
    const run = this.transitions.then(step).finally(() => {
      this.pendingTransitions--;
    });
    this.transitions = run.catch(() => undefined);
    return run;
  }

  /**
   * Starts the data plane over an open channel's rings: the send queue and
   * the incoming queue attach, and the peer's signals drive both.
   */
  attachDataPlane(endpoint: ChannelEndpoint): void {
    this.sends.attach(endpoint);
    this.incoming.attach(endpoint);
    this.unwatchSignal = endpoint.onSignal(() => {
      this.sends.flush();
      this.incoming.onSignal();
    });
  }

  /**
   * Finishes an incoming packet: invalidates its external data, sends the
   * completion packet when the peer asked for one and can still get it.
   */
  completeIncoming(incoming: KmclIncomingPacket, buffer: Uint8Array | null, length: number): void {
    incoming.mapping?.invalidate();
    incoming.mapping = null;
    if (incoming.completionRequested && this.sends.attached && !this.peerGone) {
      incoming.state = INCOMING_COMPLETING;
      this.sends.submitCompletion(incoming, buffer, length);
    } else {
      this.incoming.release(incoming);
    }
    this.incoming.retired();
  }

  /** The peer corrupted a ring: the channel is as good as gone. */
  peerBrokeRing(error: RingCorruptError): void {
    this.faultDetail = error.message;
    this.peerWentAway(NTSTATUS.STATUS_DEVICE_REMOVED);
  }

  /** The peer sent a packet that does not hold together: stop taking packets from it. */
  peerSentMalformedPacket(problem: string): void {
    this.counters.malformedPackets++;
    this.faultDetail = problem;
    this.incoming.failed = true;
  }

  /**
   * The peer is gone (rescind, broken ring): stop the data plane now, end
   * every outgoing transaction with `status`, then close in order.
   */
  peerWentAway(status: NtStatus): void {
    if (this.peerGone || this.lifecycle === 'disabled') return;
    this.peerGone = true;
    this.stopDataPlane();
    this.incoming.abandonDeferred();
    this.sends.cancelAll(status);
    // A server channel stays offered: its close runs when the guest closes it or the host disables it.
    if (!this.isServer) closeAfterPeerLoss(this);
  }

  /** Detaches both queues from the rings (no more reads or writes). */
  stopDataPlane(): void {
    this.unwatchSignal?.();
    this.unwatchSignal = null;
    this.sends.sendsEnabled = false;
    this.sends.detach();
    this.sends.dropCompletions();
    this.incoming.detach();
  }
}
