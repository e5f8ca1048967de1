/**
 * The client's whole state, shared by the flow modules (connection, offers,
 * GPADLs, open/close), plus the checks every local request starts with.
 * Handlers of host messages return a drop reason (a sentence) or undefined;
 * the client traces the drops.
 */
import type { ChannelMessage } from '../../wire/messages/index.js';
import type { ClientGpadls } from './gpadls.js';
import type { TlConnectTracker } from './hvsock.js';
import type { ChannelTable } from './offers.js';
import type { ClientOutbox } from './outbox.js';
import { refuse } from './request-error.js';
import type { ClientRequestError } from './request-error.js';
import type { ConnectionPhase, Session } from './session.js';

export interface ClientCore {
  phase: ConnectionPhase;
  readonly channels: ChannelTable;
  readonly gpadls: ClientGpadls;
  readonly tlConnects: TlConnectTracker;
  /** The open id of the next OPEN_CHANNEL; fresh per open so a stale OPEN_RESULT cannot match. */
  nextOpenId: number;
  readonly outbox: ClientOutbox;
}

/** A drop reason, or undefined when the message was taken. */
export type Verdict = string | undefined;

/** Queues a message on the session's message connection id. */
export function post(core: ClientCore, session: Session, message: ChannelMessage): void {
  core.outbox.post(message, session.messageConnectionId);
}

/** The session a request may use: connected, not unloading, not pausing or paused. */
export function runningSession(core: ClientCore, request: string): Session | ClientRequestError {
  const { phase } = core;
  if (phase.name !== 'connected') return refuse('invalid-state', `${request} needs a connection; the client is ${phase.name}`);
  if (phase.session.pause !== 'running') {
    return refuse('invalid-state', `${request} is not allowed while the connection is ${phase.session.pause}`);
  }
  return phase.session;
}

/** The negotiated session, if there is one (connected or unloading). */
export function sessionOf(phase: ConnectionPhase): Session | null {
  return phase.name === 'connected' || phase.name === 'unloading' ? phase.session : null;
}
