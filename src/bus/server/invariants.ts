/**
 * What must hold between any two server calls, checked on demand (OpenVMM
 * checks a subset under debug_assertions, channels.rs:1424-1432), and the
 * counts a leak check compares.
 */
import type { GpadlTableCounts } from '../../memory/index.js';
import { channelConnectionId } from '../../wire/messages/index.js';
import { isReleased, type ChannelRecord, type ChannelStateKind } from './channel.js';
import type { GpadlRecord, GpadlState, ServerCore } from './core.js';
import { everythingReleased } from './disconnect.js';
import { MAX_PENDING_HVSOCK_REQUESTS } from './hvsock.js';
import type { IdPool } from './id-pool.js';

/** Counts of everything the server holds. */
export interface ServerSnapshot {
  readonly connection: 'disconnected' | 'connected' | 'disconnecting';
  /** The negotiated version while connected, else null. */
  readonly version: number | null;
  readonly features: number;
  readonly paused: boolean;
  /** Offers the server keeps, in any state. */
  readonly offers: number;
  readonly channelsByState: Readonly<Record<ChannelStateKind, number>>;
  /** Channel ids in use, lowest first. */
  readonly channelIds: readonly number[];
  readonly monitorIds: readonly number[];
  readonly gpadlsByState: Readonly<Record<GpadlState['kind'], number>>;
  /** GPADLs, mappings and mapped pages of the GPADL table. */
  readonly table: GpadlTableCounts;
  /** Messages held by a PAUSE. */
  readonly heldMessages: number;
  readonly pendingHvsockRequests: number;
}

export function snapshot(core: ServerCore): ServerSnapshot {
  const channelsByState: Record<ChannelStateKind, number> = {
    'client-released': 0, closed: 0, opening: 0, open: 0, revoked: 0, reoffered: 0, 'opening-released': 0,
  };
  for (const channel of core.channels.values()) channelsByState[channel.state.kind]++;
  const gpadlsByState: Record<GpadlState['kind'], number> = { 'in-progress': 0, created: 0, 'tearing-down': 0, releasing: 0 };
  for (const record of core.gpadls.values()) gpadlsByState[record.state.kind]++;
  const info = core.connected();
  return {
    connection: core.connection.kind,
    version: info?.version ?? null,
    features: info?.features ?? 0,
    paused: core.outbox.paused,
    offers: core.channels.size,
    channelsByState,
    channelIds: core.channelIds.held().map(([id]) => id),
    monitorIds: core.monitorIds.held().map(([id]) => id),
    gpadlsByState,
    table: core.table.counts(),
    heldMessages: core.outbox.heldCount,
    pendingHvsockRequests: core.hvsockRequests.length,
  };
}

/** Every violated invariant, as a sentence; empty when the state is sound. */
export function checkInvariants(core: ServerCore): string[] {
  const problems: string[] = [];
  for (const channel of core.channels.values()) checkChannel(core, channel, problems);
  checkPool(core, core.channelIds, 'channel', (c) => c.ids?.channelId ?? null, problems);
  checkPool(core, core.monitorIds, 'monitor', (c) => c.ids?.monitorId ?? null, problems);
  for (const record of core.gpadls.values()) checkGpadl(core, record, problems);
  const inTable = [...core.gpadls.values()].filter((r) => r.state.kind !== 'in-progress').length;
  if (core.table.counts().gpadls !== inTable) {
    problems.push(`the GPADL table holds ${core.table.counts().gpadls} GPADLs, the server knows ${inTable}`);
  }
  checkConnection(core, problems);
  return problems;
}

function checkChannel(core: ServerCore, channel: ChannelRecord, problems: string[]): void {
  const name = `offer ${channel.offerId} (${channel.state.kind})`;
  if ((channel.ids !== null) === isReleased(channel.state)) {
    problems.push(`${name} ${channel.ids === null ? 'has no channel id although the guest holds it' : 'holds a channel id although released'}`);
  }
  if (channel.ids === null) return;
  if (core.channelIds.ownerOf(channel.ids.channelId) !== channel.offerId) {
    problems.push(`${name} has channel id ${channel.ids.channelId}, which the pool gives to another`);
  }
  if (channel.ids.connectionId !== channelConnectionId(channel.ids.channelId, core.config.vtl)) {
    problems.push(`${name} has connection id ${channel.ids.connectionId}, not the one of channel ${channel.ids.channelId}`);
  }
  if (channel.ids.monitorId !== null && core.monitorIds.ownerOf(channel.ids.monitorId) !== channel.offerId) {
    problems.push(`${name} has monitor id ${channel.ids.monitorId}, which the pool gives to another`);
  }
}

/** Every id held in the pool belongs to exactly the live offer that records it. */
function checkPool(
  core: ServerCore,
  pool: IdPool,
  what: string,
  idOf: (channel: ChannelRecord) => number | null,
  problems: string[],
): void {
  for (const [id, owner] of pool.held()) {
    const channel = core.channels.get(owner);
    if (channel === undefined || idOf(channel) !== id) problems.push(`${what} id ${id} is held for offer ${owner}, which does not have it`);
  }
  const recorded = [...core.channels.values()].filter((c) => idOf(c) !== null).length;
  if (recorded !== pool.size) problems.push(`${pool.size} ${what} ids are held, ${recorded} offers have one`);
}

function checkGpadl(core: ServerCore, record: GpadlRecord, problems: string[]): void {
  const name = `GPADL ${record.gpadlId} (${record.state.kind})`;
  const entry = core.table.get(record.gpadlId);
  const channel = core.channels.get(record.offerId);
  const channelHolds = channel?.ids?.channelId === record.channelId && !isReleased(channel.state);
  switch (record.state.kind) {
    case 'in-progress':
      if (entry !== undefined) problems.push(`${name} is already in the table`);
      if (record.state.values.length >= record.state.capacity) problems.push(`${name} is full but not created`);
      break;
    case 'created':
      if (entry === undefined || entry.tearingDown || entry.channelId !== record.channelId) problems.push(`${name} does not match the table`);
      break;
    case 'tearing-down':
    case 'releasing':
      // A teardown that nothing maps any more would have completed.
      if (entry === undefined || !entry.tearingDown || entry.mappingCount === 0) problems.push(`${name} should be gone`);
      break;
  }
  // Only a GPADL the guest already let go of may outlive its channel.
  if (record.state.kind !== 'releasing' && !channelHolds) problems.push(`${name} has no live channel ${record.channelId}`);
}

function checkConnection(core: ServerCore, problems: string[]): void {
  const connection = core.connection;
  if (core.outbox.paused && connection.kind !== 'connected') problems.push('paused without a connection');
  if (core.outbox.heldCount > 0 && !core.outbox.paused) problems.push('messages held without a pause');
  if (core.hvsockRequests.length > 0 && connection.kind !== 'connected') problems.push('hvsocket requests pending without a connection');
  if (core.hvsockRequests.length > MAX_PENDING_HVSOCK_REQUESTS) problems.push('too many pending hvsocket requests');
  const guestHeld = [...core.channels.values()].filter((c) => c.state.kind !== 'client-released');
  switch (connection.kind) {
    case 'disconnected':
      if (guestHeld.length > 0 || core.gpadls.size > 0) problems.push('disconnected while channels or GPADLs are held');
      break;
    case 'connected':
      if (!connection.info.offersSent && guestHeld.length > 0) problems.push('channels are offered before REQUEST_OFFERS');
      if (guestHeld.some((c) => c.state.kind === 'opening-released')) problems.push('a released channel is still opening while connected');
      break;
    case 'disconnecting':
      if (everythingReleased(core)) problems.push('disconnecting although everything is released');
      if (guestHeld.some((c) => !isReleased(c.state))) problems.push('disconnecting while the guest holds a channel');
      break;
  }
}
