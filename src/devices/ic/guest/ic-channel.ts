/**
 * What every guest-side integration-component driver (VSC) shares, written
 * against the KMCL client interface only, the way a Windows IC driver is:
 * a channel bound to the service's class GUID (VmbClientChannelInitSetTargetPnp),
 * 16 KiB rings each way (Linux `drivers/hv/hv_util.c` uses
 * VMBUS_RING_SIZE(3 pages) = 16 KiB), and a process-packet callback that hands
 * each host message to the service's responder and sends the edited copy back
 * as an in-band packet of the same length (the in-place response).
 *
 * The channel does not use the KMCL pipe mode: the pipe header belongs to
 * the IC framing (`protocol/ic-frame.ts`), so a malformed one reaches the
 * responder and is answered with a failure status, as any other bad header is.
 */
import {
  NTSTATUS,
  VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT,
  VmbChannelCleanup,
  VmbChannelDisable,
  VmbChannelEnable,
  VmbChannelInitSetMaximumPacketSize,
  VmbChannelInitSetProcessPacketCallbacks,
  VmbChannelInitSetStateChangeCallbacks,
  VmbChannelPacketComplete,
  VmbClientChannelInitSetRingBufferPageCount,
  VmbClientChannelInitSetTargetPnp,
  VmbPacketAllocate,
  VmbPacketFree,
  VmbPacketSend,
  VmbPacketSetCompletionRoutine,
  type Guid,
  type NtStatus,
  type PDEVICE_OBJECT,
  type VMBCHANNEL,
  type VMBPACKET,
  type VMBPACKETCOMPLETION,
} from '../../../index.js';
import { WireError } from '../../../wire/index.js';
import type { IcGuestReply, IcServiceSpec, IcVersions } from '../protocol/index.js';
import { setUpIcChannel } from '../channel-setup.js';

/** Pages per ring, control page included: 16 KiB, as Linux opens its IC channels. */
export const IC_RING_PAGE_COUNT = 4;

/**
 * The largest packet payload an IC channel carries: what one 16 KiB ring can
 * hold, 3 data pages less the 16-byte descriptor, the 8-byte trailer and the
 * 8 bytes a writer always leaves free (linux-vmbus.md §A.1). The host's
 * requests come through a ring of this size, so every request can be answered
 * at its own length.
 */
export const IC_MAXIMUM_PACKET_SIZE = 3 * 4096 - 16 - 8 - 8;

/** Where a guest IC channel is in its life. */
export type IcGuestChannelState = 'waiting' | 'open' | 'closed' | 'stopped';

/** A service's answer to one host message, given the versions negotiated so far. */
export type IcResponder<E> = (request: Uint8Array, versions: IcVersions | undefined) => IcGuestReply<E> | WireError;

export interface IcGuestChannelOptions<E> {
  /** The VMBus device object the channel is allocated on. */
  readonly device: PDEVICE_OBJECT;
  readonly spec: IcServiceSpec;
  /** Open only the offer with this instance GUID (default: the first offer of the class). */
  readonly instanceId?: Guid | undefined;
  readonly respond: IcResponder<E>;
  /**
   * Runs once the answer that produced `event` is visible to the host: on a
   * later turn than the one that wrote it into the ring, since the KMCL
   * publishes what a drain writes at the end of its batch. Never before:
   * shutdown acts only then.
   */
  readonly onEvent?: ((event: E) => void) | undefined;
  /** Told of every message answered with a failure status or refused, with the reason. */
  readonly onFailure?: ((error: WireError) => void) | undefined;
}

/** Counts of what the channel did with the host's messages. */
export interface IcGuestCounters {
  /** Messages answered with success. */
  answered: number;
  /** Messages answered with a failure status (malformed, unexpected, refused by the service). */
  failed: number;
  /** Packets too short to carry the headers: completed without an answer. */
  refused: number;
  /** Answers that could not be sent (no packet object, or the send was refused). */
  unsent: number;
}

/**
 * One IC service's channel on the guest. Allocate and configure it with
 * `open`, which also enables it: it opens as soon as the host offers the
 * service, and each opening restarts the protocol (the host negotiates first).
 */
export class IcGuestChannel<E> {
  readonly counters: IcGuestCounters = { answered: 0, failed: 0, refused: 0, unsent: 0 };
  #state: IcGuestChannelState = 'waiting';
  #versions: IcVersions | undefined;
  readonly #channel: VMBCHANNEL;
  readonly #options: IcGuestChannelOptions<E>;

  private constructor(channel: VMBCHANNEL, options: IcGuestChannelOptions<E>) {
    this.#channel = channel;
    this.#options = options;
  }

  /**
   * Allocates, configures and enables the channel. Throws a KmclError with the
   * status of the KMCL call that failed (the channel is cleaned up first).
   */
  static open<E>(options: IcGuestChannelOptions<E>): IcGuestChannel<E> {
    return setUpIcChannel(options.device, false, options.spec.name, (channel) => {
      const ic = new IcGuestChannel(channel, options);
      return { owner: ic, steps: ic.#setup() };
    });
  }

  get state(): IcGuestChannelState {
    return this.#state;
  }

  /** The versions the host and this guest settled on; undefined before negotiation or after a failed one. */
  get versions(): IcVersions | undefined {
    return this.#versions;
  }

  /** The KMCL channel handle, for callers that want to query it. */
  get handle(): VMBCHANNEL {
    return this.#channel;
  }

  /** Closes the channel (if open) and disposes of it. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    await VmbChannelDisable(this.#channel);
    this.#state = 'stopped';
    VmbChannelCleanup(this.#channel);
  }

  /** The init-time settings and the enable, in order. */
  #setup(): (() => NtStatus)[] {
    const channel = this.#channel;
    const { spec, instanceId } = this.#options;
    const callbacks = VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT();
    callbacks.EvtChannelOpened = () => {
      // A new opening is a new protocol run: the host negotiates again.
      this.#versions = undefined;
      this.#state = 'open';
      return NTSTATUS.STATUS_SUCCESS;
    };
    callbacks.EvtChannelClosed = () => {
      this.#versions = undefined;
      if (this.#state !== 'stopped') this.#state = 'closed';
    };
    return [
      () => VmbClientChannelInitSetTargetPnp(channel, spec.classId, instanceId ?? null, null),
      () => VmbClientChannelInitSetRingBufferPageCount(channel, IC_RING_PAGE_COUNT, IC_RING_PAGE_COUNT),
      () => VmbChannelInitSetMaximumPacketSize(channel, IC_MAXIMUM_PACKET_SIZE),
      () => VmbChannelInitSetStateChangeCallbacks(channel, callbacks),
      () => VmbChannelInitSetProcessPacketCallbacks(channel, this.#processPacket, null),
      () => VmbChannelEnable(channel),
    ];
  }

  readonly #processPacket = (
    _channel: VMBCHANNEL,
    packet: VMBPACKETCOMPLETION,
    buffer: Uint8Array,
    length: number,
  ): void => {
    // The responder copies the request before reading it: the bytes are read once.
    const reply = this.#options.respond(buffer.subarray(0, length), this.#versions);
    VmbChannelPacketComplete(packet, null, 0);
    if (reply instanceof WireError) {
      this.counters.refused++;
      this.#options.onFailure?.(reply);
      return;
    }
    this.#versions = reply.versions;
    if (reply.error !== undefined) {
      this.counters.failed++;
      this.#options.onFailure?.(reply.error);
    } else {
      this.counters.answered++;
    }
    this.#send(reply.response, reply.event);
  };

  /** Sends the answer; the event (if any) follows once the host can read it. */
  #send(response: Uint8Array, event: E | undefined): void {
    const outgoing = VmbPacketAllocate(this.#channel);
    if (outgoing === null) {
      this.counters.unsent++;
      return;
    }
    VmbPacketSetCompletionRoutine(outgoing, (sent: VMBPACKET, status: NtStatus) => {
      VmbPacketFree(sent);
      const onEvent = this.#options.onEvent;
      if (status !== NTSTATUS.STATUS_SUCCESS || event === undefined || onEvent === undefined) return;
      this.#options.device.context.scheduler.schedule(() => onEvent(event), 0);
    });
    const status = VmbPacketSend(outgoing, response, response.length, null, 0);
    if (status !== NTSTATUS.STATUS_SUCCESS) {
      this.counters.unsent++;
      VmbPacketFree(outgoing);
    }
  }
}
