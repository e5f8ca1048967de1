/**
 * VmbChannelSendSynchronousRequest: one packet out and, with
 * WAIT_FOR_COMPLETION, the peer's completion back into the caller's buffer.
 * The request rides on a packet object from the channel's pool, so it obeys
 * the channel's queueing like any send.
 */
import { NTSTATUS, type NtStatus } from '../wire/ntstatus.js';
import { coversBytes, isOut, isU32 } from './arguments.js';
import { VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION } from './flags.js';
import { channelFrom } from './handles.js';
import { SEND_FLAGS, checkFlags, mdlRanges, submit } from './packet/send.js';
import type { Mdl } from '../memory/index.js';
import type { LARGE_INTEGER, Out, VMBCHANNEL } from './types.js';

/** The wait a KeWaitForSingleObject-style timeout asks for, in 100 ns from now; null for "forever", undefined if malformed. */
function waitOf(timeout: unknown, now: number): number | null | undefined {
  if (timeout === null || timeout === undefined) return null;
  if (typeof timeout !== 'object') return undefined;
  const quad = (timeout as Partial<LARGE_INTEGER>).QuadPart;
  const value = typeof quad === 'bigint' ? Number(quad) : quad;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) return undefined;
  // Negative: relative; positive: an absolute time on the channel's clock.
  return value <= 0 ? -value : Math.max(0, value - now);
}

/**
 * Sends `BufferSize` bytes of `Buffer` (and `ExternalDataMdl`, when given)
 * and resolves:
 * - STATUS_SUCCESS: without WAIT_FOR_COMPLETION once the packet entered the
 *   ring; with it once the peer's completion came, its payload copied into
 *   `CompletionBuffer` and its length into `CompletionBufferSize.value`;
 * - STATUS_BUFFER_OVERFLOW: a timeout of 0 and no room in the ring now
 *   (nothing was queued), or a completion longer than `CompletionBufferSize`
 *   (the first bytes were copied: the Windows meaning of the status);
 * - STATUS_CANCELLED: the timeout expired first (the packet is cancelled; a
 *   late completion is dropped). A timeout of 0 with WAIT_FOR_COMPLETION
 *   therefore always ends so: the wait is over at once;
 * - STATUS_DEVICE_REMOVED: the channel was disabled or went away first.
 * Argument statuses: _1 channel, _2 Buffer, _3 BufferSize (above the maximum
 * packet size), _4 MDL, _5 flags, _6 CompletionBuffer shorter than the size,
 * _7 a size that is not a multiple of 8 (the page's rounding rule), _8 a
 * malformed timeout; STATUS_INSUFFICIENT_RESOURCES when the channel's packet
 * limit leaves no packet object for the request. On a server channel (the
 * root) the page allows only a timeout of 0 without WAIT_FOR_COMPLETION:
 * WAIT_FOR_COMPLETION is _5 there, any other timeout (or none) _8.
 */
export function VmbChannelSendSynchronousRequest(
  Channel: VMBCHANNEL,
  Buffer: Uint8Array | null,
  BufferSize: number,
  ExternalDataMdl: Mdl | null,
  Flags: number,
  CompletionBuffer: Uint8Array | null,
  CompletionBufferSize: Out<number> | null,
  Timeout: LARGE_INTEGER | null,
): Promise<NtStatus> {
  const channel = channelFrom(Channel);
  if (channel === null) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_1);
  if (!isU32(BufferSize) || BufferSize > channel.config.maximumPacketSize) {
    return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_3);
  }
  if (!coversBytes(Buffer, BufferSize)) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_2);
  const external = ExternalDataMdl !== null && ExternalDataMdl !== undefined;
  let capacity = 0;
  if (CompletionBufferSize !== null && CompletionBufferSize !== undefined) {
    if (!isOut<number>(CompletionBufferSize) || !isU32(CompletionBufferSize.value) || CompletionBufferSize.value % 8 !== 0) {
      return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_7);
    }
    capacity = CompletionBufferSize.value;
  }
  if (!coversBytes(CompletionBuffer, capacity)) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_6);
  const wait = waitOf(Timeout, channel.scheduler.now());
  if (wait === undefined) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_8);
  if (channel.isServer) {
    // The page: the root may only call this with *Timeout == 0 and without WAIT_FOR_COMPLETION (a guest may never answer).
    if (isU32(Flags) && (Flags & VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION) !== 0) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_5);
    if (wait !== 0) return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_8);
  }
  const packet = channel.pool.allocate();
  if (packet === null) return Promise.resolve(NTSTATUS.STATUS_INSUFFICIENT_RESOURCES);
  const release = (): void => channel.pool.free(packet);
  const ranges = external ? mdlRanges(packet, ExternalDataMdl, 0, 0, false) : null;
  if (external && ranges === null) {
    release();
    return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_4);
  }
  if (!checkFlags(packet, Flags, SEND_FLAGS, external)) {
    release();
    return Promise.resolve(NTSTATUS.STATUS_INVALID_PARAMETER_5);
  }
  return new Promise<NtStatus>((resolve) => {
    let timedOut = false;
    let settled = false;
    let cancelWait: (() => void) | undefined;
    packet.internalCompletion = (status, buffer, length) => {
      settled = true;
      cancelWait?.();
      release();
      if (status !== NTSTATUS.STATUS_SUCCESS) {
        if (timedOut) resolve(NTSTATUS.STATUS_CANCELLED);
        else resolve(status === NTSTATUS.STATUS_CANCELLED ? NTSTATUS.STATUS_DEVICE_REMOVED : status);
        return;
      }
      const copied = Math.min(length, capacity);
      if (copied > 0) CompletionBuffer!.set(buffer.subarray(0, copied));
      if (CompletionBufferSize !== null && CompletionBufferSize !== undefined) CompletionBufferSize.value = copied;
      resolve(length > capacity && (Flags & VMBUS_CHANNEL_FORMAT_FLAG_WAIT_FOR_COMPLETION) !== 0 ? NTSTATUS.STATUS_BUFFER_OVERFLOW : NTSTATUS.STATUS_SUCCESS);
    };
    const status = submit(packet, Buffer, BufferSize, ranges, Flags, wait === 0);
    if (status !== NTSTATUS.STATUS_SUCCESS) {
      packet.internalCompletion = null;
      release();
      resolve(status);
      return;
    }
    // Settled already (completed within submit): there is nothing left to time out.
    if (wait !== null && !settled) {
      // The completion cancels this: once settled, the packet went back to the pool and may carry someone else's send.
      cancelWait = channel.scheduler.schedule(() => {
        timedOut = true;
        channel.sends.cancel(packet, NTSTATUS.STATUS_CANCELLED);
      }, wait);
    }
  });
}
