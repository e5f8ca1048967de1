/**
 * The one error type of the memory layer. Checks on input that can come from a
 * peer (GPA ranges, GPADL ids, offsets derived from packets) *return* a
 * `MemoryError`; only local programming errors (a PFN the caller already had to
 * validate, a double unmap) throw one.
 */

/** What is wrong with a memory request. Stable: tests and callers match on it. */
export type MemoryErrorCode =
  /** A PFN, GPA, offset or length outside guest memory or outside a buffer's byte space. */
  | 'out-of-range'
  /** A byte offset into a first page that is not below the page size. */
  | 'bad-page-offset'
  /** A byte count of zero, or a GPADL without ranges. */
  | 'zero-length'
  /** A GPA range whose page list is not exactly the pages its offset and byte count span. */
  | 'page-count-mismatch'
  /** An MDL whose page list is shorter than its offset and byte count need. */
  | 'too-few-pages'
  /** Page views asked of a byte space that is not made of whole pages. */
  | 'unaligned'
  /** The page allocator cannot satisfy the request. */
  | 'no-memory'
  /** A page freed that is not allocated (already freed, or listed twice). */
  | 'double-free'
  /** A page freed that this allocator never hands out. */
  | 'foreign-pfn'
  /** A GPADL id already in use on this connection. */
  | 'duplicate-id'
  /** A GPADL id not known on this connection. */
  | 'unknown-id'
  /** A GPADL used on behalf of a channel that does not own it. */
  | 'wrong-channel'
  /** A write through, or a writable mapping of, something read-only. */
  | 'read-only'
  /** A GPADL whose teardown has begun: no new mappings, no second teardown. */
  | 'teardown-pending'
  /** A mapping used or unmapped after it was unmapped. */
  | 'unmapped';

export class MemoryError extends Error {
  override readonly name = 'MemoryError';
  constructor(
    readonly code: MemoryErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Shorthand for checks that return their error: `return memoryError('out-of-range', '...')`. */
export function memoryError(code: MemoryErrorCode, message: string): MemoryError {
  return new MemoryError(code, message);
}
