/**
 * Leak accounting and the rules the client's state must keep whatever the host
 * sends. Tests call these after every step; a non-empty list is a client bug.
 */
import { ALL_FEATURE_FLAGS, VMBUS_MESSAGE_CONNECTION_ID, VMBUS_VERSION, messageAllowed } from '../../wire/messages/index.js';
import { sessionOf } from './core.js';
import type { ClientCore } from './core.js';

/** How much the client holds; all zero after an unload. */
export interface ClientCounts {
  readonly channels: number;
  readonly rescindedChannels: number;
  /** Channels opening or open. */
  readonly openChannels: number;
  readonly gpadls: number;
  /** GPADLs being created or torn down. */
  readonly pendingGpadls: number;
  readonly pendingOpens: number;
  readonly pendingModifies: number;
  readonly pendingTlConnects: number;
}

export function clientCounts(core: ClientCore): ClientCounts {
  let rescindedChannels = 0;
  let openChannels = 0;
  let pendingOpens = 0;
  let pendingModifies = 0;
  for (const record of core.channels.values()) {
    if (record.rescinded) rescindedChannels++;
    if (record.lifecycle.state !== 'closed') openChannels++;
    if (record.lifecycle.state === 'opening') pendingOpens++;
    if (record.pendingModify !== null) pendingModifies++;
  }
  let pendingGpadls = 0;
  for (const gpadl of core.gpadls.values()) if (gpadl.state !== 'created') pendingGpadls++;
  return {
    channels: core.channels.size,
    rescindedChannels,
    openChannels,
    gpadls: core.gpadls.size,
    pendingGpadls,
    pendingOpens,
    pendingModifies,
    pendingTlConnects: core.tlConnects.size,
  };
}

/** Every broken rule, as a sentence; empty when the state is sound. */
export function clientInvariants(core: ClientCore): string[] {
  const problems: string[] = [];
  core.channels.checkInvariants(problems);
  checkGpadls(core, problems);
  checkChannels(core, problems);
  checkSession(core, problems);
  return problems;
}

function checkGpadls(core: ClientCore, problems: string[]): void {
  for (const gpadl of core.gpadls.values()) {
    if (gpadl.gpadlId === 0) problems.push('GPADL id 0 is in use');
    if (core.channels.get(gpadl.channelId) === undefined) {
      problems.push(`GPADL ${gpadl.gpadlId} belongs to channel ${gpadl.channelId}, which has no record`);
    }
  }
}

function checkChannels(core: ClientCore, problems: string[]): void {
  const openIds = new Set<number>();
  for (const { offer, rescinded, lifecycle, pendingModify } of core.channels.values()) {
    const id = offer.channelId;
    if (pendingModify !== null && (lifecycle.state !== 'open' || rescinded)) {
      problems.push(`channel ${id} waits for a modify while ${rescinded ? 'rescinded' : lifecycle.state}`);
    }
    if (lifecycle.state === 'closed') continue;
    if (lifecycle.state === 'opening' && rescinded) problems.push(`rescinded channel ${id} still waits for OPEN_RESULT`);
    if (openIds.has(lifecycle.openId)) problems.push(`open id ${lifecycle.openId} is used by two channels`);
    openIds.add(lifecycle.openId);
    const ring = core.gpadls.get(lifecycle.ringGpadlId);
    if (ring === undefined || ring.channelId !== id || ring.state !== 'created') {
      problems.push(`${lifecycle.state} channel ${id} has ring GPADL ${lifecycle.ringGpadlId}, which is not a live GPADL of it`);
    }
  }
}

function checkSession(core: ClientCore, problems: string[]): void {
  const session = sessionOf(core.phase);
  if (session === null) {
    const held = core.channels.size + core.gpadls.size + core.tlConnects.size;
    if (held !== 0) problems.push(`the client is ${core.phase.name} but holds ${held} channels, GPADLs or TL connects`);
    return;
  }
  const { version, features, messageConnectionId } = session;
  if (version < VMBUS_VERSION.Win10Rs3_1 && messageConnectionId !== VMBUS_MESSAGE_CONNECTION_ID) {
    problems.push(`messages go to connection ${messageConnectionId} at a version before 5.0`);
  }
  if ((features & ~ALL_FEATURE_FLAGS) !== 0 || (version < VMBUS_VERSION.Copper && features !== 0)) {
    problems.push(`features 0x${features.toString(16)} cannot be negotiated at this version`);
  }
  if (session.offers === 'not-requested' && core.channels.size !== 0) problems.push('channels exist before REQUEST_OFFERS');
  if (session.modifyConnectionPending && !messageAllowed('MODIFY_CONNECTION', version, features)) {
    problems.push('a MODIFY_CONNECTION waits without the feature');
  }
  if (core.phase.name === 'unloading' && session.pause !== 'running') problems.push(`unloading while ${session.pause}`);
}
