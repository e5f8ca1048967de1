/**
 * Bulk byte copies that touch shared memory: `target.set(source, targetOffset)`,
 * through the native memcpy in `native/` when that is faster.
 *
 * Why: V8 copies into and out of a `SharedArrayBuffer` with a relaxed-atomic word loop
 * (16 KiB: ~0.75 µs here, the addon ~0.45 µs; 1 MiB: ~50 µs vs ~32 µs). The addon is
 * built at install time; when it is not built, does not load, or `KMCL_NATIVE=0` is set,
 * `set` does every copy.
 */
import { createRequire } from 'node:module';

/** The addon's one function: a memmove (all of `source` unless a window is given), checked in C. */
interface SharedCopyAddon {
  copy(target: Uint8Array, targetOffset: number, source: Uint8Array, sourceOffset?: number, length?: number): void;
}

/**
 * The shortest copy the native path takes. Measured crossover (SAB↔plain, 2 vCPU AMD
 * EPYC, Node 20, averaged over alignments): 1.5-1.8 KiB; at 2 KiB native is 1.1-1.3x faster.
 */
export const NATIVE_COPY_MIN_BYTES = 2048;

/** From `dist/src/ring/`, where this file runs compiled. */
const ADDON_PATH = '../../../native/build/Release/shared_copy.node';

function loadAddon(): SharedCopyAddon | undefined {
  if (process.env['KMCL_NATIVE'] === '0') return undefined;
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as Partial<SharedCopyAddon>;
    return typeof addon.copy === 'function' ? (addon as SharedCopyAddon) : undefined;
  } catch {
    return undefined; // not built, or built for another Node: the JavaScript path is correct, only slower
  }
}

const addon = loadAddon();

if (NATIVE_COPY_MIN_BYTES !== 2048) throw new Error('copyBytes: its literal threshold no longer matches NATIVE_COPY_MIN_BYTES');

/** Whether the native copy is loaded in this thread (benchmarks and tools report it). */
export const nativeCopyLoaded: boolean = addon !== undefined;

/**
 * Exactly `target.set(source, targetOffset)`: the same bytes, the same `RangeError`
 * when `source` does not fit, overlapping views of one buffer copied as if through a
 * temporary. Copies of `NATIVE_COPY_MIN_BYTES` or more go through the native memcpy
 * when it is loaded, whatever buffers back them: asking (`view.buffer instanceof
 * SharedArrayBuffer`) costs 50-90 ns a call here, and between plain buffers `set`
 * is no faster on average (its memmove hits glibc's slow `rep movsb`, see native/).
 */
export function copyBytes(target: Uint8Array, targetOffset: number, source: Uint8Array): void {
  const length = source.length;
  if (
    // The literal first (NATIVE_COPY_MIN_BYTES): small copies then pay one compare, no module-cell reads.
    length >= 2048 &&
    addon !== undefined &&
    // Anything `set` would refuse or round (negative, fractional, too long) stays with `set`.
    Number.isInteger(targetOffset) &&
    targetOffset >= 0 &&
    targetOffset <= target.length - length
  ) {
    addon.copy(target, targetOffset, source);
  } else {
    target.set(source, targetOffset);
  }
}

/**
 * Exactly `target.set(source.subarray(sourceOffset, sourceOffset + length), targetOffset)`
 * for in-range, whole-number arguments (the ring reader's copies out of its data
 * area), without making the source view when the copy goes native: the view costs
 * an allocation per 16 KiB packet read.
 */
export function copyByteRange(target: Uint8Array, targetOffset: number, source: Uint8Array, sourceOffset: number, length: number): void {
  if (length >= 2048 && addon !== undefined) {
    addon.copy(target, targetOffset, source, sourceOffset, length);
  } else {
    target.set(source.subarray(sourceOffset, sourceOffset + length), targetOffset);
  }
}
