/**
 * Connection-wide flows: connect with version fallback, unload, pause/resume,
 * MODIFY_CONNECTION, hvsocket connect requests (openvmm-vmbus.md §2.2-2.3;
 * linux-vmbus.md §A.3.4).
 */
import { CONNECTION_STATE, messageAllowed, tlConnectRequestKind } from '../../wire/messages/index.js';
import type { MessageOfKind } from '../../wire/messages/index.js';
import { checkMonitorPages, contactConnectionId, initiateContact, judgeVersionResponse, planConnect } from './connect.js';
import type { ConnectPlan, ConnectRequest, VersionResponseMessage } from './connect.js';
import { post, runningSession } from './core.js';
import type { ClientCore, Verdict } from './core.js';
import { LOCAL_COMPLETION_STATUS } from './events.js';
import type { MonitorPageGpas } from './events.js';
import { forgetGpadls } from './gpadls.js';
import { tlConnectMessage } from './hvsock.js';
import type { TlConnectRequest } from './hvsock.js';
import { ClientRequestError, refuse } from './request-error.js';
import type { Session } from './session.js';

/** Starts version negotiation with the newest version of the plan. */
export function connect(core: ClientCore, request: ConnectRequest): ClientRequestError | undefined {
  if (core.phase.name !== 'disconnected') return refuse('invalid-state', `connect needs a disconnected client; it is ${core.phase.name}`);
  const plan = planConnect(request);
  if (plan instanceof ClientRequestError) return plan;
  tryVersion(core, plan, 0);
  return undefined;
}

function tryVersion(core: ClientCore, plan: ConnectPlan, attempt: number): void {
  const version = plan.versions[attempt]!;
  core.phase = { name: 'connecting', plan, attempt };
  core.outbox.post(initiateContact(plan, version), contactConnectionId(version));
}

/** VERSION_RESPONSE: connected, the next older version, or a failed connect. */
export function handleVersionResponse(core: ClientCore, msg: VersionResponseMessage): Verdict {
  const { phase } = core;
  if (phase.name !== 'connecting') return `VERSION_RESPONSE while ${phase.name}: no INITIATE_CONTACT is waiting`;
  const { plan, attempt } = phase;
  const version = plan.versions[attempt]!;
  const verdict = judgeVersionResponse(msg, plan, version);
  switch (verdict.verdict) {
    case 'refused':
      if (attempt + 1 < plan.versions.length) {
        tryVersion(core, plan, attempt + 1);
      } else {
        core.phase = { name: 'disconnected' };
        core.outbox.emit({ kind: 'connect-failed', reason: 'no-supported-version', version, connectionState: null });
      }
      return undefined;
    case 'failed':
      core.phase = { name: 'disconnected' };
      core.outbox.emit({ kind: 'connect-failed', reason: verdict.reason, version, connectionState: verdict.connectionState });
      return undefined;
    case 'accepted': {
      const { features, messageConnectionId, serverMonitorPages } = verdict;
      const session: Session = {
        version,
        features,
        messageConnectionId,
        serverMonitorPages,
        offers: 'not-requested',
        pause: 'running',
        modifyConnectionPending: false,
      };
      core.phase = { name: 'connected', session };
      core.outbox.emit({ kind: 'connected', version, features, messageConnectionId, serverMonitorPages });
      return undefined;
    }
  }
}

/**
 * Sends UNLOAD, running or paused (the host takes UNLOAD while paused,
 * channels.rs:3637-3682). The host releases every channel and GPADL and answers
 * UNLOAD_COMPLETE from Win7 on; before Win7 it never answers, so the unload
 * completes as it is sent.
 */
export function unload(core: ClientCore): ClientRequestError | undefined {
  const { phase } = core;
  if (phase.name !== 'connected') return refuse('invalid-state', `unload needs a connection; the client is ${phase.name}`);
  const { session } = phase;
  if (session.pause === 'pausing') return refuse('busy', 'a PAUSE is waiting for its response');
  post(core, session, { kind: 'Unload' });
  session.pause = 'running';
  if (messageAllowed('UNLOAD_COMPLETE', session.version, session.features)) core.phase = { name: 'unloading', session };
  else finishUnload(core, session, 'unacknowledged');
  return undefined;
}

export function handleUnloadComplete(core: ClientCore): Verdict {
  const { phase } = core;
  if (phase.name !== 'unloading') return `UNLOAD_COMPLETE while ${phase.name}: no UNLOAD is waiting`;
  finishUnload(core, phase.session, 'host');
  return undefined;
}

/** The connection is gone: every waiting request ends with cause 'unloaded', then every record goes. */
function finishUnload(core: ClientCore, session: Session, cause: 'host' | 'unacknowledged'): void {
  const { outbox } = core;
  const status = LOCAL_COMPLETION_STATUS.unloaded;
  forgetGpadls(core, [...core.gpadls.values()], 'unloaded');
  for (const { offer, lifecycle, pendingModify } of core.channels.values()) {
    const { channelId } = offer;
    if (lifecycle.state === 'opening') outbox.emit({ kind: 'open-result', channelId, openId: lifecycle.openId, status, cause: 'unloaded' });
    if (pendingModify !== null) {
      outbox.emit({ kind: 'modify-channel-result', channelId, targetVp: pendingModify.targetVp, status, cause: 'unloaded' });
    }
  }
  for (const request of core.tlConnects.drain()) {
    outbox.emit({ kind: 'tl-connect-result', ...request, status, channelId: null, cause: 'unloaded' });
  }
  if (session.modifyConnectionPending) {
    session.modifyConnectionPending = false;
    const connectionState = CONNECTION_STATE.FAILED_UNKNOWN_FAILURE;
    outbox.emit({ kind: 'modify-connection-result', connectionState, cause: 'unloaded' });
  }
  core.channels.clear();
  core.phase = { name: 'disconnected' };
  outbox.emit({ kind: 'unloaded', cause });
}

/** Sends PAUSE (6.0 with pause_resume); PAUSE_RESPONSE completes it. */
export function pause(core: ClientCore): ClientRequestError | undefined {
  const session = runningSession(core, 'pause');
  if (session instanceof ClientRequestError) return session;
  if (!messageAllowed('PAUSE', session.version, session.features)) return refuse('not-negotiated', 'PAUSE needs 6.0 with pause_resume');
  session.pause = 'pausing';
  post(core, session, { kind: 'Pause' });
  return undefined;
}

export function handlePauseResponse(core: ClientCore, session: Session): Verdict {
  if (session.pause !== 'pausing') return `PAUSE_RESPONSE while ${session.pause}`;
  session.pause = 'paused';
  core.outbox.emit({ kind: 'paused' });
  return undefined;
}

/** Sends RESUME to a paused connection. RESUME has no answer. */
export function resume(core: ClientCore): ClientRequestError | undefined {
  const { phase } = core;
  if (phase.name !== 'connected' || phase.session.pause !== 'paused') {
    return refuse('invalid-state', 'resume needs a paused connection');
  }
  phase.session.pause = 'running';
  post(core, phase.session, { kind: 'Resume' });
  return undefined;
}

/** Sends MODIFY_CONNECTION (6.0 with modify_connection) to move the monitor pages; one at a time. */
export function modifyConnection(core: ClientCore, pages: MonitorPageGpas): ClientRequestError | undefined {
  const session = runningSession(core, 'modifyConnection');
  if (session instanceof ClientRequestError) return session;
  if (!messageAllowed('MODIFY_CONNECTION', session.version, session.features)) {
    return refuse('not-negotiated', 'MODIFY_CONNECTION needs 6.0 with modify_connection');
  }
  if (session.modifyConnectionPending) return refuse('busy', 'a MODIFY_CONNECTION is waiting for its response');
  const checked = checkMonitorPages(pages);
  if (checked instanceof ClientRequestError) return checked;
  session.modifyConnectionPending = true;
  post(core, session, {
    kind: 'ModifyConnection',
    parentToChildMonitorPageGpa: checked.parentToChild,
    childToParentMonitorPageGpa: checked.childToParent,
  });
  return undefined;
}

export function handleModifyConnectionResponse(
  core: ClientCore,
  session: Session,
  msg: MessageOfKind<'ModifyConnectionResponse'>,
): Verdict {
  if (!session.modifyConnectionPending) return 'MODIFY_CONNECTION_RESPONSE with no MODIFY_CONNECTION waiting';
  session.modifyConnectionPending = false;
  core.outbox.emit({ kind: 'modify-connection-result', connectionState: msg.connectionState, cause: 'host' });
  return undefined;
}

/**
 * Sends TL_CONNECT_REQUEST (from 4.0; the form with a silo id from 5.2). It ends
 * with TL_CONNECT_REQUEST_RESULT (failure) or a matching hvsocket offer (success).
 */
export function tlConnect(core: ClientCore, request: TlConnectRequest): ClientRequestError | undefined {
  const session = runningSession(core, 'tlConnect');
  if (session instanceof ClientRequestError) return session;
  const kind = tlConnectRequestKind(session.version);
  if (kind === undefined) return refuse('not-negotiated', 'TL_CONNECT_REQUEST needs version 4.0');
  const built = tlConnectMessage(kind, request);
  if (built instanceof ClientRequestError) return built;
  const { endpointId, serviceId } = built.pending;
  if (core.tlConnects.has(endpointId, serviceId)) return refuse('busy', `a TL connect for ${endpointId} → ${serviceId} is waiting`);
  core.tlConnects.add(built.pending);
  post(core, session, built.message);
  return undefined;
}

export function handleTlConnectResult(core: ClientCore, msg: MessageOfKind<'TlConnectResult'>): Verdict {
  const request = core.tlConnects.take(msg.endpointId, msg.serviceId);
  if (request === undefined) return `TL_CONNECT_REQUEST_RESULT for ${msg.endpointId} → ${msg.serviceId}, which nobody asked for`;
  core.outbox.emit({ kind: 'tl-connect-result', ...request, status: msg.status, channelId: null, cause: 'host' });
  return undefined;
}
