/**
 * The records of the server's saved state, one writer and one reader each:
 * the connection, a channel and a GPADL, laid out as the doc comment of
 * saved-state.ts describes. Readers check field domains (tags, flag bytes,
 * reserved bytes, bounds); whether records agree is checked on restore.
 */
import { decodeGpaRanges, encodeGpaRanges, gpaRangesSize } from '../../wire/gpa-range.js';
import { WireError } from '../../wire/wire-error.js';
import { gpaRangesFromWire, gpaRangesToWire } from '../../memory/index.js';
import type { ChannelIds, OpenRequest } from './channel.js';
import type { ConnectionParams, ContactRequest } from './notifier.js';
import { USER_DEFINED_SIZE, type Offer } from './offer-params.js';
import type { SavedStateReader, SavedStateWriter } from './saved-bytes.js';
import type { SavedChannel, SavedConnection, SavedGpadl } from './saved-state.js';

const CONNECTION_KIND = { disconnected: 0, connected: 1, disconnecting: 2 } as const;
const CHANNEL_STATE = { closed: 1, opening: 2, open: 3, revoked: 4 } as const;
const GPADL_STATE = { 'in-progress': 1, created: 2, 'tearing-down': 3 } as const;
const CONNECTED_FLAG = { INTERRUPT_PAGE: 1, MONITOR_PAGES: 2, SERVER_MONITOR_PAGES: 4, OFFERS_SENT: 8, PAUSED: 16 } as const;
const TARGET_VP_DISABLED = 0xffff_ffff;
/** GPADL_HEADER `len` is a u16, so a GPADL buffer holds at most this many u64s (openvmm-vmbus.md §6.5). */
const MAX_GPADL_VALUES = Math.floor(0xffff / 8);
/** Fixed bytes of the smallest channel and GPADL records, so a forged count cannot outrun the body. */
export const MIN_CHANNEL_SIZE = 184;
export const MIN_GPADL_SIZE = 16;


export function writeConnection(w: SavedStateWriter, connection: SavedConnection): void {
  w.u8(CONNECTION_KIND[connection.kind]);
  w.reserved(3);
  w.u32(connection.messageVp);
  if (connection.kind === 'connected') {
    const { params } = connection;
    w.u32(params.version);
    w.u32(params.features);
    w.u32(params.targetMessageVp);
    w.u8(
      (params.interruptPage !== null ? CONNECTED_FLAG.INTERRUPT_PAGE : 0) |
        (params.monitorPages !== null ? CONNECTED_FLAG.MONITOR_PAGES : 0) |
        (params.serverMonitorPages ? CONNECTED_FLAG.SERVER_MONITOR_PAGES : 0) |
        (connection.offersSent ? CONNECTED_FLAG.OFFERS_SENT : 0) |
        (connection.paused ? CONNECTED_FLAG.PAUSED : 0),
    );
    w.reserved(3);
    w.u64(params.interruptPage ?? 0n);
    w.u64(params.monitorPages?.parentToChild ?? 0n);
    w.u64(params.monitorPages?.childToParent ?? 0n);
    w.guid(params.clientId);
  } else if (connection.kind === 'disconnecting') {
    const { next } = connection;
    w.u8(next.kind === 'unload-complete' ? 1 : 2);
    w.reserved(3);
    if (next.kind === 'unload-complete') return w.u32(next.version);
    const request = next.request;
    const pages = request.monitorPages;
    w.u32(request.versionRequested);
    w.u32(request.targetMessageVp);
    w.u8(request.targetSint);
    w.u8(request.targetVtl);
    w.u8(pages === null ? 0 : pages === 'invalid' ? 2 : 1);
    w.flag(request.interruptPage !== null);
    w.u32(request.featureFlags);
    w.u64(request.interruptPage ?? 0n);
    w.u64(typeof pages === 'object' && pages !== null ? pages.parentToChild : 0n);
    w.u64(typeof pages === 'object' && pages !== null ? pages.childToParent : 0n);
    w.guid(request.clientId);
  }
}

export function readConnection(r: SavedStateReader): SavedConnection {
  const kind = r.u8();
  r.reserved(3, 'the connection');
  const messageVp = r.u32();
  if (kind === CONNECTION_KIND.disconnected) return { kind: 'disconnected', messageVp };
  if (kind === CONNECTION_KIND.connected) {
    const version = r.u32();
    const features = r.u32();
    const targetMessageVp = r.u32();
    const flags = r.u8();
    r.reserved(3, 'the connection');
    const interruptPage = r.u64();
    const parentToChild = r.u64();
    const childToParent = r.u64();
    const clientId = r.guid();
    if ((flags & ~0x1f) !== 0) r.fail('bad-value', `connection flags 0x${flags.toString(16)} have unknown bits`);
    const params: ConnectionParams = {
      version,
      features,
      targetMessageVp,
      interruptPage: (flags & CONNECTED_FLAG.INTERRUPT_PAGE) !== 0 ? interruptPage : null,
      monitorPages: (flags & CONNECTED_FLAG.MONITOR_PAGES) !== 0 ? { parentToChild, childToParent } : null,
      serverMonitorPages: (flags & CONNECTED_FLAG.SERVER_MONITOR_PAGES) !== 0,
      clientId,
    };
    return {
      kind: 'connected',
      messageVp,
      params,
      offersSent: (flags & CONNECTED_FLAG.OFFERS_SENT) !== 0,
      paused: (flags & CONNECTED_FLAG.PAUSED) !== 0,
    };
  }
  if (kind !== CONNECTION_KIND.disconnecting) r.fail('bad-value', `connection kind ${kind} is unknown`);
  const next = r.u8();
  r.reserved(3, 'the next action');
  if (next === 1) return { kind: 'disconnecting', messageVp, next: { kind: 'unload-complete', version: r.u32() } };
  if (next !== 2) r.fail('bad-value', `next action ${next} is unknown`);
  return { kind: 'disconnecting', messageVp, next: { kind: 'reconnect', request: readContactRequest(r) } };
}

function readContactRequest(r: SavedStateReader): ContactRequest {
  const versionRequested = r.u32();
  const targetMessageVp = r.u32();
  const targetSint = r.u8();
  const targetVtl = r.u8();
  const pages = r.u8();
  const hasInterruptPage = r.flag('has_interrupt_page');
  const featureFlags = r.u32();
  const interruptPage = r.u64();
  const parentToChild = r.u64();
  const childToParent = r.u64();
  const clientId = r.guid();
  if (pages > 2) r.fail('bad-value', `contact request monitor pages ${pages} is unknown`);
  return {
    versionRequested,
    targetMessageVp,
    targetSint,
    targetVtl,
    featureFlags,
    interruptPage: hasInterruptPage ? interruptPage : null,
    monitorPages: pages === 0 ? null : pages === 2 ? 'invalid' : { parentToChild, childToParent },
    clientId,
  };
}

export function writeChannel(w: SavedStateWriter, { offer, ids, state }: SavedChannel): void {
  w.guid(offer.interfaceId);
  w.guid(offer.instanceId);
  w.u16(offer.subchannelIndex);
  w.u16(offer.mmioMegabytes);
  w.u16(offer.mmioMegabytesOptional);
  w.u16(offer.flags);
  w.bytes(offer.userDefined);
  w.flag(offer.monitored);
  w.flag(offer.order !== Infinity);
  w.reserved(2);
  w.u64(offer.order === Infinity ? 0n : BigInt(offer.order));
  w.u32(ids.channelId);
  w.u32(ids.connectionId);
  w.flag(ids.monitorId !== null);
  w.u8(ids.monitorId ?? 0);
  w.u8(CHANNEL_STATE[state.kind]);
  w.reserved(1);
  if (state.kind !== 'opening' && state.kind !== 'open') return;
  const { request } = state;
  w.u32(request.openId);
  w.u32(request.ringGpadlId);
  w.u32(request.targetVp ?? TARGET_VP_DISABLED);
  w.u32(request.downstreamRingPageOffset);
  w.bytes(request.userData);
  w.flag(request.guestSignal !== null);
  w.flag(request.redirectInterrupt);
  w.u16(request.guestSignal?.eventFlag ?? 0);
  w.u32(request.guestSignal?.connectionId ?? 0);
}

export function readChannel(r: SavedStateReader): SavedChannel {
  const interfaceId = r.guid();
  const instanceId = r.guid();
  const subchannelIndex = r.u16();
  const mmioMegabytes = r.u16();
  const mmioMegabytesOptional = r.u16();
  const flags = r.u16();
  const userDefined = r.bytes(USER_DEFINED_SIZE);
  const monitored = r.flag('monitored');
  const hasOrder = r.flag('has_order');
  r.reserved(2, 'a channel');
  const savedOrder = r.u64();
  if (savedOrder > BigInt(Number.MAX_SAFE_INTEGER)) r.fail('bad-value', `offer order ${savedOrder} is beyond 2^53`);
  const order = hasOrder ? Number(savedOrder) : Infinity;
  const offer: Offer = { interfaceId, instanceId, subchannelIndex, mmioMegabytes, mmioMegabytesOptional, flags, userDefined, monitored, order };
  const channelId = r.u32();
  const connectionId = r.u32();
  const hasMonitorId = r.flag('has_monitor_id');
  const monitorId = r.u8();
  const ids: ChannelIds = { channelId, connectionId, monitorId: hasMonitorId ? monitorId : null };
  const kind = r.u8();
  r.reserved(1, 'a channel');
  switch (kind) {
    case CHANNEL_STATE.closed:
      return { offer, ids, state: { kind: 'closed' } };
    case CHANNEL_STATE.revoked:
      return { offer, ids, state: { kind: 'revoked' } };
    case CHANNEL_STATE.opening:
      return { offer, ids, state: { kind: 'opening', request: readOpenRequest(r) } };
    case CHANNEL_STATE.open:
      return { offer, ids, state: { kind: 'open', request: readOpenRequest(r) } };
    default:
      r.fail('bad-value', `channel ${channelId} has unknown state ${kind}`);
      return { offer, ids, state: { kind: 'closed' } };
  }
}

function readOpenRequest(r: SavedStateReader): OpenRequest {
  const openId = r.u32();
  const ringGpadlId = r.u32();
  const targetVp = r.u32();
  const downstreamRingPageOffset = r.u32();
  const userData = r.bytes(USER_DEFINED_SIZE);
  const hasGuestSignal = r.flag('has_guest_signal');
  const redirectInterrupt = r.flag('redirect_interrupt');
  const eventFlag = r.u16();
  const connectionId = r.u32();
  if (!hasGuestSignal && (eventFlag !== 0 || connectionId !== 0)) r.fail('bad-value', 'guest signal parameters without has_guest_signal');
  return {
    openId,
    ringGpadlId,
    targetVp: targetVp === TARGET_VP_DISABLED ? null : targetVp,
    downstreamRingPageOffset,
    userData,
    guestSignal: hasGuestSignal ? { connectionId, eventFlag } : null,
    redirectInterrupt,
  };
}

export function writeGpadl(w: SavedStateWriter, { gpadlId, channelId, state }: SavedGpadl): void {
  w.u32(gpadlId);
  w.u32(channelId);
  w.u8(GPADL_STATE[state.kind]);
  w.reserved(1);
  if (state.kind === 'in-progress') {
    w.u16(state.count);
    w.u32(state.capacity);
    w.u32(state.values.length);
    for (const value of state.values) w.u64(value);
    return;
  }
  w.u16(state.ranges.length);
  const ranges = encodeGpaRanges(gpaRangesToWire(state.ranges));
  // The server keeps only ranges it validated when the GPADL was created.
  if (ranges instanceof WireError) throw new Error(`GPADL ${gpadlId} holds invalid ranges: ${ranges.message}`);
  w.sizedBytes(ranges);
}

export function readGpadl(r: SavedStateReader): SavedGpadl {
  const gpadlId = r.u32();
  const channelId = r.u32();
  const kind = r.u8();
  r.reserved(1, 'a GPADL');
  const count = r.u16();
  if (kind === GPADL_STATE['in-progress']) {
    const capacity = r.u32();
    if (capacity > MAX_GPADL_VALUES) r.fail('bad-gpadl', `GPADL ${gpadlId} capacity ${capacity} is more than a header can announce`);
    const values: bigint[] = [];
    for (let n = r.count(8, 'GPADL values'); n > 0 && !r.failed; n--) values.push(r.u64());
    return { gpadlId, channelId, state: { kind: 'in-progress', count, capacity, values } };
  }
  if (kind !== GPADL_STATE.created && kind !== GPADL_STATE['tearing-down']) r.fail('bad-value', `GPADL ${gpadlId} has unknown state ${kind}`);
  const bytes = r.sizedBytes(MAX_GPADL_VALUES * 8, `GPADL ${gpadlId} ranges`);
  const wire = r.failed ? [] : decodeGpaRanges(bytes, count);
  if (wire instanceof WireError) r.fail('bad-gpadl', `GPADL ${gpadlId}: ${wire.message}`);
  else if (!r.failed && gpaRangesSize(wire) !== bytes.length) r.fail('bad-gpadl', `GPADL ${gpadlId}: bytes after its ${count} ranges`);
  const ranges = wire instanceof WireError ? [] : gpaRangesFromWire(wire);
  return { gpadlId, channelId, state: { kind: kind === GPADL_STATE.created ? 'created' : 'tearing-down', ranges } };
}
