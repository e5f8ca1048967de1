/**
 * Guest memory a driver shares with the host: whole pages, contiguous in
 * guest physical memory so one Uint8Array views them all. Give it to
 * `Channel.createGpadl` (the host maps it) or to `Channel.send` as external
 * data (GPA-direct); free it once the host is done with it.
 */
import { Mdl, MemoryError, PAGE_SIZE } from '../../memory/index.js';
import { NTSTATUS } from '../../wire/ntstatus.js';
import type { VmbusContext } from '../device-object.js';
import { KmclError } from '../kmcl-error.js';

export class GuestBuffer {
  /** The guest pages, in order (adjacent PFNs). */
  readonly pfns: readonly number[];
  /** The bytes asked for (the pages may hold more). */
  readonly byteCount: number;
  /** A live view of the buffer in guest memory: what the host sees. */
  readonly bytes: Uint8Array;
  /** The buffer's MDL (for external data and GPADLs). */
  readonly mdl: Mdl;
  readonly #context: VmbusContext;
  #live = true;

  private constructor(context: VmbusContext, pfns: readonly number[], byteCount: number) {
    this.#context = context;
    this.pfns = Object.freeze([...pfns]);
    this.byteCount = byteCount;
    this.bytes = context.memory.view(pfns[0]! * PAGE_SIZE, byteCount);
    this.mdl = Mdl.fromPfns(pfns, 0, byteCount);
  }

  /**
   * `byteCount` bytes (rounded up to pages) from the guest's page allocator.
   * KmclError STATUS_INVALID_PARAMETER for a size that is not a positive
   * integer, STATUS_INSUFFICIENT_RESOURCES when no run of free pages is long enough.
   */
  static allocate(context: VmbusContext, byteCount: number): GuestBuffer {
    if (!Number.isSafeInteger(byteCount) || byteCount <= 0) {
      throw new KmclError(NTSTATUS.STATUS_INVALID_PARAMETER, `a guest buffer of ${byteCount} bytes`);
    }
    const pfns = context.allocator.allocate(Math.ceil(byteCount / PAGE_SIZE), 'contiguous');
    if (pfns instanceof MemoryError) throw new KmclError(NTSTATUS.STATUS_INSUFFICIENT_RESOURCES, pfns.message);
    return new GuestBuffer(context, pfns, byteCount);
  }

  /** False once freed. */
  get isLive(): boolean {
    return this.#live;
  }

  /** Gives the pages back to the guest (once; later calls do nothing). The host must be done with them. */
  free(): void {
    if (!this.#live) return;
    this.#live = false;
    this.#context.allocator.free(this.pfns);
  }

  [Symbol.dispose](): void {
    this.free();
  }
}
