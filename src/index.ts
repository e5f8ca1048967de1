/**
 * kmcl: the VMBus Kernel Mode Client Library for Node.js. The package root
 * exports the KMCL client interface (query it with `queryInterface` and
 * KMCL_CLIENT_INTERFACE_TYPE, or call its functions directly), its types and
 * flags, and the NTSTATUS values its functions return.
 */
export * from './kmcl/index.js';
export { NTSTATUS, ntStatusName, ntSuccess, type NtStatus, type NtStatusName } from './wire/ntstatus.js';
export type { Guid } from './wire/guid.js';
