import { gpaRangePageCount } from '../wire/gpa-range.js';
import { isU32 } from '../wire/packet-descriptor.js';
import type { GuestMemory } from './guest-memory.js';
import type { GpaRange } from './gpa-range.js';
import { MemoryError, memoryError } from './memory-error.js';
import { PAGE_SIZE, isIndex, pfnOf } from './page.js';

/**
 * A memory descriptor list, as a Windows MDL describes a buffer to a driver:
 * `byteCount` bytes starting `byteOffset` bytes into the first of `pfns`,
 * with further pieces chained through `next`. The chain's byte space is the
 * pieces' bytes one after another.
 *
 * An `Mdl` is immutable (the PFN list is copied), so a chain cannot loop and
 * cannot change between `validate` and use. Builders trust their arguments
 * only as far as arithmetic goes; call `validate` before handing an MDL to
 * the bus.
 */
export class Mdl {
  readonly byteOffset: number;
  readonly byteCount: number;
  readonly pfns: readonly number[];
  readonly next: Mdl | undefined;
  // The same PFNs, unfrozen and private, for the send path: V8 reads and slices a frozen
  // array many times slower (slicing 256 PFNs: ~28 µs against ~0.2 µs).
  readonly #pfns: readonly number[];

  constructor(byteOffset: number, byteCount: number, pfns: readonly number[], next?: Mdl) {
    this.byteOffset = byteOffset;
    this.byteCount = byteCount;
    this.#pfns = [...pfns];
    this.pfns = Object.freeze([...this.#pfns]);
    this.next = next;
  }

  /** PFNs `from` to `to` (exclusive) of this MDL alone, as a fresh array (from the private copy: see `#pfns`). */
  pfnSlice(from: number, to: number): number[] {
    return this.#pfns.slice(from, to);
  }

  /** The MDL of a buffer that is contiguous in guest memory. Throws on a negative or fractional GPA or length. */
  static fromBuffer(gpa: number, byteCount: number): Mdl {
    if (!isIndex(gpa) || !isIndex(byteCount)) {
      throw new MemoryError('out-of-range', `buffer ${gpa}+${byteCount} is not a valid GPA range`);
    }
    const byteOffset = gpa % PAGE_SIZE;
    const first = pfnOf(gpa);
    return new Mdl(byteOffset, byteCount, Array.from({ length: gpaRangePageCount(byteOffset, byteCount) }, (_, i) => first + i));
  }

  /** The MDL of explicit pages; by default it covers them all from `byteOffset`. */
  static fromPfns(pfns: readonly number[], byteOffset = 0, byteCount = pfns.length * PAGE_SIZE - byteOffset): Mdl {
    return new Mdl(byteOffset, byteCount, pfns);
  }

  /** Links `pieces` into one chain, in order, and returns its head. Throws on an empty list. */
  static chain(pieces: readonly Mdl[]): Mdl {
    let head: Mdl | undefined;
    for (let i = pieces.length - 1; i >= 0; i--) {
      const piece = pieces[i] as Mdl;
      head = new Mdl(piece.byteOffset, piece.byteCount, piece.pfns, head);
    }
    if (head === undefined) throw new MemoryError('zero-length', 'an MDL chain needs at least one piece');
    return head;
  }

  /** The chain of `ranges` (one piece per range), e.g. over the external data of a received packet. Throws on an empty list. */
  static fromGpaRanges(ranges: readonly GpaRange[]): Mdl {
    return Mdl.chain(ranges.map((range) => new Mdl(range.byteOffset, range.byteCount, range.pfns)));
  }

  /** This piece and every piece after it. */
  *pieces(): IterableIterator<Mdl> {
    for (let piece: Mdl | undefined = this; piece !== undefined; piece = piece.next) yield piece;
  }

  /** Bytes described by the whole chain. */
  get chainByteCount(): number {
    let total = 0;
    for (const piece of this.pieces()) total += piece.byteCount;
    return total;
  }

  /**
   * Checks every piece: offset below the page size, a non-zero byte count,
   * enough PFNs for offset + byte count and, when `memory` is given, every
   * PFN the piece uses inside it.
   */
  validate(memory?: GuestMemory): MemoryError | undefined {
    for (const piece of this.pieces()) {
      const { byteOffset, byteCount } = piece;
      const pfns = piece.#pfns;
      if (!isIndex(byteOffset) || byteOffset >= PAGE_SIZE) {
        return memoryError('bad-page-offset', `MDL byte offset ${byteOffset} is not within the first page`);
      }
      if (!isIndex(byteCount)) return memoryError('out-of-range', `MDL byte count ${byteCount} is not a size`);
      if (byteCount === 0) return memoryError('zero-length', 'MDL describes no bytes');
      const spanned = gpaRangePageCount(byteOffset, byteCount);
      if (pfns.length < spanned) {
        return memoryError('too-few-pages', `MDL needs ${spanned} pages but lists ${pfns.length}`);
      }
      if (memory !== undefined) {
        for (let i = 0; i < spanned; i++) {
          const pfn = pfns[i] as number;
          if (!memory.hasPfn(pfn)) return memoryError('out-of-range', `MDL PFN ${pfn} is outside guest memory`);
        }
      }
    }
    return undefined;
  }

  /**
   * The GPA ranges of `length` bytes of the chain starting at `offset`
   * (`length` omitted: to the end of the chain), as `VmbPacketSendWithExternalMdl`
   * and `VmbChannelCreateGpadlFromMdl` need them. A piece that ends on a page
   * boundary and a next piece that starts on one share a range, so a chain of
   * page-aligned pieces becomes a single range. The KMCL convention "length 0
   * means the whole MDL" is the caller's to translate to an omitted `length`.
   */
  toGpaRanges(offset = 0, length?: number): GpaRange[] | MemoryError {
    const error = this.validate();
    if (error !== undefined) return error;
    const total = this.chainByteCount;
    const wanted = length ?? total - offset;
    if (!isIndex(offset) || !isIndex(wanted) || offset + wanted > total) {
      return memoryError('out-of-range', `slice ${offset}+${length ?? 'rest'} is outside a ${total}-byte MDL chain`);
    }
    if (wanted === 0) return memoryError('zero-length', 'MDL slice describes no bytes');
    const ranges: { byteOffset: number; byteCount: number; pfns: number[] }[] = [];
    let skip = offset;
    let left = wanted;
    for (const piece of this.pieces()) {
      if (left === 0) break;
      if (skip >= piece.byteCount) {
        skip -= piece.byteCount;
        continue;
      }
      const start = piece.byteOffset + skip;
      const byteCount = Math.min(left, piece.byteCount - skip);
      const byteOffset = start % PAGE_SIZE;
      const firstPage = pfnOf(start);
      const pfns = piece.#pfns.slice(firstPage, firstPage + gpaRangePageCount(byteOffset, byteCount));
      const previous = ranges[ranges.length - 1];
      const joins =
        previous !== undefined &&
        byteOffset === 0 &&
        (previous.byteOffset + previous.byteCount) % PAGE_SIZE === 0 &&
        isU32(previous.byteCount + byteCount);
      if (joins) {
        previous.byteCount += byteCount;
        // One push at a time: push(...pfns) of a long page list can overflow the stack.
        for (const pfn of pfns) previous.pfns.push(pfn);
      } else {
        ranges.push({ byteOffset, byteCount, pfns });
      }
      left -= byteCount;
      skip = 0;
    }
    return ranges;
  }
}
