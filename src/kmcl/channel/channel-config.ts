/**
 * A channel's init-time settings (the VmbChannelInitSet* / VmbClientChannelInitSet*
 * values) and their defaults. The header says the ring sizes derive in part
 * from the maximum packet size and the external-data limits: `ringPagesNeeded`
 * is that derivation.
 */
import type { Guid } from '../../wire/guid.js';
import { RING_PAGE_SIZE } from '../../wire/ring-control.js';
import { PACKET_DESCRIPTOR_SIZE, PACKET_TRAILER_SIZE, alignPacketLength } from '../../wire/packet-descriptor.js';
import { GPA_DIRECT_HEADER_SIZE } from '../../wire/packet.js';
import { GPA_RANGE_HEADER_SIZE, GPN_SIZE } from '../../wire/gpa-range.js';
import type {
  PFN_VMB_CHANNEL_PNP_FAILURE,
  PFN_VMB_CHANNEL_PROCESSING_COMPLETE,
  PFN_VMB_CHANNEL_PROCESSING_COMPLETE_EX,
  PFN_VMB_CHANNEL_PROCESS_PACKET,
  PFN_VMB_CHANNEL_PROCESS_PACKET_EX,
  VMB_CHANNEL_STATE_CHANGE_CALLBACKS,
} from '../types.js';
import type { KmclChannel } from './channel.js';
import { VMBUS_CHANNEL_INIT_FLAG_IS_PIPE } from '../flags.js';

/** Decision (the DDI pages give no defaults): packets of up to 4 KiB unless VmbChannelInitSetMaximumPacketSize says otherwise. */
export const DEFAULT_MAXIMUM_PACKET_SIZE = 4096;
/** Decision: 16 pages (64 KiB) per ring unless VmbClientChannelInitSetRingBufferPageCount says otherwise. */
export const DEFAULT_RING_PAGE_COUNT = 16;
/** Decision: at most 64 KiB of client context per incoming packet (bounds per-packet memory). */
export const MAXIMUM_CLIENT_CONTEXT_SIZE = 0x1_0000;
/** Decision: at most 64 KiB of inline context per packet object. */
export const MAXIMUM_INLINE_PACKET_CONTEXT_SIZE = 0x1_0000;
/** The largest in-band payload a packet descriptor can describe (length8 is a u16). */
export const MAXIMUM_PACKET_SIZE_LIMIT = 0xffff * 8 - PACKET_DESCRIPTOR_SIZE;
/** The pipe header every data packet of a pipe-mode channel starts with: packet_type u32, len u32 (openvmm-vmbus.md §6.3). */
export const PIPE_HEADER_SIZE = 8;

/** What VmbClientChannelInitSetTargetPnp set. */
export interface ChannelTarget {
  readonly interfaceId: Guid;
  readonly instanceId: Guid | undefined;
  readonly pnpFailure: PFN_VMB_CHANNEL_PNP_FAILURE | null;
}

/** The bounce-buffer reservation of VmbChannelInitSetBounceBufferSizes. */
export interface BounceBufferSizes {
  /** Guest pages reserved for bounce buffers when the channel opens. */
  readonly poolPageCount: number;
  /** Pages one bounce buffer may take. */
  readonly maximumBufferPageCount: number;
}

export class ChannelConfig {
  maximumPacketSize = DEFAULT_MAXIMUM_PACKET_SIZE;
  /** 0: no limit set (VmbChannelInitSetMaximumExternalData was not called). */
  maximumExternalDataSize = 0;
  maximumExternalDataChainLength = 0;
  clientContextSize = 0;
  inlinePacketContextSize = 0;
  flags = 0;
  friendlyName = '';
  processPacket: PFN_VMB_CHANNEL_PROCESS_PACKET | null = null;
  processingComplete: PFN_VMB_CHANNEL_PROCESSING_COMPLETE | null = null;
  processPacketEx: PFN_VMB_CHANNEL_PROCESS_PACKET_EX | null = null;
  processingCompleteEx: PFN_VMB_CHANNEL_PROCESSING_COMPLETE_EX | null = null;
  /** A copy: the caller may reuse its structure. */
  stateCallbacks: Readonly<VMB_CHANNEL_STATE_CHANGE_CALLBACKS> | null = null;
  incomingRingPages = DEFAULT_RING_PAGE_COUNT;
  outgoingRingPages = DEFAULT_RING_PAGE_COUNT;
  target: ChannelTarget | null = null;
  primaryChannel: KmclChannel | null = null;
  targetProcessorIndex: number | undefined = undefined;
  /** 0: no limit on live packet objects. */
  maximumPacketCount = 0;
  bounceBuffers: BounceBufferSizes | null = null;

  /**
   * Ring pages (control page included) one direction needs so a packet of
   * the maximum size with the maximum external data still fits an empty ring.
   */
  ringPagesNeeded(): number {
    const pages = this.maximumExternalDataSize === 0 ? 0 : Math.ceil(this.maximumExternalDataSize / RING_PAGE_SIZE) + 1;
    const ranges = Math.max(this.maximumExternalDataChainLength, pages === 0 ? 0 : 1);
    const gpaHeader = pages === 0 ? 0 : GPA_DIRECT_HEADER_SIZE + ranges * GPA_RANGE_HEADER_SIZE + (pages + ranges) * GPN_SIZE;
    const pipe = (this.flags & VMBUS_CHANNEL_INIT_FLAG_IS_PIPE) !== 0 ? PIPE_HEADER_SIZE : 0;
    const packet = alignPacketLength(PACKET_DESCRIPTOR_SIZE + gpaHeader + pipe + this.maximumPacketSize);
    // + trailer, + the 8 bytes a writer always leaves free.
    const dataBytes = packet + PACKET_TRAILER_SIZE + PACKET_TRAILER_SIZE;
    return 1 + Math.ceil(dataBytes / RING_PAGE_SIZE);
  }
}
