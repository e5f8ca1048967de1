import { memoryError } from './memory-error.js';
import type { MemoryError } from './memory-error.js';
import type { PagedBuffer } from './paged-buffer.js';

/**
 * A host-side mapping of one GPADL, handed out by `GpadlTable.map`: bounds-checked
 * access to the GPADL's byte space (its ranges one after another). It works while
 * the table's set of live mappings holds it; after `GpadlTable.unmap` every access
 * returns `unmapped`.
 *
 * A read-only mapping refuses writes. Page views handed out for a ring stay
 * plain views of guest memory: the ring must stop using them before the
 * mapping is unmapped (the rule OpenVMM keeps by holding the view, gpadl.rs).
 */
export class GpadlMapping {
  readonly gpadlId: number;
  readonly channelId: number;
  readonly writable: boolean;
  readonly #buffer: PagedBuffer;
  readonly #live: ReadonlySet<GpadlMapping>;

  constructor(gpadlId: number, channelId: number, writable: boolean, buffer: PagedBuffer, live: ReadonlySet<GpadlMapping>) {
    this.gpadlId = gpadlId;
    this.channelId = channelId;
    this.writable = writable;
    this.#buffer = buffer;
    this.#live = live;
  }

  /** True until the mapping is unmapped. */
  get isMapped(): boolean {
    return this.#live.has(this);
  }

  /** Bytes in the GPADL's byte space. */
  get byteLength(): number {
    return this.#buffer.byteLength;
  }

  /** Pages of guest memory the mapping covers. */
  get pageCount(): number {
    return this.#buffer.pageCount;
  }

  /** A private copy of `length` bytes at `offset`. */
  read(offset: number, length: number): Uint8Array | MemoryError {
    const error = this.#checkMapped() ?? this.#buffer.checkRange(offset, length);
    if (error !== undefined) return error;
    const bytes = new Uint8Array(length);
    this.#buffer.copyTo(offset, bytes);
    return bytes;
  }

  /** Copies `target.length` bytes at `offset` into `target` (no allocation). */
  copyTo(offset: number, target: Uint8Array): MemoryError | undefined {
    return this.#checkMapped() ?? this.#buffer.copyTo(offset, target);
  }

  /** Writes `source` at `offset`. */
  write(offset: number, source: Uint8Array): MemoryError | undefined {
    return this.copyFrom(offset, source);
  }

  /** Copies all of `source` to `offset`; the same as `write`, named for symmetry with `copyTo`. */
  copyFrom(offset: number, source: Uint8Array): MemoryError | undefined {
    const error =
      this.#checkMapped() ??
      (this.writable ? undefined : memoryError('read-only', `GPADL ${this.gpadlId} is mapped read-only`));
    return error ?? this.#buffer.copyFrom(offset, source);
  }

  /**
   * One 4096-byte view per page, in GPADL order, for a `PagedRingMemory`
   * (control page, then data pages). `unaligned` unless the GPADL is made of
   * whole pages, as a ring GPADL must be (openvmm-vmbus.md §6.4).
   */
  pageViews(): readonly Uint8Array[] | MemoryError {
    return this.#checkMapped() ?? this.#buffer.pageViews();
  }

  #checkMapped(): MemoryError | undefined {
    return this.#live.has(this) ? undefined : memoryError('unmapped', `mapping of GPADL ${this.gpadlId} was unmapped`);
  }
}
