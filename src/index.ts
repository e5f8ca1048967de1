/**
 * kmcl: the VMBus Kernel Mode Client Library for Node.js. The package root
 * exports the KMCL client interface (query it with `queryInterface` and
 * KMCL_CLIENT_INTERFACE_TYPE, or call its functions directly), its types and
 * flags, and the NTSTATUS values its functions return; the KMCL server
 * interface (KMCL_SERVER_INTERFACE_TYPE on a host device object); and the idiomatic
 * TypeScript API over the same core (`Vmbus`, `Channel`, `KmclError`).
 */
export * from './kmcl/index.js';
export * from './kmcl/server/index.js';
export { NTSTATUS, ntStatusName, ntSuccess, type NtStatus, type NtStatusName } from './wire/ntstatus.js';
export type { Guid } from './wire/guid.js';
export * from './kmcl/idiomatic/index.js';
