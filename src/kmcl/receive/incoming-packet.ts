/**
 * An incoming packet object (VMBPACKETCOMPLETION): one packet the peer sent,
 * from the moment it is taken from the ring until the driver completes it.
 * Its payload is copied out of the ring into storage the object keeps and
 * reuses, so the buffer the driver got stays valid until completion.
 */
import type { GpaRange } from '../../memory/index.js';
import { copyUnitRun } from '../../ring/index.js';
import type { KmclChannel } from '../channel/channel.js';
import type { VMBPACKETCOMPLETION } from '../types.js';
import type { ExternalDataMapping } from './external-data.js';

/** In the channel's free list. */
export const INCOMING_FREE = 0;
/** Given to the driver (process-packet callback); it must complete, fail or defer it. */
export const INCOMING_DELIVERED = 1;
/** Deferred to PASSIVE_LEVEL: waiting on the passive queue to be delivered again. */
export const INCOMING_DEFERRED = 2;
/** Completed by the driver; its completion packet waits for ring space. */
export const INCOMING_COMPLETING = 3;

export class KmclIncomingPacket {
  state = INCOMING_FREE;
  packetType = 0;
  /** EvtVmbChannelProcessPacket Flags (VMBUS_CHANNEL_PROCESS_PACKET_FLAG_EXTERNAL_DATA). */
  flags = 0;
  transactionIdLo = 0;
  transactionIdHi = 0;
  completionRequested = false;
  /** The payload handed to the driver: a view of `data`. */
  buffer: Uint8Array;
  /** GPA-direct ranges as the peer sent them (copied out of the ring and validated), else null. */
  ranges: readonly GpaRange[] | null = null;
  mapping: ExternalDataMapping | null = null;
  /** Being delivered by a process-packet call right now (VmbChannelPacketDeferToPassive is only valid then). */
  inCallback = false;
  deferRequested = false;
  /** The completion payload to send back: a view of `completionData`. */
  completionView: Uint8Array;
  readonly clientContext: Uint8Array;
  private data: Uint8Array;
  /** The array `buffer` is a view of (`data` before it last grew, or now). */
  private bufferViews: Uint8Array | null = null;
  /** The array `completionView` is a view of. */
  private completionViewViews: Uint8Array | null = null;
  /** `data` as 8-byte units, for the aligned copy. */
  private dataUnits: BigInt64Array = new BigInt64Array(0);
  private completionData: Uint8Array;

  constructor(
    readonly channel: KmclChannel,
    clientContextSize: number,
  ) {
    this.data = new Uint8Array(0);
    this.buffer = this.data;
    this.completionData = this.data;
    this.completionView = this.data;
    this.clientContext = new Uint8Array(clientContextSize);
  }

  get handle(): VMBPACKETCOMPLETION {
    return this as unknown as VMBPACKETCOMPLETION;
  }

  /** Delivered or deferred: the driver holds the handle and must finish the packet. */
  get ownedByDriver(): boolean {
    return this.state === INCOMING_DELIVERED || this.state === INCOMING_DEFERRED;
  }

  /**
   * Copies `length` bytes of `source` (the reader's private copy; `sourceUnits`
   * is the same memory as 8-byte units) from `offset` as the payload. Small
   * aligned payloads (always so for a ring packet: payloads start and end on
   * 8-byte boundaries of the reader's copy) go by 8-byte units, which
   * beats making a source view for `set`; the rest is out of line, so this
   * stays small enough for V8 to inline into the drain.
   */
  setPayload(source: Uint8Array, sourceUnits: BigInt64Array, offset: number, length: number): void {
    if (this.data.length < length) this.grow(length);
    // Reuse the last view when the length repeats (the common case): no allocation per packet.
    // (Compared by the array it views: a typed array's `.buffer` getter is slow on this path.)
    if (this.buffer.length !== length || this.bufferViews !== this.data) {
      this.buffer = this.data.subarray(0, length);
      this.bufferViews = this.data;
    }
    if (length <= 256 && ((offset | length) & 7) === 0) {
      copyUnitRun(sourceUnits, offset >>> 3, length >>> 3, this.dataUnits, 0);
    } else {
      this.copyBytes(source, offset, length);
    }
  }

  /** Room for `length` payload bytes: a whole number of 8-byte units, so the unit view covers every byte. */
  private grow(length: number): void {
    this.data = new Uint8Array(Math.ceil(Math.max(length, this.data.length * 2, 64) / 8) * 8);
    this.dataUnits = new BigInt64Array(this.data.buffer, 0, this.data.length >>> 3);
  }

  /** The payload copy the unit loop does not take: large (`set` wins) or unaligned (byte by byte). */
  private copyBytes(source: Uint8Array, offset: number, length: number): void {
    const buffer = this.buffer;
    if (length > 256) buffer.set(source.subarray(offset, offset + length));
    else for (let i = 0; i < length; i++) buffer[i] = source[offset + i]!;
  }

  /** Copies the driver's completion payload so it can wait for ring space after the call returns. */
  setCompletion(source: Uint8Array | null, length: number): void {
    if (this.completionData.length < length) {
      this.completionData = new Uint8Array(Math.max(length, this.completionData.length * 2, 64));
    }
    const last = this.completionView;
    let view = last;
    if (last.length !== length || this.completionViewViews !== this.completionData) {
      view = this.completionData.subarray(0, length);
      this.completionViewViews = this.completionData;
    }
    if (source !== null && length > 0) view.set(source.length === length ? source : source.subarray(0, length));
    this.completionView = view;
  }
}
