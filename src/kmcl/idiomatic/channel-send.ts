/**
 * Sending on the idiomatic API: `send` (a packet object from the channel's
 * lookaside list, VmbPacketSend* and a completion routine that settles a
 * promise) and `request` (VmbChannelSendSynchronousRequest). Statuses are the
 * interface functions' own; a failure rejects with a KmclError carrying it.
 */
import { Mdl } from '../../memory/index.js';
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import {
  VMBUS_CHANNEL_FORMAT_FLAG_FORCE_MDL_LENGTH,
  VMBUS_CHANNEL_FORMAT_FLAG_PAGED_BUFFER,
  VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION,
} from '../flags.js';
import { VmbPacketAllocate, VmbPacketFree, VmbPacketSetCompletionRoutineEx } from '../packet/packet-functions.js';
import { VmbPacketSend, VmbPacketSendWithExternalMdl, VmbPacketSendWithExternalPfns } from '../packet/send.js';
import { VmbChannelSendSynchronousRequest } from '../sync-request.js';
import { KmclError } from '../kmcl-error.js';
import type { LARGE_INTEGER, Out, VMBCHANNEL, VMBPACKET } from '../types.js';
import { GuestBuffer } from './guest-buffer.js';
import type { PublicationBatch } from './publication-batch.js';

/**
 * External data for a send, sent GPA-direct (the peer reads the pages in place):
 * a guest buffer or an MDL chain whole; a slice of an MDL chain
 * (VmbPacketSendWithExternalMdl: `length` 0 or omitted means to the end;
 * `forceLength` takes the length past the MDL's byte count, up to the end of
 * its last page); or whole pages (VmbPacketSendWithExternalPfns).
 */
export type ExternalDataSource =
  | GuestBuffer
  | Mdl
  | { readonly mdl: Mdl; readonly offset?: number; readonly length?: number; readonly forceLength?: boolean }
  | { readonly pfns: readonly number[]; readonly count?: number };

export interface SendOptions {
  /**
   * Resolve with the peer's completion payload once it completes the packet
   * (default false: resolve once the packet is in the ring). External data
   * needs it, so it defaults to true when `external` is given.
   */
  readonly waitForCompletion?: boolean;
  readonly external?: ExternalDataSource;
  /**
   * Copy the payload at once (default true), so the caller may reuse it when
   * `send` returns. False saves the copy: the payload must then stay unchanged
   * until the send settles (it may wait in the queue while the ring is full).
   */
  readonly copy?: boolean;
}

export interface RequestOptions {
  /** Give up after this many milliseconds (the request is cancelled: STATUS_CANCELLED); default: wait forever. */
  readonly timeout?: number;
  /** Bytes kept for the response (rounded up to 8; default the channel's maximum packet size). */
  readonly responseCapacity?: number;
  readonly external?: GuestBuffer | Mdl;
  /** Wait for the peer's completion (default true); false resolves, with no bytes, once the packet is in the ring. */
  readonly waitForCompletion?: boolean;
}

const NO_BYTES = new Uint8Array(0);

/** What a packet's completion routine settles. */
interface PendingSend {
  readonly resolve: (response: Uint8Array) => void;
  readonly reject: (error: KmclError) => void;
}

/** One routine for every send: the promise to settle rides along as the completion context. */
function sendCompleted(packet: VMBPACKET, status: NtStatus, buffer: Uint8Array, length: number, context: unknown): void {
  VmbPacketFree(packet);
  const pending = context as PendingSend;
  if (status !== NTSTATUS.STATUS_SUCCESS) pending.reject(new KmclError(status, 'the send did not complete'));
  // The buffer is valid during the routine only: the caller gets a copy.
  else pending.resolve(length === 0 ? NO_BYTES : buffer.slice(0, length));
}

/** Sends with the VmbPacketSend* function the external data calls for. */
function sendWith(packet: VMBPACKET, payload: Uint8Array, flags: number, external: ExternalDataSource | undefined): NtStatus {
  if (external === undefined) return VmbPacketSend(packet, payload, payload.length, null, flags);
  if (external instanceof GuestBuffer || external instanceof Mdl) {
    return VmbPacketSend(packet, payload, payload.length, external instanceof GuestBuffer ? external.mdl : external, flags);
  }
  if ('pfns' in external) {
    return VmbPacketSendWithExternalPfns(packet, payload, payload.length, external.pfns, external.count ?? external.pfns.length, flags);
  }
  const force = external.forceLength === true ? VMBUS_CHANNEL_FORMAT_FLAG_FORCE_MDL_LENGTH : 0;
  return VmbPacketSendWithExternalMdl(packet, payload, payload.length, external.mdl, external.offset ?? 0, external.length ?? 0, flags | force);
}

/** The name of the function `sendWith` called, for the error's message. */
function sendFunctionName(external: ExternalDataSource | undefined): string {
  if (external === undefined || external instanceof GuestBuffer || external instanceof Mdl) return 'VmbPacketSend';
  return 'pfns' in external ? 'VmbPacketSendWithExternalPfns' : 'VmbPacketSendWithExternalMdl';
}

/** Sends `payload` on `channel` (published with the rest of `batch`); see `Channel.send`. */
export function sendPacket(channel: VMBCHANNEL, payload: Uint8Array, options: SendOptions, batch: PublicationBatch): Promise<Uint8Array> {
  const packet = VmbPacketAllocate(channel);
  if (packet === null) {
    return Promise.reject(new KmclError(NTSTATUS.STATUS_INSUFFICIENT_RESOURCES, 'VmbPacketAllocate: no packet object left'));
  }
  const wait = options.waitForCompletion ?? options.external !== undefined;
  let flags = wait ? VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION : 0;
  if (options.copy !== false) flags |= VMBUS_CHANNEL_FORMAT_FLAG_PAGED_BUFFER;
  return new Promise((resolve, reject) => {
    const pending: PendingSend = { resolve, reject };
    VmbPacketSetCompletionRoutineEx(packet, sendCompleted, pending);
    batch.join();
    const status = sendWith(packet, payload, flags, options.external);
    if (status !== NTSTATUS.STATUS_SUCCESS) {
      VmbPacketFree(packet);
      reject(new KmclError(status, sendFunctionName(options.external)));
    }
  });
}

/** The LARGE_INTEGER timeout of a wait in milliseconds (relative: negative, 100 ns units). */
function relativeTimeout(milliseconds: number): LARGE_INTEGER {
  if (!Number.isFinite(milliseconds) || milliseconds < 0) {
    throw new KmclError(NTSTATUS.STATUS_INVALID_PARAMETER, `timeout ${milliseconds} is not a number of milliseconds`);
  }
  return { QuadPart: -Math.round(milliseconds * 10_000) };
}

/** Sends a synchronous request on `channel`; see `Channel.request`. */
export async function sendRequest(
  channel: VMBCHANNEL,
  payload: Uint8Array,
  options: RequestOptions,
  defaultCapacity: number,
): Promise<Uint8Array> {
  const timeout = options.timeout === undefined ? null : relativeTimeout(options.timeout);
  // VmbChannelSendSynchronousRequest takes completion buffer sizes in multiples of 8.
  const capacity = Math.ceil((options.responseCapacity ?? defaultCapacity) / 8) * 8;
  const response = new Uint8Array(capacity);
  const size: Out<number> = { value: capacity };
  const wait = options.waitForCompletion !== false;
  const external = options.external instanceof GuestBuffer ? options.external.mdl : options.external ?? null;
  const status = await VmbChannelSendSynchronousRequest(
    channel,
    payload,
    payload.length,
    external,
    wait ? VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION : 0,
    response,
    size,
    timeout,
  );
  if (status === NTSTATUS.STATUS_BUFFER_OVERFLOW) {
    const why = wait ? `the response is longer than ${capacity} bytes` : 'the ring has no room now';
    throw new KmclError(status, `VmbChannelSendSynchronousRequest: ${why}`);
  }
  if (status === NTSTATUS.STATUS_CANCELLED) throw new KmclError(status, 'VmbChannelSendSynchronousRequest: timed out');
  if (status !== NTSTATUS.STATUS_SUCCESS) throw new KmclError(status, 'VmbChannelSendSynchronousRequest');
  return response.subarray(0, size.value);
}
