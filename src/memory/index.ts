/** Guest physical memory, MDLs and GPADL tables: the memory layer's public surface. */
export { PAGE_SIZE, pfnOf } from './page.js';
export { MemoryError, memoryError } from './memory-error.js';
export type { MemoryErrorCode } from './memory-error.js';
export { GuestMemory } from './guest-memory.js';
export { PageAllocator } from './page-allocator.js';
export type { PageAllocatorOptions, PagePlacement } from './page-allocator.js';
export { validateGpaRange, validateGpaRanges, copyGpaRanges, gpaRangesFromBytes, gpaRangesFromWire, gpaRangesToWire } from './gpa-range.js';
export type { GpaRange } from './gpa-range.js';
export { PagedBuffer } from './paged-buffer.js';
export { Mdl } from './mdl.js';
export { GpadlMapping } from './gpadl-mapping.js';
export { GpadlTable } from './gpadl-table.js';
export type { GpadlDescription, GpadlInfo, GpadlMapOptions, GpadlTeardown, GpadlTableCounts } from './gpadl-table.js';
