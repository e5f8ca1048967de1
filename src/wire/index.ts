/**
 * The wire layer: byte layouts and constants, pure encode/decode/validate,
 * no state. Decoders return a `WireError` for bad bytes; they never throw.
 */
export { WireError, wireError, type WireErrorCode } from './wire-error.js';
export { GUID_SIZE, NIL_GUID, isGuid, parseGuid, readGuid, writeGuid, type Guid } from './guid.js';
export { NTSTATUS, ntStatusName, ntSuccess, type NtStatus, type NtStatusName } from './ntstatus.js';
export * from './ring-control.js';
export * from './packet-types.js';
export * from './packet-descriptor.js';
export * from './gpa-range.js';
export * from './transfer-pages.js';
export * from './packet.js';
export * from './messages/index.js';
export * from './json/index.js';
