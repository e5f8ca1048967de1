/**
 * One packet the peer sent, as `Channel.packets()` yields it: its payload,
 * its external data, and its completion. Every packet must be completed
 * (or failed) exactly once; until then it counts against the channel's
 * transaction quota, which is what holds the peer back when the consumer is slow.
 */
import { NTSTATUS } from '../../wire/ntstatus.js';
import { VMBUS_CHANNEL_PACKET_EXTERNAL_DATA_FLAG_READ_ONLY, VMBUS_CHANNEL_PROCESS_PACKET_FLAG_EXTERNAL_DATA } from '../flags.js';
import { VmbChannelPacketComplete, VmbChannelPacketFail, VmbChannelPacketGetExternalData } from '../receive/incoming-functions.js';
import type { ExternalDataMapping } from '../receive/external-data.js';
import type { Out, VMBPACKETCOMPLETION } from '../types.js';
import { ensureSuccess } from './ensure-success.js';
import { ExternalData } from './external-data.js';
import type { PublicationBatch } from './publication-batch.js';

const NO_BYTES = new Uint8Array(0);

export class IncomingPacket {
  /**
   * The payload without VMBus headers (padded to 8 bytes: the wire carries
   * no unpadded length). Valid until the packet is completed; empty after.
   */
  data: Uint8Array;
  readonly #handle: VMBPACKETCOMPLETION;
  readonly #flags: number;
  readonly #batch: PublicationBatch;
  #finished = false;

  /** `batch`: the channel's, so completions made in one burst go out together. */
  constructor(handle: VMBPACKETCOMPLETION, data: Uint8Array, flags: number, batch: PublicationBatch) {
    this.#handle = handle;
    this.data = data;
    this.#flags = flags;
    this.#batch = batch;
  }

  /** The VMBPACKETCOMPLETION behind it, for the interface functions (VmbChannelPacketGetClientContext, …). */
  get handle(): VMBPACKETCOMPLETION {
    return this.#handle;
  }

  /** The peer attached external data (GPA-direct ranges or transfer pages). */
  get hasExternalData(): boolean {
    return (this.#flags & VMBUS_CHANNEL_PROCESS_PACKET_FLAG_EXTERNAL_DATA) !== 0;
  }

  /** Completed or failed already. */
  get isFinished(): boolean {
    return this.#finished;
  }

  /**
   * VmbChannelPacketGetExternalData: the packet's external data, valid until
   * it is completed. KmclError STATUS_NOT_FOUND for a packet without any,
   * STATUS_NOT_SUPPORTED for transfer pages, STATUS_DATA_ERROR for ranges
   * outside guest memory, STATUS_INVALID_BUFFER_SIZE beyond the channel's limits.
   */
  externalData(options: { readonly readOnly?: boolean } = {}): ExternalData {
    const mapping: Out<ExternalDataMapping | null> = { value: null };
    const flags = options.readOnly === true ? VMBUS_CHANNEL_PACKET_EXTERNAL_DATA_FLAG_READ_ONLY : 0;
    ensureSuccess(VmbChannelPacketGetExternalData(this.#handle, flags, mapping), 'VmbChannelPacketGetExternalData');
    return new ExternalData(mapping.value!);
  }

  /**
   * VmbChannelPacketComplete: done with the packet; `response` goes back in
   * the completion packet when the peer asked for one. KmclError
   * STATUS_INVALID_PARAMETER_1 when the packet was finished already,
   * STATUS_INVALID_PARAMETER_3 for a response the ring can never carry.
   */
  complete(response?: Uint8Array): void {
    this.#batch.join();
    const status = VmbChannelPacketComplete(this.#handle, response ?? null, response?.length ?? 0);
    if (status === NTSTATUS.STATUS_SUCCESS) this.#finish();
    ensureSuccess(status, 'VmbChannelPacketComplete');
  }

  /**
   * VmbChannelPacketFail: the packet is malformed beyond recovery; no
   * completion goes back and the channel takes no more packets until it is
   * closed and opened again.
   */
  fail(): void {
    const status = VmbChannelPacketFail(this.#handle);
    if (status === NTSTATUS.STATUS_SUCCESS) this.#finish();
    ensureSuccess(status, 'VmbChannelPacketFail');
  }

  #finish(): void {
    this.#finished = true;
    this.data = NO_BYTES;
  }
}
