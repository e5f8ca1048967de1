/**
 * Handle, callback and structure types of the KMCL client interface, named as
 * in vmbuskernelmodeclientlibapi.h. Handles are opaque: pass them back to the
 * interface functions, which check them (a wrong, freed or foreign handle is
 * STATUS_INVALID_PARAMETER_1, never a throw).
 */
import type { NtStatus } from '../wire/ntstatus.js';

declare const channelBrand: unique symbol;
declare const packetBrand: unique symbol;
declare const completionBrand: unique symbol;

/** A channel object made by VmbChannelAllocate. */
export interface VmbChannelObject {
  readonly [channelBrand]: 'VMBCHANNEL';
}
/** A packet object made by VmbPacketAllocate. */
export interface VmbPacketObject {
  readonly [packetBrand]: 'VMBPACKET';
}

/**
 * VMBCHANNEL: a channel object, or the caller's storage a channel was
 * initialized in (VmbChannelInitialize), which is the handle as in C.
 */
export type VMBCHANNEL = VmbChannelObject | Uint8Array;
/** VMBPACKET: a packet object, or the caller's storage a packet was initialized in (VmbPacketInitialize). */
export type VMBPACKET = VmbPacketObject | Uint8Array;
/** VMBPACKETCOMPLETION: identifies an incoming packet until it is completed. */
export interface VMBPACKETCOMPLETION {
  readonly [completionBrand]: 'VMBPACKETCOMPLETION';
}

/** An out-parameter (`T *` in C): the callee sets `value`. */
export interface Out<T> {
  value: T;
}

/** A KeWaitForSingleObject-style timeout (LARGE_INTEGER): negative is relative, in 100 ns units. */
export interface LARGE_INTEGER {
  QuadPart: number | bigint;
}

/** EvtVmbChannelOpened: the channel opened; a failure status rolls it back (may return a Promise). */
export type PFN_VMB_CHANNEL_OPENED = (Channel: VMBCHANNEL) => NtStatus | Promise<NtStatus>;
/** EvtVmbChannelClosed: the channel closed (locally or by the peer). */
export type PFN_VMB_CHANNEL_CLOSED = (Channel: VMBCHANNEL) => void | Promise<void>;
/** EvtVmbChannelSuspend: no more process-packet callbacks; complete the outstanding packets. */
export type PFN_VMB_CHANNEL_SUSPEND = (Channel: VMBCHANNEL) => void | Promise<void>;
/** EvtVmbChannelStarted: configured, incoming queue not yet running (do not wait on completions). */
export type PFN_VMB_CHANNEL_STARTED = (Channel: VMBCHANNEL) => void | Promise<void>;
/** EvtVmbChannelPostStarted: packets flow both ways (synchronous requests are fine here). */
export type PFN_VMB_CHANNEL_POST_STARTED = (Channel: VMBCHANNEL) => void | Promise<void>;
/** EvtChannelPnpFailure: the channel failed to connect after its device was found. */
export type PFN_VMB_CHANNEL_PNP_FAILURE = (Channel: VMBCHANNEL, FailureStatus: NtStatus) => void;

/**
 * EvtVmbChannelProcessPacket, at DISPATCH_LEVEL (synchronously while the ring
 * is drained) unless processing was moved to PASSIVE_LEVEL. `Buffer` is the
 * payload without VMBus headers, padding included (the wire carries no
 * unpadded length); it stays valid until the packet is completed.
 */
export type PFN_VMB_CHANNEL_PROCESS_PACKET = (
  Channel: VMBCHANNEL,
  Packet: VMBPACKETCOMPLETION,
  Buffer: Uint8Array,
  BufferLength: number,
  Flags: number,
) => void;
/** EvtVmbChannelProcessingComplete: a batch of `PacketsProcessed` packets ended. */
export type PFN_VMB_CHANNEL_PROCESSING_COMPLETE = (Channel: VMBCHANNEL, PacketsProcessed: number) => void;

/**
 * The V5 process-packet callback (no DDI page). Decision: the same arguments
 * plus the packet's client context area (empty without a context size), which
 * saves the VmbChannelPacketGetClientContext call per packet.
 */
export type PFN_VMB_CHANNEL_PROCESS_PACKET_EX = (
  Channel: VMBCHANNEL,
  Packet: VMBPACKETCOMPLETION,
  Buffer: Uint8Array,
  BufferLength: number,
  Flags: number,
  ClientContext: Uint8Array,
) => void;
/**
 * The V5 processing-complete callback (no DDI page). Decision: adds
 * `MorePending`, true when the batch ended with packets still in the ring
 * (transaction quota reached, DPC budget used up, queue paused) rather than
 * because the ring was empty.
 */
export type PFN_VMB_CHANNEL_PROCESSING_COMPLETE_EX = (
  Channel: VMBCHANNEL,
  PacketsProcessed: number,
  MorePending: boolean,
) => void;

/**
 * EvtVmbPacketCompletionRoutine: the sent packet's transaction ended. `Buffer`
 * holds the peer's completion payload (valid during the call only), or is
 * empty when no completion was asked for or the channel went away first.
 */
export type PFN_VMB_PACKET_COMPLETION_ROUTINE = (
  Packet: VMBPACKET,
  Status: NtStatus,
  Buffer: Uint8Array,
  BufferLength: number,
) => void;
/**
 * The V5 completion routine (no DDI page). Decision: the same arguments plus
 * the context value given to VmbPacketSetCompletionRoutineEx, so one routine
 * can serve many packets without a per-packet pointer lookup.
 */
export type PFN_VMB_PACKET_COMPLETION_ROUTINE_EX = (
  Packet: VMBPACKET,
  Status: NtStatus,
  Buffer: Uint8Array,
  BufferLength: number,
  CompletionContext: unknown,
) => void;

/** The structure VmbChannelInitSetStateChangeCallbacks takes; initialize it with VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT. */
export interface VMB_CHANNEL_STATE_CHANGE_CALLBACKS {
  Version: number;
  Size: number;
  EvtChannelOpened: PFN_VMB_CHANNEL_OPENED | null;
  EvtChannelClosed: PFN_VMB_CHANNEL_CLOSED | null;
  EvtChannelSuspend: PFN_VMB_CHANNEL_SUSPEND | null;
  EvtChannelStarted: PFN_VMB_CHANNEL_STARTED | null;
  EvtChannelPostStarted: PFN_VMB_CHANNEL_POST_STARTED | null;
}

/** The version VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT writes (the header's inline function sets 1). */
export const VMB_CHANNEL_STATE_CHANGE_CALLBACKS_VERSION = 1;
/** sizeof(VMB_CHANNEL_STATE_CHANGE_CALLBACKS) on x64: two ULONGs and five function pointers. */
export const VMB_CHANNEL_STATE_CHANGE_CALLBACKS_SIZE = 4 + 4 + 5 * 8;

/**
 * VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT: clears `Callbacks` (a fresh object
 * when omitted) to no callbacks with the right Version and Size, and returns it,
 * so `VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT(callbacks)` ports from C as is.
 */
export function VMB_CHANNEL_STATE_CHANGE_CALLBACKS_INIT(
  Callbacks: Partial<VMB_CHANNEL_STATE_CHANGE_CALLBACKS> = {},
): VMB_CHANNEL_STATE_CHANGE_CALLBACKS {
  return Object.assign(Callbacks, {
    Version: VMB_CHANNEL_STATE_CHANGE_CALLBACKS_VERSION,
    Size: VMB_CHANNEL_STATE_CHANGE_CALLBACKS_SIZE,
    EvtChannelOpened: null,
    EvtChannelClosed: null,
    EvtChannelSuspend: null,
    EvtChannelStarted: null,
    EvtChannelPostStarted: null,
  });
}
