/**
 * The VMBus ring buffer engine: one end of one ring over a `RingMemory`.
 * It knows nothing of channels, threads or timers; `commit()` and
 * `requestSpace()` return "signal the peer now" decisions for the caller to act on.
 */
export type { RingMemory, RingInitOptions, CopyTarget, ContiguousRingData } from './ring-memory.js';
export { initializeRing, copyTarget } from './ring-memory.js';
export { FlatRingMemory, type FlatRingAllocateOptions } from './flat-ring-memory.js';
export { PagedRingMemory } from './paged-ring-memory.js';
export { RingReader, RingPacketView } from './ring-reader.js';
export { RingWriter } from './ring-writer.js';
export { RingCorruptError, type RingCorruptCode } from './ring-corrupt-error.js';
export { ringBytesUsed, ringBytesWritable } from './ring-indices.js';
export { copyUnitRun } from './unit-copy.js';
