/**
 * Version negotiation, guest side: which versions to try, the INITIATE_CONTACT
 * of each try and what a VERSION_RESPONSE means (openvmm-vmbus.md §2.1, §6.8;
 * linux-vmbus.md §A.3.3-A.3.5). Pure functions; the client keeps the state.
 */
import { NIL_GUID } from '../../wire/guid.js';
import type { Guid } from '../../wire/guid.js';
import { WireError } from '../../wire/wire-error.js';
import {
  ALL_FEATURE_FLAGS,
  CONNECTION_STATE,
  FEATURE_FLAG,
  VMBUS_MESSAGE_CONNECTION_ID,
  VMBUS_MESSAGE_CONNECTION_ID_MULTICLIENT,
  VMBUS_SINT,
  VMBUS_VERSION,
  VMBUS_VERSIONS,
  encodeTargetInfo,
  formatVersion,
  initiateContactKind,
  isKnownVersion,
} from '../../wire/messages/index.js';
import type { ChannelMessage, MessageOfKind, VmbusVersion } from '../../wire/messages/index.js';
import { GPA_PAGE_SIZE } from '../../wire/gpa-range.js';
import type { ConnectFailure, MonitorPageGpas } from './events.js';
import { ClientRequestError, checkGuid, checkU64, checkUint, refuse } from './request-error.js';

/**
 * The feature flags the client asks for by default: OpenVMM's client set
 * (vmbus_client/src/lib.rs:72-77) plus pause_resume, which this client implements.
 */
export const DEFAULT_CLIENT_FEATURES: number =
  FEATURE_FLAG.GUEST_SPECIFIED_SIGNAL_PARAMETERS |
  FEATURE_FLAG.CHANNEL_INTERRUPT_REDIRECTION |
  FEATURE_FLAG.MODIFY_CONNECTION |
  FEATURE_FLAG.CLIENT_ID |
  FEATURE_FLAG.PAUSE_RESUME;

/** Hypercall connection ids are 24 bits (`hv_connection_id`, linux-vmbus.md §A.3.1). */
export const MAX_CONNECTION_ID = 0xff_ffff;

/** SINTs per VP (linux-vmbus.md §A.3.1, hyperv_vmbus.h:236). */
const SINT_COUNT = 16;

/** What the caller asks of `connect`. Every field but the VP is optional. */
export interface ConnectRequest {
  /** The VP that receives the host's control messages (honoured from 3.0). */
  readonly targetMessageVp: number;
  /** Both monitor pages or none (null/omitted); page-aligned GPAs. */
  readonly monitorPages?: MonitorPageGpas | null;
  /** The interrupt page sent before 5.0 (from 5.0 that u64 is TargetInfo); page-aligned, 0 = none. */
  readonly interruptPageGpa?: bigint;
  /** Known versions to try, in any order; tried newest first. Default: every known version. */
  readonly versions?: readonly VmbusVersion[];
  /** The oldest version to try. Default: 0.13. */
  readonly minVersion?: VmbusVersion;
  /** Copper feature flags to ask for at 6.0. Default: DEFAULT_CLIENT_FEATURES. */
  readonly featureFlags?: number;
  /** Sent in InitiateContact2 at 6.0. Default: the nil GUID. */
  readonly clientId?: Guid;
  /** The SINT the host posts messages to, in TargetInfo from 5.0. Default: VMBUS_SINT (2). */
  readonly sint?: number;
  /** The VTL in TargetInfo, honoured from 5.1. Default: 0. */
  readonly vtl?: number;
}

/** A checked connect request: what every INITIATE_CONTACT of one connect carries. */
export interface ConnectPlan {
  /** Newest first. */
  readonly versions: readonly VmbusVersion[];
  readonly targetMessageVp: number;
  readonly monitorPages: MonitorPageGpas;
  readonly interruptPageGpa: bigint;
  readonly featureFlags: number;
  readonly clientId: Guid;
  /** TargetInfo u64 for 5.x (no feature flags) and for 6.0 (with them). */
  readonly targetInfo: { readonly withoutFeatures: bigint; readonly withFeatures: bigint };
}

/** Checks a connect request from a caller that may pass anything. */
export function planConnect(request: ConnectRequest): ConnectPlan | ClientRequestError {
  if (typeof request !== 'object' || request === null) return refuse('bad-argument', 'a connect request must be an object');
  const vp = checkUint('targetMessageVp', request.targetMessageVp, 0xffff_ffff);
  if (vp !== undefined) return vp;
  const monitorPages = checkMonitorPages(request.monitorPages ?? null);
  if (monitorPages instanceof ClientRequestError) return monitorPages;
  const interruptPageGpa = request.interruptPageGpa ?? 0n;
  const pageProblem = checkPageAligned('interruptPageGpa', interruptPageGpa);
  if (pageProblem !== undefined) return pageProblem;
  const versions = chooseVersions(request.versions, request.minVersion);
  if (versions instanceof ClientRequestError) return versions;
  const featureFlags = request.featureFlags ?? DEFAULT_CLIENT_FEATURES;
  const flagsProblem = checkUint('featureFlags', featureFlags, 0xffff_ffff);
  if (flagsProblem !== undefined) return flagsProblem;
  if ((featureFlags & ~ALL_FEATURE_FLAGS) !== 0) {
    return refuse('bad-argument', `featureFlags 0x${featureFlags.toString(16)} has reserved bits`);
  }
  const clientId = request.clientId === undefined ? NIL_GUID : checkGuid('clientId', request.clientId);
  if (clientId instanceof ClientRequestError) return clientId;
  const sint = request.sint ?? VMBUS_SINT;
  const sintProblem = checkUint('sint', sint, SINT_COUNT - 1);
  if (sintProblem !== undefined) return sintProblem;
  const vtl = request.vtl ?? 0;
  const withoutFeatures = encodeTargetInfo({ sint, vtl, featureFlags: 0 });
  const withFeatures = encodeTargetInfo({ sint, vtl, featureFlags });
  if (withoutFeatures instanceof WireError) return refuse('bad-argument', withoutFeatures.message);
  if (withFeatures instanceof WireError) return refuse('bad-argument', withFeatures.message);
  return {
    versions,
    targetMessageVp: request.targetMessageVp,
    monitorPages,
    interruptPageGpa,
    featureFlags,
    clientId,
    targetInfo: { withoutFeatures, withFeatures },
  };
}

/** Checks monitor pages from a caller: both page-aligned, both given or both 0; null means none. */
export function checkMonitorPages(pages: MonitorPageGpas | null): MonitorPageGpas | ClientRequestError {
  if (pages === null) return { parentToChild: 0n, childToParent: 0n };
  if (typeof pages !== 'object') return refuse('bad-argument', 'monitorPages must be an object or null');
  const problem =
    checkPageAligned('monitorPages.parentToChild', pages.parentToChild) ??
    checkPageAligned('monitorPages.childToParent', pages.childToParent);
  if (problem !== undefined) return problem;
  // The host refuses one page without the other (channels.rs:2202-2215).
  if ((pages.parentToChild === 0n) !== (pages.childToParent === 0n)) {
    return refuse('bad-argument', 'monitor pages must both be given or both be 0');
  }
  return { parentToChild: pages.parentToChild, childToParent: pages.childToParent };
}

/** A refusal unless `gpa` is a u64 on a page boundary. */
function checkPageAligned(name: string, gpa: unknown): ClientRequestError | undefined {
  const problem = checkU64(name, gpa);
  if (problem !== undefined) return problem;
  if ((gpa as bigint) % BigInt(GPA_PAGE_SIZE) !== 0n) return refuse('bad-argument', `${name} is not page-aligned`);
  return undefined;
}

function chooseVersions(
  requested: readonly VmbusVersion[] | undefined,
  minVersion: VmbusVersion | undefined,
): VmbusVersion[] | ClientRequestError {
  const list = requested ?? VMBUS_VERSIONS;
  if (!Array.isArray(list)) return refuse('bad-argument', 'versions must be an array');
  for (const v of list) {
    if (typeof v !== 'number' || !isKnownVersion(v)) return refuse('bad-argument', `unknown VMBus version ${String(v)}`);
  }
  if (minVersion !== undefined && (typeof minVersion !== 'number' || !isKnownVersion(minVersion))) {
    return refuse('bad-argument', `unknown minimum VMBus version ${String(minVersion)}`);
  }
  const floor = minVersion ?? VMBUS_VERSION.V1;
  const versions = [...new Set<number>(list)].filter((v) => v >= floor).sort((a, b) => b - a);
  if (versions.length === 0) return refuse('bad-argument', `no version to try at or above ${formatVersion(floor)}`);
  return versions;
}

/** INITIATE_CONTACT goes to the multiclient port from 5.0 on, to the classic port before (linux-vmbus.md §A.3.1). */
export function contactConnectionId(version: VmbusVersion): number {
  return version >= VMBUS_VERSION.Win10Rs3_1 ? VMBUS_MESSAGE_CONNECTION_ID_MULTICLIENT : VMBUS_MESSAGE_CONNECTION_ID;
}

/**
 * The INITIATE_CONTACT for one try: InitiateContact2 with the client id at 6.0;
 * the u64 @16 is TargetInfo from 5.0 (feature flags only at 6.0) and the
 * interrupt page before (openvmm-vmbus.md §6.8; channels.rs:2156-2200).
 */
export function initiateContact(plan: ConnectPlan, version: VmbusVersion): ChannelMessage {
  const base = {
    versionRequested: version,
    targetMessageVp: plan.targetMessageVp,
    interruptPageOrTargetInfo:
      version >= VMBUS_VERSION.Copper
        ? plan.targetInfo.withFeatures
        : version >= VMBUS_VERSION.Win10Rs3_1
          ? plan.targetInfo.withoutFeatures
          : plan.interruptPageGpa,
    parentToChildMonitorPageGpa: plan.monitorPages.parentToChild,
    childToParentMonitorPageGpa: plan.monitorPages.childToParent,
  };
  return initiateContactKind(version) === 'InitiateContact2'
    ? { kind: 'InitiateContact2', ...base, clientId: plan.clientId }
    : { kind: 'InitiateContact', ...base };
}

export type VersionResponseMessage = MessageOfKind<'VersionResponse' | 'VersionResponse2' | 'VersionResponse3'>;

/** What a VERSION_RESPONSE to the try at `version` means. */
export type VersionVerdict =
  | {
      readonly verdict: 'accepted';
      readonly features: number;
      readonly messageConnectionId: number;
      readonly serverMonitorPages: MonitorPageGpas | null;
    }
  /** version_supported = 0: try the next older version. */
  | { readonly verdict: 'refused' }
  | { readonly verdict: 'failed'; readonly reason: ConnectFailure; readonly connectionState: number | null };

/**
 * Reads a VERSION_RESPONSE. The features are those the client asked for AND the
 * host reported, so a host cannot switch on what the client does not speak; a
 * 16-byte response at 6.0 reports none (as OpenVMM reads it).
 */
export function judgeVersionResponse(msg: VersionResponseMessage, plan: ConnectPlan, version: VmbusVersion): VersionVerdict {
  if (msg.versionSupported === 0) return { verdict: 'refused' };
  if (msg.connectionState !== CONNECTION_STATE.SUCCESSFUL) {
    return { verdict: 'failed', reason: 'connection-state', connectionState: msg.connectionState };
  }
  // From 5.0 the field is the host's message connection id; before, it echoes the version (channels.rs:2538-2543).
  const multiclient = version >= VMBUS_VERSION.Win10Rs3_1;
  const messageConnectionId = multiclient ? msg.selectedVersionOrConnectionId : VMBUS_MESSAGE_CONNECTION_ID;
  if (messageConnectionId === 0 || messageConnectionId > MAX_CONNECTION_ID) {
    return { verdict: 'failed', reason: 'bad-connection-id', connectionState: null };
  }
  const requested = version >= VMBUS_VERSION.Copper ? plan.featureFlags : 0;
  const reported = msg.kind === 'VersionResponse' ? 0 : msg.supportedFeatures;
  const features = requested & reported;
  const serverMonitorPages =
    msg.kind === 'VersionResponse3' && (features & FEATURE_FLAG.SERVER_SPECIFIED_MONITOR_PAGES) !== 0
      ? { parentToChild: msg.parentToChildMonitorPageGpa, childToParent: msg.childToParentMonitorPageGpa }
      : null;
  return { verdict: 'accepted', features, messageConnectionId, serverMonitorPages };
}
