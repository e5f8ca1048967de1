/**
 * Assembling a VM: a host partition and guest partitions with their memory,
 * the simulated hypervisor and a VMBus per guest, in one seeded thread or
 * with one worker thread per guest; host VSPs and guest drivers plug in as
 * modules. No protocol logic lives here.
 */
export { createVm } from './create-vm.js';
export { Vm } from './vm.js';
export { Simulation } from './simulation.js';
export { VmError, describeFailure, type VmFailure, type VmPhase } from './vm-error.js';
export { MAX_GUESTS, DEFAULT_GUEST_PAGES, DEFAULT_GUEST_VPS, HOST_PARTITION_ID } from './vm-plan.js';
export { hostSintOf } from './host-side.js';
export type {
  GuestContext,
  GuestModule,
  GuestSpec,
  GuestStopReport,
  HostContext,
  HostModule,
  HostStopReport,
  ModuleSpecifier,
  ModuleStart,
  SingleThreadMode,
  Teardown,
  VmGuest,
  VmGuestEvent,
  VmMode,
  VmOptions,
  VmStopReport,
  WorkersMode,
} from './vm-types.js';
