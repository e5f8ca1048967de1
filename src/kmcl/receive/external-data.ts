/**
 * The external data of an incoming GPA-direct packet, as
 * VmbChannelPacketGetExternalData returns it: an MDL chain over the ranges the
 * peer sent, and bounds-checked access to those bytes (refusing writes when
 * mapped read-only). It becomes invalid when the packet is completed.
 */
import { Mdl, PagedBuffer, type GpaRange, type GuestMemory, MemoryError } from '../../memory/index.js';
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';

export class ExternalDataMapping {
  readonly readOnly: boolean;
  private valid = true;
  // Built on first use: a driver that only copies the bytes never pays for a second copy of the page lists.
  private chain: Mdl | undefined;

  private constructor(
    private readonly buffer: PagedBuffer,
    readOnly: boolean,
  ) {
    this.readOnly = readOnly;
  }

  /** Maps validated ranges; a MemoryError when a range leaves guest memory. */
  static map(memory: GuestMemory, ranges: readonly GpaRange[], readOnly: boolean): ExternalDataMapping | MemoryError {
    const buffer = PagedBuffer.fromRanges(memory, ranges);
    return buffer instanceof MemoryError ? buffer : new ExternalDataMapping(buffer, readOnly);
  }

  /** The MDL chain (one piece per GPA range), as a driver would pass down for DMA. */
  get mdl(): Mdl {
    this.chain ??= Mdl.fromGpaRanges(this.buffer.ranges);
    return this.chain;
  }

  /** Bytes of external data (the ranges one after another). */
  get byteLength(): number {
    return this.buffer.byteLength;
  }

  /** False once the packet was completed. */
  get isValid(): boolean {
    return this.valid;
  }

  /** Copies `target.length` bytes at `offset` into `target`. */
  copyTo(offset: number, target: Uint8Array): NtStatus {
    if (!this.valid) return NTSTATUS.STATUS_INVALID_DEVICE_STATE;
    return this.buffer.copyTo(offset, target) === undefined ? NTSTATUS.STATUS_SUCCESS : NTSTATUS.STATUS_INVALID_PARAMETER;
  }

  /** Copies `source` to `offset`; STATUS_ACCESS_DENIED when mapped read-only. */
  copyFrom(offset: number, source: Uint8Array): NtStatus {
    if (!this.valid) return NTSTATUS.STATUS_INVALID_DEVICE_STATE;
    if (this.readOnly) return NTSTATUS.STATUS_ACCESS_DENIED;
    return this.buffer.copyFrom(offset, source) === undefined ? NTSTATUS.STATUS_SUCCESS : NTSTATUS.STATUS_INVALID_PARAMETER;
  }

  /** Ends access (the packet was completed). */
  invalidate(): void {
    this.valid = false;
  }
}
