/**
 * Version negotiation (INITIATE_CONTACT → VERSION_RESPONSE), MODIFY_CONNECTION
 * and PAUSE, with the per-version rules of OpenVMM's server
 * (channels.rs:2159-2572, 3547-3635; openvmm-vmbus.md §2.1, §6.8):
 *
 * - INITIATE_CONTACT may arrive on message connection id 1 or, from 5.0, on the
 *   multiclient id 4. Only on 4 does the target info's SINT count (from 5.0)
 *   and its VTL (from 5.1); otherwise SINT 2 and VTL 0 are assumed.
 * - `target_message_vp` is honoured from 3.0 (Win8.1); before, messages go to VP 0.
 * - The u64 at offset 16 is an interrupt page GPA before 2.4 (Win8), target info from 5.0.
 * - Feature flags exist from 6.0 (Copper): the answer carries the intersection
 *   of the server's and the guest's flags, in VersionResponse2 (20 bytes), or
 *   VersionResponse3 (40 bytes) with the server's monitor pages.
 * - A refused version gets the 16-byte VersionResponse with version_supported 0.
 * - From 5.0 `selected_version_or_connection_id` is the message connection id
 *   the guest must use from now on; before, it echoes the version.
 * - Monitor pages come both or neither; otherwise the connection fails with
 *   FAILED_UNKNOWN_FAILURE, which a pre-Win8 guest cannot be told: it is refused.
 * - A new INITIATE_CONTACT while connected releases everything first, like UNLOAD
 *   but without UNLOAD_COMPLETE, then negotiates.
 */
import { NIL_GUID } from '../../wire/guid.js';
import {
  CONNECTION_STATE,
  FEATURE_FLAG,
  VMBUS_MESSAGE_CONNECTION_ID_MULTICLIENT,
  VMBUS_SINT,
  VMBUS_VERSION,
  decodeTargetInfo,
  isKnownVersion,
  type ChannelMessage,
  type MessageOfKind,
} from '../../wire/messages/index.js';
import type { ConnectionInfo, ServerCore } from './core.js';
import type { ConnectionParams, ContactRequest, MessageTarget, MonitorPages } from './notifier.js';
import type { ServerConfig } from './options.js';
import { requestDisconnect } from './rescind-unload.js';

/** A version and feature set both sides speak. */
interface Negotiated {
  readonly version: number;
  readonly features: number;
}

/** INITIATE_CONTACT (both sizes), arriving on message connection id `connectionId`. */
export function handleInitiateContact(
  core: ServerCore,
  msg: MessageOfKind<'InitiateContact'> | MessageOfKind<'InitiateContact2'>,
  connectionId: number,
): void {
  const version = msg.versionRequested;
  const multiclient = connectionId === VMBUS_MESSAGE_CONNECTION_ID_MULTICLIENT;
  const targetInfo = decodeTargetInfo(msg.interruptPageOrTargetInfo);
  const featureFlags = version >= VMBUS_VERSION.Copper ? targetInfo.featureFlags : 0;
  // The two forms differ only in size: a guest asking for client_id must send the 56-byte one (channels.rs:2217-2231).
  if ((featureFlags & FEATURE_FLAG.CLIENT_ID) !== 0 && msg.kind !== 'InitiateContact2') {
    return core.dropped(msg.kind, 'client_id feature requested without the 56-byte InitiateContact2', { version });
  }
  const parentToChild = msg.parentToChildMonitorPageGpa;
  const childToParent = msg.childToParentMonitorPageGpa;
  const monitorPages: ContactRequest['monitorPages'] =
    (parentToChild === 0n) !== (childToParent === 0n) ? 'invalid' : parentToChild === 0n ? null : { parentToChild, childToParent };
  initiateContact(core, {
    versionRequested: version,
    targetMessageVp: version >= VMBUS_VERSION.Win8_1 ? msg.targetMessageVp : 0,
    targetSint: multiclient && version >= VMBUS_VERSION.Win10Rs3_1 ? targetInfo.sint : VMBUS_SINT,
    targetVtl: multiclient && version >= VMBUS_VERSION.Win10Rs4 ? targetInfo.vtl : 0,
    featureFlags,
    // From Win8 every channel has dedicated interrupts, so the page is not used (channels.rs:2192-2200).
    interruptPage: version < VMBUS_VERSION.Win8 && msg.interruptPageOrTargetInfo !== 0n ? msg.interruptPageOrTargetInfo : null,
    monitorPages,
    clientId: msg.kind === 'InitiateContact2' && (featureFlags & FEATURE_FLAG.CLIENT_ID) !== 0 ? msg.clientId : NIL_GUID,
  });
}

/** Negotiates a contact request, or first disconnects the current connection. */
export function initiateContact(core: ServerCore, request: ContactRequest): void {
  const version = request.versionRequested;
  if (request.targetVtl !== core.config.vtl) {
    core.outbox.action({ type: 'contact-for-other-vtl', request });
    return;
  }
  if (request.targetSint !== VMBUS_SINT) {
    // Only SINT 2 is served; the refusal goes where the guest listens (channels.rs:2268-2284).
    core.rejected('InitiateContact', `SINT ${request.targetSint} is not served`, { version });
    core.outbox.sendElsewhere(versionResponse(core.config, null), { vp: request.targetMessageVp, sint: request.targetSint });
    return;
  }
  if (core.connection.kind !== 'disconnected') {
    // Negotiation resumes from checkDisconnected once everything is released.
    requestDisconnect(core, { kind: 'reconnect', request });
    return;
  }
  const target: MessageTarget = { vp: request.targetMessageVp, sint: VMBUS_SINT };
  const negotiated = negotiate(core.config, request);
  if (negotiated === null) {
    core.rejected('InitiateContact', `version 0x${version.toString(16)} is not supported`, { version });
    core.outbox.send(versionResponse(core.config, null), target);
    return;
  }
  if (request.monitorPages === 'invalid') {
    core.rejected('InitiateContact', 'only one of the two monitor pages is given', { version });
    core.outbox.send(versionResponse(core.config, negotiated, CONNECTION_STATE.FAILED_UNKNOWN_FAILURE), target);
    return;
  }
  const serverPages = (negotiated.features & FEATURE_FLAG.SERVER_SPECIFIED_MONITOR_PAGES) !== 0 ? core.config.serverMonitorPages : null;
  const info: ConnectionInfo = {
    version,
    features: negotiated.features,
    targetMessageVp: request.targetMessageVp,
    interruptPage: request.interruptPage,
    monitorPages: serverPages ?? request.monitorPages,
    serverMonitorPages: serverPages !== null,
    clientId: request.clientId,
    offersSent: false,
  };
  core.connection = { kind: 'connected', info };
  core.messageVp = request.targetMessageVp;
  // The layer above sets up ports and monitor pages before the guest hears it is connected.
  core.outbox.action({ type: 'connected', connection: connectionParams(info) });
  core.send(versionResponse(core.config, negotiated, CONNECTION_STATE.SUCCESSFUL, serverPages));
}

/**
 * MODIFY_CONNECTION (Copper + modify_connection): new monitor pages, both or
 * neither. Refused while the server's own pages are in use or while open
 * channels use MNF (vmbus_server/src/lib.rs:1944-1952; channels.rs:3556-3600).
 */
export function handleModifyConnection(core: ServerCore, info: ConnectionInfo, msg: MessageOfKind<'ModifyConnection'>): void {
  const fail = (reason: string): void => {
    core.rejected(msg.kind, reason);
    core.send({ kind: 'ModifyConnectionResponse', connectionState: CONNECTION_STATE.FAILED_UNKNOWN_FAILURE });
  };
  const { parentToChildMonitorPageGpa: parentToChild, childToParentMonitorPageGpa: childToParent } = msg;
  if (info.serverMonitorPages) return fail('the server provides the monitor pages');
  if ((parentToChild === 0n) !== (childToParent === 0n)) return fail('only one of the two monitor pages is given');
  for (const channel of core.channels.values()) {
    const ids = channel.ids;
    if (ids === null || ids.monitorId === null || info.monitorPages === null) continue;
    if (channel.state.kind === 'open' && channel.state.request.targetVp !== null) {
      return fail(`open channel ${ids.channelId} uses the monitor pages`);
    }
  }
  const monitorPages: MonitorPages | null = parentToChild === 0n ? null : { parentToChild, childToParent };
  info.monitorPages = monitorPages;
  core.outbox.action({ type: 'monitor-pages-changed', monitorPages });
  core.send({ kind: 'ModifyConnectionResponse', connectionState: CONNECTION_STATE.SUCCESSFUL });
}

/** PAUSE: answer, then hold every message until RESUME, UNLOAD or INITIATE_CONTACT (channels.rs:3617-3682). */
export function handlePause(core: ServerCore): void {
  core.send({ kind: 'PauseResponse' });
  core.outbox.pause();
}

/** The connection as the layer above sees it (a copy; the server keeps its own). */
export function connectionParams(info: ConnectionInfo): ConnectionParams {
  return {
    version: info.version,
    features: info.features,
    targetMessageVp: info.targetMessageVp,
    interruptPage: info.interruptPage,
    monitorPages: info.monitorPages,
    serverMonitorPages: info.serverMonitorPages,
    clientId: info.clientId,
  };
}

/** The version if the server speaks it (and it is within the cap), with the common feature flags. */
function negotiate(config: ServerConfig, request: ContactRequest): Negotiated | null {
  const version = request.versionRequested;
  if (!isKnownVersion(version) || version > config.maxVersion) return null;
  const features = version >= VMBUS_VERSION.Copper ? (config.features & request.featureFlags) >>> 0 : 0;
  return { version, features };
}

/**
 * The VERSION_RESPONSE for a refusal (`negotiated` null), a failure or a
 * success (channels.rs:2515-2572). A failure cannot be told to a pre-Win8
 * guest, so it gets the refusal.
 */
function versionResponse(
  config: ServerConfig,
  negotiated: Negotiated | null,
  connectionState: number = CONNECTION_STATE.SUCCESSFUL,
  serverPages: MonitorPages | null = null,
): ChannelMessage {
  if (negotiated === null || (connectionState !== CONNECTION_STATE.SUCCESSFUL && negotiated.version < VMBUS_VERSION.Win8)) {
    return { kind: 'VersionResponse', versionSupported: 0, connectionState: CONNECTION_STATE.SUCCESSFUL, selectedVersionOrConnectionId: 0 };
  }
  const { version, features } = negotiated;
  const base = {
    versionSupported: 1,
    connectionState,
    selectedVersionOrConnectionId: version >= VMBUS_VERSION.Win10Rs3_1 ? config.messageConnectionId : version,
  };
  if (version < VMBUS_VERSION.Copper) return { kind: 'VersionResponse', ...base };
  if (serverPages === null) return { kind: 'VersionResponse2', ...base, supportedFeatures: features };
  return {
    kind: 'VersionResponse3',
    ...base,
    supportedFeatures: features,
    parentToChildMonitorPageGpa: serverPages.parentToChild,
    childToParentMonitorPageGpa: serverPages.childToParent,
  };
}
