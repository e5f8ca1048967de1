import { isU32 } from '../wire/packet-descriptor.js';
import type { GuestMemory } from './guest-memory.js';
import type { GpaRange } from './gpa-range.js';
import { GpadlMapping } from './gpadl-mapping.js';
import { MemoryError, memoryError } from './memory-error.js';
import { PagedBuffer } from './paged-buffer.js';

/** What the guest described in GPADL_HEADER/BODY, as the bus hands it over. */
export interface GpadlDescription {
  /** The channel the GPADL was created on (GPADL_HEADER `channel_id`). */
  readonly channelId: number;
  readonly ranges: readonly GpaRange[];
  /** Created with the KMCL's `VMBUS_CHANNEL_GPADL_READ_ONLY`: the host may only map it read-only. */
  readonly readOnly?: boolean;
}

/** A snapshot of one GPADL's state, for the bus and for inspection. */
export interface GpadlInfo {
  readonly gpadlId: number;
  readonly channelId: number;
  readonly readOnly: boolean;
  readonly byteLength: number;
  readonly pageCount: number;
  readonly mappingCount: number;
  readonly tearingDown: boolean;
}

/** Options of `GpadlTable.map`. */
export interface GpadlMapOptions {
  readonly writable: boolean;
  /** When given, the GPADL must belong to this channel (a device maps only its own channel's GPADLs). */
  readonly channelId?: number;
}

/** A teardown decision: `tornDown` means the GPADL is gone and GPADL_TORNDOWN may be sent now. */
export interface GpadlTeardown {
  readonly gpadlId: number;
  readonly tornDown: boolean;
}

/** Leak accounting: all zero once every GPADL is torn down. */
export interface GpadlTableCounts {
  readonly gpadls: number;
  readonly mappings: number;
  /** Pages summed over live mappings (a page mapped twice counts twice). */
  readonly mappedPages: number;
}

interface GpadlEntry {
  readonly channelId: number;
  readonly readOnly: boolean;
  readonly buffer: PagedBuffer;
  readonly mappings: Set<GpadlMapping>;
  tearingDown: boolean;
}

/**
 * The GPADLs of one guest connection, kept by the host side of the bus. Ids are
 * chosen by the guest and unique per connection: GPADL_BODY and GPADL_TORNDOWN
 * carry no channel id (openvmm-vmbus.md §3.2, §6.5). Mappings are counted; a
 * teardown waits for the last one, because the host may not send GPADL_TORNDOWN
 * while it can still touch the pages (OpenVMM `gpadl.rs`, openvmm-vmbus.md §3.5).
 *
 * Every method that takes ids or ranges from the guest returns a `MemoryError`
 * rather than throwing; nothing here signals or sends: results are decisions.
 */
export class GpadlTable {
  readonly #memory: GuestMemory;
  readonly #gpadls = new Map<number, GpadlEntry>();
  #mappingCount = 0;
  #mappedPages = 0;

  constructor(memory: GuestMemory) {
    this.#memory = memory;
  }

  /** Records a complete GPADL after copying and validating its ranges. */
  create(gpadlId: number, description: GpadlDescription): MemoryError | undefined {
    // Both are u32 fields of GPADL_HEADER (openvmm-vmbus.md §6.5).
    if (!isU32(gpadlId) || !isU32(description.channelId)) {
      return memoryError('out-of-range', `GPADL id ${gpadlId} / channel id ${description.channelId} is not a u32`);
    }
    if (this.#gpadls.has(gpadlId)) return memoryError('duplicate-id', `GPADL ${gpadlId} already exists`);
    const buffer = PagedBuffer.fromRanges(this.#memory, description.ranges);
    if (buffer instanceof MemoryError) return buffer;
    this.#gpadls.set(gpadlId, {
      channelId: description.channelId,
      readOnly: description.readOnly ?? false,
      buffer,
      mappings: new Set(),
      tearingDown: false,
    });
    return undefined;
  }

  /** True while `gpadlId` is in use (created and not yet torn down). */
  has(gpadlId: number): boolean {
    return this.#gpadls.has(gpadlId);
  }

  /** The state of one GPADL, or `undefined` for an unknown id. */
  get(gpadlId: number): GpadlInfo | undefined {
    const entry = this.#gpadls.get(gpadlId);
    if (entry === undefined) return undefined;
    return {
      gpadlId,
      channelId: entry.channelId,
      readOnly: entry.readOnly,
      byteLength: entry.buffer.byteLength,
      pageCount: entry.buffer.pageCount,
      mappingCount: entry.mappings.size,
      tearingDown: entry.tearingDown,
    };
  }

  /** Ids of the GPADLs created on `channelId` (e.g. to tear them down when the channel goes away). */
  idsForChannel(channelId: number): number[] {
    return [...this.#gpadls].filter(([, entry]) => entry.channelId === channelId).map(([id]) => id);
  }

  /** Maps a GPADL for host access. Refused once its teardown has begun. */
  map(gpadlId: number, options: GpadlMapOptions): GpadlMapping | MemoryError {
    const entry = this.#lookup(gpadlId, options.channelId);
    if (entry instanceof MemoryError) return entry;
    if (entry.tearingDown) return memoryError('teardown-pending', `GPADL ${gpadlId} is being torn down`);
    if (options.writable && entry.readOnly) {
      return memoryError('read-only', `GPADL ${gpadlId} was created read-only`);
    }
    const mapping = new GpadlMapping(gpadlId, entry.channelId, options.writable, entry.buffer, entry.mappings);
    entry.mappings.add(mapping);
    this.#mappingCount++;
    this.#mappedPages += entry.buffer.pageCount;
    return mapping;
  }

  /**
   * Releases a mapping. When it was the last one of a GPADL whose teardown is
   * pending, the GPADL is gone and `tornDown` is true. Throws on a mapping that
   * is not live here (a double unmap is a bug of the host-side caller).
   */
  unmap(mapping: GpadlMapping): GpadlTeardown {
    const entry = this.#gpadls.get(mapping.gpadlId);
    if (entry === undefined || !entry.mappings.delete(mapping)) {
      throw new MemoryError('unmapped', `mapping of GPADL ${mapping.gpadlId} is not live in this table`);
    }
    this.#mappingCount--;
    this.#mappedPages -= entry.buffer.pageCount;
    return { gpadlId: mapping.gpadlId, tornDown: entry.tearingDown && this.#finishTeardown(mapping.gpadlId, entry) };
  }

  /**
   * Starts the teardown the guest asked for (GPADL_TEARDOWN). It completes at
   * once when nothing maps the GPADL, otherwise when `unmap` releases the last
   * mapping. `channelId`, when given, must be the GPADL's channel.
   */
  beginTeardown(gpadlId: number, channelId?: number): GpadlTeardown | MemoryError {
    const entry = this.#lookup(gpadlId, channelId);
    if (entry instanceof MemoryError) return entry;
    if (entry.tearingDown) return memoryError('teardown-pending', `GPADL ${gpadlId} is already being torn down`);
    entry.tearingDown = true;
    return { gpadlId, tornDown: this.#finishTeardown(gpadlId, entry) };
  }

  /** Live GPADLs, mappings and mapped pages. */
  counts(): GpadlTableCounts {
    return { gpadls: this.#gpadls.size, mappings: this.#mappingCount, mappedPages: this.#mappedPages };
  }

  #lookup(gpadlId: number, channelId: number | undefined): GpadlEntry | MemoryError {
    const entry = this.#gpadls.get(gpadlId);
    if (entry === undefined) return memoryError('unknown-id', `no GPADL ${gpadlId}`);
    if (channelId !== undefined && entry.channelId !== channelId) {
      return memoryError('wrong-channel', `GPADL ${gpadlId} belongs to channel ${entry.channelId}, not ${channelId}`);
    }
    return entry;
  }

  // Removes the GPADL if no mapping is left; returns whether it did.
  #finishTeardown(gpadlId: number, entry: GpadlEntry): boolean {
    if (entry.mappings.size > 0) return false;
    this.#gpadls.delete(gpadlId);
    return true;
  }
}
