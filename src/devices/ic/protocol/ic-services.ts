/**
 * The four integration-component services, one row each: message type, VMBus
 * class (interface) and instance GUIDs, the guest's version preference (best
 * first, as Linux `drivers/hv/hv_util.c` / `hv_kvp.c` list them) and the
 * host's offer (as OpenVMM `hyperv_ic` sends it). Negotiation, responders and
 * requesters all read this table instead of repeating its facts.
 */
import type { Guid } from '../../../wire/guid.js';
import { IC_MESSAGE_TYPE, type IcMessageType, type IcVersion } from './ic-frame.js';
import type { IcVersionLists } from './negotiation.js';

function v(major: number, minor: number): IcVersion {
  return Object.freeze({ major, minor });
}

/** Framework versions: the guest prefers 3.0 then 1.0 (Linux UTIL_FW_VERSION, UTIL_WS2K8_FW_VERSION). */
export const IC_FRAMEWORK_GUEST_VERSIONS: readonly IcVersion[] = [v(3, 0), v(1, 0)];
/** Framework versions the host offers, in OpenVMM's order (`common.rs` FRAMEWORK_VERSIONS). */
export const IC_FRAMEWORK_HOST_VERSIONS: readonly IcVersion[] = [v(1, 0), v(3, 0)];

export type IcServiceName = 'heartbeat' | 'shutdown' | 'timeSync' | 'kvp';

export interface IcServiceSpec {
  readonly name: IcServiceName;
  /** `icmsgtype` of the service's own messages. */
  readonly messageType: IcMessageType;
  /** VMBus interface (class) GUID of the offer. */
  readonly classId: Guid;
  /** VMBus instance GUID the host offers the device with. */
  readonly instanceId: Guid;
  /** Message versions the guest accepts, best first. */
  readonly guestVersions: readonly IcVersion[];
  /** Message versions the host offers. */
  readonly hostVersions: readonly IcVersion[];
}

export const IC_SERVICES = {
  heartbeat: {
    name: 'heartbeat',
    messageType: IC_MESSAGE_TYPE.HEARTBEAT,
    classId: '57164f39-9115-4e78-ab55-382f3bd5422d',
    // OpenVMM has no heartbeat host device; this is the id Hyper-V offers it
    // with (guests see it as the device id). The other three ids below are
    // the ones OpenVMM copied from Hyper-V.
    instanceId: 'fd149e91-82e0-4a7d-afa6-2a4166cbd7c0',
    guestVersions: [v(3, 0), v(1, 0)],
    // No OpenVMM heartbeat host: offer what Linux knows, oldest first like OpenVMM's lists.
    hostVersions: [v(1, 0), v(3, 0)],
  },
  shutdown: {
    name: 'shutdown',
    messageType: IC_MESSAGE_TYPE.SHUTDOWN,
    classId: '0e0b6031-5213-4934-818b-38d90ced39db',
    instanceId: 'b6650ff7-33bc-4840-8048-e0676786f393',
    guestVersions: [v(3, 2), v(3, 1), v(3, 0), v(1, 0)],
    hostVersions: [v(1, 0), v(3, 0), v(3, 1), v(3, 2)],
  },
  timeSync: {
    name: 'timeSync',
    messageType: IC_MESSAGE_TYPE.TIME_SYNC,
    classId: '9527e630-d0ae-497b-adce-e80ab0175caf',
    instanceId: '2dd1ce17-079e-403c-b352-a1921ee207ee',
    guestVersions: [v(4, 0), v(3, 0), v(1, 0)],
    hostVersions: [v(4, 0)],
  },
  kvp: {
    name: 'kvp',
    messageType: IC_MESSAGE_TYPE.KVP_EXCHANGE,
    classId: 'a9a0f4e7-5a45-4d96-b827-8a841e8c03e6',
    instanceId: '242ff919-07db-4180-9c2e-b86cb68c8c55',
    guestVersions: [v(4, 0), v(3, 0), v(1, 0)],
    hostVersions: [v(3, 0), v(4, 0), v(5, 0)],
  },
} as const satisfies Record<IcServiceName, IcServiceSpec>;

/** The guest's preference for a service: framework list + the service's message list. */
export function icGuestPreference(spec: IcServiceSpec): IcVersionLists {
  return { framework: IC_FRAMEWORK_GUEST_VERSIONS, message: spec.guestVersions };
}

/** The host's offer for a service: framework list + the service's message list. */
export function icHostOffer(spec: IcServiceSpec): IcVersionLists {
  return { framework: IC_FRAMEWORK_HOST_VERSIONS, message: spec.hostVersions };
}
