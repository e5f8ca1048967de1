/**
 * What every host-side integration-component device (VSP) shares, written
 * against the KMCL server interface only: a server channel offered to the
 * guest with the service's class and instance GUIDs, which negotiates as soon
 * as the guest has opened it (packets flow both ways: EvtChannelPostStarted)
 * and then runs one transaction at a time (`ic-host-transactions.ts`). A
 * guest's close ends the transactions; its next open negotiates afresh.
 *
 * Like the guest side, the channel leaves the pipe header to the IC framing
 * (no KMCL pipe mode): the host's requests carry it in their payload.
 */
import {
  NTSTATUS,
  VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT,
  VmbChannelCleanup,
  VmbChannelDisable,
  VmbChannelEnable,
  VmbChannelInitSetProcessPacketCallbacks,
  VmbChannelInitSetStateChangeCallbacks,
  VmbChannelPacketComplete,
  VmbChannelStart,
  VmbPacketAllocate,
  VmbPacketFree,
  VmbPacketSend,
  VmbServerChannelInitSetTargetInterfaceId,
  type Guid,
  type KmclHostDeviceObject,
  type KmclScheduler,
  type NtStatus,
  type VMBCHANNEL,
  type VMBPACKETCOMPLETION,
} from '../../../index.js';
import type { WireError } from '../../../wire/index.js';
import type { IcHostService, IcVersionLists, IcVersions } from '../protocol/index.js';
import { setUpIcChannel } from '../channel-setup.js';
import { IcHostTransactions } from './ic-host-transactions.js';

export interface IcHostChannelOptions<Req, Res> {
  /** The host device object of the guest's VMBus the service is offered on. */
  readonly device: KmclHostDeviceObject;
  readonly service: IcHostService<Req, Res>;
  /** The offer's instance GUID (default: the service's, as Hyper-V offers it). */
  readonly instanceId?: Guid | undefined;
  /** The versions offered in negotiation (default: the service's host offer). */
  readonly offer?: IcVersionLists | undefined;
  /** Fail a transaction the guest leaves unanswered this long, and negotiate afresh (default: never). */
  readonly timeoutMs?: number | undefined;
  readonly onNegotiated?: ((versions: IcVersions) => void) | undefined;
  /** No common version (or a bad negotiation answer): how the host reports it. */
  readonly onNegotiationFailed?: ((error: WireError) => void) | undefined;
  /** A packet from the guest that was dropped or failed its transaction. */
  readonly onRejected?: ((error: WireError) => void) | undefined;
}

/** What a request/response VSP (KVP, shutdown) takes: the channel options but the service, which the VSP names. */
export type IcVspOptions = Omit<IcHostChannelOptions<unknown, unknown>, 'service'>;

const UNITS_PER_MS = 10_000;

/** One IC service's server channel, offered to one guest. */
export class IcHostChannel<Req, Res> {
  readonly #channel: VMBCHANNEL;
  readonly #transactions: IcHostTransactions<Req, Res>;
  readonly scheduler: KmclScheduler;
  #stopped = false;

  private constructor(channel: VMBCHANNEL, options: IcHostChannelOptions<Req, Res>) {
    this.#channel = channel;
    this.scheduler = options.device.context.scheduler;
    this.#transactions = new IcHostTransactions({
      service: options.service,
      offer: options.offer,
      scheduler: this.scheduler,
      timeout100ns: (options.timeoutMs ?? 0) * UNITS_PER_MS,
      onNegotiated: options.onNegotiated,
      onNegotiationFailed: options.onNegotiationFailed,
      onRejected: options.onRejected,
    });
  }

  /**
   * Allocates and configures the server channel and offers it to the guest
   * (VmbChannelEnable). Throws a KmclError with the status of the KMCL call
   * that failed (the channel is cleaned up first).
   */
  static offer<Req, Res>(options: IcHostChannelOptions<Req, Res>): IcHostChannel<Req, Res> {
    return setUpIcChannel(options.device, true, options.service.spec.name, (channel) => {
      const ic = new IcHostChannel(channel, options);
      return { owner: ic, steps: ic.#setup(options) };
    });
  }

  /** 'closed' until the guest opens the channel, then negotiating, ready, or failed (no common version). */
  get state(): 'closed' | 'negotiating' | 'ready' | 'failed' {
    return this.#transactions.state;
  }

  get versions(): IcVersions | undefined {
    return this.#transactions.versions;
  }

  /** Requests sent or waiting, not yet ended. */
  get pending(): number {
    return this.#transactions.pending;
  }

  /** The KMCL channel handle, for callers that want to query it. */
  get handle(): VMBCHANNEL {
    return this.#channel;
  }

  /** Resolves once the versions are agreed; rejects if negotiation fails or the channel closes first. */
  whenReady(): Promise<IcVersions> {
    return this.#transactions.whenReady();
  }

  /** One transaction; rejects with an IcTransactionError when it does not get the guest's answer. */
  request(request: Req): Promise<Res> {
    return this.#transactions.request(request);
  }

  /**
   * Ends the transactions ('closed', their timeout cancelled), rescinds the
   * offer (VmbChannelDisable waits for the guest to let go) and disposes of the channel.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    // Ended before the rescind's wait, which can last the release timeout: no timeout fires on a stopping device.
    this.#transactions.closed();
    await VmbChannelDisable(this.#channel);
    VmbChannelCleanup(this.#channel);
  }

  /** The init-time settings, the start and the offer, in order. */
  #setup(options: IcHostChannelOptions<Req, Res>): (() => NtStatus)[] {
    const channel = this.#channel;
    const spec = options.service.spec;
    const callbacks = VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT();
    callbacks.EvtChannelPostStarted = () => this.#transactions.opened(this.#send);
    // Suspend: no more packets will be delivered, so nothing waiting can be answered.
    callbacks.EvtChannelSuspend = () => this.#transactions.closed();
    return [
      () => VmbServerChannelInitSetTargetInterfaceId(channel, spec.classId, options.instanceId ?? spec.instanceId),
      () => VmbChannelInitSetStateChangeCallbacks(channel, callbacks),
      () => VmbChannelInitSetProcessPacketCallbacks(channel, this.#processPacket, null),
      // A server channel is allocated paused (the host starts its channels); started before it is offered,
      // each open of the guest's runs through to PostStarted, and a failure so far leaves it disabled.
      () => VmbChannelStart(channel),
      () => VmbChannelEnable(channel),
    ];
  }

  readonly #processPacket = (_channel: VMBCHANNEL, packet: VMBPACKETCOMPLETION, buffer: Uint8Array, length: number): void => {
    // The guest's bytes sit in memory it can still write: copy them once, then read the copy.
    const answer = buffer.slice(0, length);
    VmbChannelPacketComplete(packet, null, 0);
    this.#transactions.receive(answer);
  };

  /** Sends one packet in-band without a completion request (answers come as packets of their own). */
  readonly #send = (packet: Uint8Array): boolean => {
    const outgoing = VmbPacketAllocate(this.#channel);
    if (outgoing === null) return false;
    // The packet keeps its default completion routine, which frees it once it is in the ring.
    if (VmbPacketSend(outgoing, packet, packet.length, null, 0) === NTSTATUS.STATUS_SUCCESS) return true;
    VmbPacketFree(outgoing);
    return false;
  };
}
