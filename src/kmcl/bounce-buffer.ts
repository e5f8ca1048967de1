/**
 * V3 bounce buffers (no DDI page). Decision: a channel may reserve a pool of
 * guest pages when it opens (VmbChannelInitSetBounceBufferSizes); the driver
 * takes buffers from it (VmbChannelAllocateBounceBuffer) to stage data that
 * does not live in guest memory, then sends the buffer's MDL as external
 * data. Buffers go back with `release()`; all of them when the channel closes.
 */
import { Mdl, MemoryError, PAGE_SIZE, PagedBuffer } from '../memory/index.js';
import { NTSTATUS, type NtStatus } from '../wire/ntstatus.js';
import type { BounceBufferSizes } from './channel/channel-config.js';
import type { VmbusContext } from './device-object.js';

/** A staging buffer in guest pages, valid until released or until its channel closes. */
export class BounceBuffer {
  /** The buffer's pages as an MDL (for VmbPacketSendWithExternalMdl). */
  readonly mdl: Mdl;
  private readonly bytes: PagedBuffer;
  private live = true;

  constructor(
    private readonly pool: BounceBufferPool,
    readonly pfns: readonly number[],
    readonly byteCount: number,
    memory: VmbusContext['memory'],
  ) {
    this.mdl = Mdl.fromPfns(pfns, 0, byteCount);
    const ranges = this.mdl.toGpaRanges();
    const bytes = ranges instanceof MemoryError ? ranges : PagedBuffer.fromRanges(memory, ranges);
    if (bytes instanceof MemoryError) throw bytes; // Pages we allocated ourselves: a failure here is a bug.
    this.bytes = bytes;
  }

  get isValid(): boolean {
    return this.live;
  }

  /** Copies `source` into the buffer at `offset`. */
  copyFrom(offset: number, source: Uint8Array): NtStatus {
    if (!this.live) return NTSTATUS.STATUS_INVALID_DEVICE_STATE;
    return this.bytes.copyFrom(offset, source) === undefined ? NTSTATUS.STATUS_SUCCESS : NTSTATUS.STATUS_INVALID_PARAMETER;
  }

  /** Copies `target.length` bytes at `offset` out of the buffer. */
  copyTo(offset: number, target: Uint8Array): NtStatus {
    if (!this.live) return NTSTATUS.STATUS_INVALID_DEVICE_STATE;
    return this.bytes.copyTo(offset, target) === undefined ? NTSTATUS.STATUS_SUCCESS : NTSTATUS.STATUS_INVALID_PARAMETER;
  }

  /** Gives the pages back to the channel's pool. */
  release(): NtStatus {
    if (!this.live) return NTSTATUS.STATUS_INVALID_DEVICE_STATE;
    this.live = false;
    this.pool.giveBack(this);
    return NTSTATUS.STATUS_SUCCESS;
  }

  /** The pool is gone: the buffer can no longer be used. */
  invalidate(): void {
    this.live = false;
  }
}

/** The pages a channel reserved for bounce buffers. */
export class BounceBufferPool {
  private readonly free: number[];
  private readonly buffers = new Set<BounceBuffer>();

  private constructor(
    private readonly context: VmbusContext,
    private readonly pages: readonly number[],
    readonly maximumBufferPageCount: number,
  ) {
    this.free = [...pages];
  }

  /** Allocates the pool's pages; STATUS_INSUFFICIENT_RESOURCES when guest memory is short. */
  static reserve(context: VmbusContext, sizes: BounceBufferSizes): BounceBufferPool | NtStatus {
    const pages = context.allocator.allocate(sizes.poolPageCount);
    if (pages instanceof MemoryError) return NTSTATUS.STATUS_INSUFFICIENT_RESOURCES;
    return new BounceBufferPool(context, pages, sizes.maximumBufferPageCount);
  }

  /** Pages not handed out. */
  get freePageCount(): number {
    return this.free.length;
  }

  /** A buffer of `byteCount` bytes, or STATUS_INSUFFICIENT_RESOURCES when the pool is short. */
  allocate(byteCount: number): BounceBuffer | NtStatus {
    const count = Math.ceil(byteCount / PAGE_SIZE);
    if (count > this.free.length) return NTSTATUS.STATUS_INSUFFICIENT_RESOURCES;
    const buffer = new BounceBuffer(this, this.free.splice(this.free.length - count, count), byteCount, this.context.memory);
    this.buffers.add(buffer);
    return buffer;
  }

  giveBack(buffer: BounceBuffer): void {
    if (!this.buffers.delete(buffer)) return;
    this.free.push(...buffer.pfns);
  }

  /** Invalidates every buffer and returns the pages to the guest's allocator. */
  releaseAll(): void {
    for (const buffer of this.buffers) buffer.invalidate();
    this.buffers.clear();
    this.context.allocator.free(this.pages);
    this.free.length = 0;
  }
}
