/**
 * A packet object (VMBPACKET): the resources of one outgoing transaction,
 * reusable from send to send. It holds the send in progress (type, flags,
 * headers, payload view), its completion routine, and the slot that gives it
 * a transaction id; nothing is allocated per send once its buffers have grown.
 */
import type { NtStatus } from '../../wire/ntstatus.js';
import { PACKET_TYPE } from '../../wire/packet-types.js';
import { reportDriverFault } from '../driver-fault.js';
import type {
  PFN_VMB_PACKET_COMPLETION_ROUTINE,
  PFN_VMB_PACKET_COMPLETION_ROUTINE_EX,
  VMBPACKET,
  VmbPacketObject,
} from '../types.js';
import type { KmclChannel } from '../channel/channel.js';

/** Not sent, or its transaction is over: may be sent again or freed. */
export const PACKET_IDLE = 0;
/** Waiting in the channel's send queue for the ring (or for the channel to open). */
export const PACKET_QUEUED = 1;
/** In the ring with a completion requested; waiting for the peer's completion packet. */
export const PACKET_AWAITING_COMPLETION = 2;

export const EMPTY_BYTES = new Uint8Array(0);

/** The transaction id of a send made before a save, as the peer will complete it. */
export interface RestoredTransactionId {
  readonly lo: number;
  readonly hi: number;
}

export class KmclPacket {
  /** False once freed (or its channel cleaned up): the handle is then invalid. */
  live = true;
  state = PACKET_IDLE;
  pointer: unknown = null;
  /** From VmbPacketAllocate: freed by the default completion routine, returned to the lookaside list. */
  readonly pooled: boolean;
  /** The default completion routine (free the packet) applies until one is set. */
  autoFree: boolean;
  routine: PFN_VMB_PACKET_COMPLETION_ROUTINE | null = null;
  routineEx: PFN_VMB_PACKET_COMPLETION_ROUTINE_EX | null = null;
  routineContext: unknown = undefined;
  /** Called instead of the routine when the packet carries a synchronous request. */
  internalCompletion: ((status: NtStatus, buffer: Uint8Array, length: number) => void) | null = null;
  /**
   * A restored transaction (VmbPacketRestore): the id the peer knows it by,
   * sent before the save under another packet object. Null otherwise.
   */
  restoredId: RestoredTransactionId | null = null;

  // The send in progress: what `tryWrite` takes.
  packetType: number = PACKET_TYPE.VM_PKT_DATA_INBAND;
  ringFlags = 0;
  header: Uint8Array = EMPTY_BYTES;
  payload: Uint8Array = EMPTY_BYTES;
  /** Grown on demand; reused for GPA-direct headers. */
  headerStorage: Uint8Array = EMPTY_BYTES;
  /** Grown on demand; reused for PAGED_BUFFER copies and pipe framing. */
  copyStorage: Uint8Array = EMPTY_BYTES;
  /** The V5 inline packet context (a view into the caller's storage for VmbPacketInitialize packets). */
  inlineContext: Uint8Array;

  constructor(
    readonly channel: KmclChannel,
    /** Index in the channel's slot table: the low half of every transaction id this packet sends. */
    readonly slot: number,
    /** The caller's storage for VmbPacketInitialize packets (then also the handle), else null. */
    readonly storage: Uint8Array | null,
    inlineContext: Uint8Array,
  ) {
    this.pooled = storage === null;
    this.autoFree = this.pooled;
    this.inlineContext = inlineContext;
  }

  /** The handle the driver holds for this packet. */
  get handle(): VMBPACKET {
    return this.storage ?? (this as unknown as VmbPacketObject);
  }

  /** True when sending is allowed: a routine is set, or the default one (pooled packets) applies. */
  get hasCompletionRoutine(): boolean {
    return this.routine !== null || this.routineEx !== null || this.autoFree || this.internalCompletion !== null;
  }

  /** Ends the transaction: the packet is idle again, then its routine runs once. */
  complete(status: NtStatus, buffer: Uint8Array, length: number): void {
    this.state = PACKET_IDLE;
    this.restoredId = null;
    this.header = EMPTY_BYTES;
    this.payload = EMPTY_BYTES;
    if (this.internalCompletion !== null) {
      this.completeInternally(status, buffer, length);
      return;
    }
    try {
      if (this.routineEx !== null) this.routineEx(this.handle, status, buffer, length, this.routineContext);
      else if (this.routine !== null) this.routine(this.handle, status, buffer, length);
      else if (this.autoFree) this.channel.pool.free(this);
    } catch (error) {
      reportDriverFault(error);
    }
  }

  /** Hands the completion to the synchronous request waiting on this packet (out of line: sends are the common case). */
  private completeInternally(status: NtStatus, buffer: Uint8Array, length: number): void {
    const internal = this.internalCompletion!;
    this.internalCompletion = null;
    internal(status, buffer, length);
  }

  /** A view of `length` bytes of `copyStorage`, grown first if needed. */
  copyArea(length: number): Uint8Array {
    if (this.copyStorage.length < length) this.copyStorage = new Uint8Array(Math.max(length, this.copyStorage.length * 2, 64));
    return this.copyStorage.length === length ? this.copyStorage : this.copyStorage.subarray(0, length);
  }

  /** A view of `length` bytes of `headerStorage`, grown first if needed. */
  headerArea(length: number): Uint8Array {
    if (this.headerStorage.length < length) this.headerStorage = new Uint8Array(Math.max(length, this.headerStorage.length * 2, 64));
    return this.headerStorage.length === length ? this.headerStorage : this.headerStorage.subarray(0, length);
  }
}
