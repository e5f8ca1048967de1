/**
 * Ring memory over separate 4 KiB page views: the control page, then the data
 * pages in ring order, each anywhere in guest memory (the pages of a ring
 * GPADL). Copies split at page boundaries.
 */
import { RING_PAGE_SIZE } from '../wire/ring-control.js';
import {
  assertRingDataSize,
  contiguousRingData,
  controlWords,
  copyUnits,
  unitView,
  wordView,
  type ContiguousRingData,
  type CopyTarget,
  type RingMemory,
} from './ring-memory.js';
import { copyBytes } from './shared-copy.js';

const PAGE_SHIFT = 12;
const PAGE_MASK = RING_PAGE_SIZE - 1;

export class PagedRingMemory implements RingMemory {
  readonly control: Int32Array;
  readonly dataSize: number;
  readonly contiguous: ContiguousRingData | null;
  private readonly pages: Uint8Array[];
  private readonly pageWords: Int32Array[];
  private readonly pageUnits: BigInt64Array[];

  /** `pages[0]` is the control page; the rest are the data pages. Each is a 4096-byte, 8-aligned view. */
  constructor(pages: readonly Uint8Array[]) {
    if (pages.length < 2) throw new RangeError(`a ring needs a control page and at least one data page, got ${pages.length} pages`);
    for (let i = 0; i < pages.length; i++) {
      if (pages[i]!.length !== RING_PAGE_SIZE) {
        throw new RangeError(`ring page ${i} is ${pages[i]!.length} bytes, not ${RING_PAGE_SIZE}`);
      }
    }
    const dataSize = (pages.length - 1) * RING_PAGE_SIZE;
    assertRingDataSize(dataSize);
    this.control = controlWords(pages[0]!);
    this.dataSize = dataSize;
    this.pages = pages.slice(1);
    this.pageWords = this.pages.map((page) => wordView(page, 0, RING_PAGE_SIZE));
    this.pageUnits = this.pages.map((page) => unitView(page, 0, RING_PAGE_SIZE));
    const first = this.pages[0]!;
    this.contiguous = backToBack(this.pages) ? contiguousRingData(new Uint8Array(first.buffer), first.byteOffset, dataSize) : null;
  }

  read(offset: number, byteLength: number, target: CopyTarget, targetUnit: number): void {
    const size = this.dataSize;
    let at = offset >= size ? offset - size : offset;
    let to = targetUnit;
    let remaining = byteLength;
    while (remaining > 0) {
      const inPage = at & PAGE_MASK;
      const run = Math.min(remaining, RING_PAGE_SIZE - inPage);
      const page = at >>> PAGE_SHIFT;
      copyUnits(this.pageUnits[page]!, this.pages[page]!, inPage >>> 3, run >>> 3, target, to);
      to += run >>> 3;
      remaining -= run;
      at += run;
      if (at === size) at = 0;
    }
  }

  writeBytes(offset: number, source: Uint8Array): void {
    const size = this.dataSize;
    let at = offset >= size ? offset - size : offset;
    const inFirstPage = at & PAGE_MASK;
    if (source.length <= RING_PAGE_SIZE - inFirstPage) {
      // The common small packet: one page, no view to cut.
      copyBytes(this.pages[at >>> PAGE_SHIFT]!, inFirstPage, source);
      return;
    }
    let from = 0;
    while (from < source.length) {
      const inPage = at & PAGE_MASK;
      const run = Math.min(source.length - from, RING_PAGE_SIZE - inPage);
      copyBytes(this.pages[at >>> PAGE_SHIFT]!, inPage, source.subarray(from, from + run));
      from += run;
      at += run;
      if (at === size) at = 0;
    }
  }

  writeUnit(offset: number, low: number, high: number): void {
    const size = this.dataSize;
    const at = offset >= size ? offset - size : offset;
    const words = this.pageWords[at >>> PAGE_SHIFT]!;
    const word = (at & PAGE_MASK) >>> 2;
    words[word] = low;
    words[word + 1] = high;
  }
}

/** Whether each page starts where the one before it ends, in the same buffer. */
function backToBack(pages: readonly Uint8Array[]): boolean {
  const first = pages[0]!;
  return pages.every((page, i) => page.buffer === first.buffer && page.byteOffset === first.byteOffset + i * RING_PAGE_SIZE);
}
