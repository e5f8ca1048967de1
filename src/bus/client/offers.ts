/**
 * The channel records of a connection, by channel id: created by OFFER_CHANNEL,
 * marked by RESCIND_CHANNEL_OFFER, removed only when the local user releases the
 * id (REL_ID_RELEASED) or the connection unloads, so a rescinded id is never
 * reused under the user's feet (openvmm-vmbus.md §2.3 "Rescind", OpenVMM #977).
 */
import type { MessageOfKind } from '../../wire/messages/index.js';
import { MAX_CONNECTION_ID } from './connect.js';
import { post, runningSession } from './core.js';
import type { ClientCore, Verdict } from './core.js';
import { LOCAL_COMPLETION_STATUS } from './events.js';
import type { ChannelOffer } from './events.js';
import { forgetGpadls } from './gpadls.js';
import { ClientRequestError, refuse } from './request-error.js';
import type { Session } from './session.js';

/** Channel ids are 1..2047: bit 0 of the 2048-bit event bitmap is reserved (channels.rs:1067-1069). */
export const MAX_CHANNEL_ID = 2047;

/** Monitor ids are 0..127: four groups of 32 in the monitor page (openvmm-vmbus.md §6.8). */
export const MONITOR_ID_COUNT = 128;

/** Where a channel is in its open/close life, locally. */
export type ChannelLifecycle =
  | { readonly state: 'closed' }
  /** OPEN_CHANNEL is out; OPEN_RESULT with this open id will settle it. */
  | { readonly state: 'opening'; readonly openId: number; readonly ringGpadlId: number }
  | { readonly state: 'open'; readonly openId: number; readonly ringGpadlId: number };

export type ChannelState = ChannelLifecycle['state'];

export interface ChannelRecord {
  readonly offer: ChannelOffer;
  /** The host rescinded the channel; the id stays taken until the user releases it. */
  rescinded: boolean;
  lifecycle: ChannelLifecycle;
  /** A MODIFY_CHANNEL waiting for its response (at most one, OpenVMM client lib.rs). */
  pendingModify: { readonly targetVp: number } | null;
}

type OfferMessage = MessageOfKind<'OfferChannel'>;

/** The device a channel belongs to: a second live offer of it is a duplicate (linux-vmbus.md §A.4 item 10). */
function deviceKey(offer: Pick<ChannelOffer, 'interfaceId' | 'instanceId' | 'subchannelIndex'>): string {
  return `${offer.interfaceId}/${offer.instanceId}/${offer.subchannelIndex}`;
}

export class ChannelTable {
  readonly #records = new Map<number, ChannelRecord>();
  /** Channel id of each device that has a live (not rescinded) channel. */
  readonly #byDevice = new Map<string, number>();

  /** Checks an offer from the host and records it; a string is the reason to drop it. */
  accept(msg: OfferMessage): ChannelRecord | string {
    const { channelId } = msg;
    if (channelId === 0 || channelId > MAX_CHANNEL_ID) return `offer with channel id ${channelId}, outside 1..${MAX_CHANNEL_ID}`;
    const existing = this.#records.get(channelId);
    if (existing !== undefined) {
      const how = existing.rescinded ? 'rescinded but not yet released' : 'live';
      return `duplicate offer for channel id ${channelId}, which is ${how}`;
    }
    const monitorAllocated = (msg.monitorAllocated & 1) !== 0;
    if (monitorAllocated && msg.monitorId >= MONITOR_ID_COUNT) {
      return `offer for channel id ${channelId} with monitor id ${msg.monitorId}, beyond the ${MONITOR_ID_COUNT} monitor ids`;
    }
    // The guest signals the channel on this id; hypercall connection ids are 24 bits.
    if (msg.connectionId > MAX_CONNECTION_ID) {
      return `offer for channel id ${channelId} with connection id 0x${msg.connectionId.toString(16)}, beyond 24 bits`;
    }
    const offer: ChannelOffer = {
      channelId,
      interfaceId: msg.interfaceId,
      instanceId: msg.instanceId,
      subchannelIndex: msg.subchannelIndex,
      flags: msg.flags,
      mmioMegabytes: msg.mmioMegabytes,
      mmioMegabytesOptional: msg.mmioMegabytesOptional,
      monitorId: monitorAllocated ? msg.monitorId : null,
      isDedicated: (msg.isDedicated & 1) !== 0,
      connectionId: msg.connectionId,
      userDefined: msg.userDefined,
    };
    const key = deviceKey(offer);
    const twin = this.#byDevice.get(key);
    if (twin !== undefined) return `offer for channel id ${channelId} duplicates live channel ${twin} (same device and subchannel index)`;
    const record: ChannelRecord = { offer, rescinded: false, lifecycle: { state: 'closed' }, pendingModify: null };
    this.#records.set(channelId, record);
    this.#byDevice.set(key, channelId);
    return record;
  }

  get(channelId: number): ChannelRecord | undefined {
    return this.#records.get(channelId);
  }

  /** Marks a channel rescinded: its device may be offered again under a new id. */
  markRescinded(record: ChannelRecord): void {
    record.rescinded = true;
    this.#byDevice.delete(deviceKey(record.offer));
  }

  /**
   * Forgets a rescinded channel the user released (markRescinded already took
   * it out of the device index); its id may be offered again.
   */
  release(record: ChannelRecord): void {
    this.#records.delete(record.offer.channelId);
  }

  values(): IterableIterator<ChannelRecord> {
    return this.#records.values();
  }

  get size(): number {
    return this.#records.size;
  }

  clear(): void {
    this.#records.clear();
    this.#byDevice.clear();
  }

  /** Appends a sentence per broken rule of the table itself. */
  checkInvariants(problems: string[]): void {
    let live = 0;
    for (const [id, record] of this.#records) {
      if (id !== record.offer.channelId) problems.push(`channel record ${id} holds the offer of channel ${record.offer.channelId}`);
      if (id === 0 || id > MAX_CHANNEL_ID) problems.push(`channel id ${id} is outside 1..${MAX_CHANNEL_ID}`);
      if (record.rescinded) continue;
      live++;
      if (this.#byDevice.get(deviceKey(record.offer)) !== id) problems.push(`live channel ${id} is missing from the device index`);
    }
    if (this.#byDevice.size !== live) problems.push(`device index has ${this.#byDevice.size} entries for ${live} live channels`);
  }
}

/** Sends REQUEST_OFFERS, once per connection: offers are taken only after it (channels.rs:1855-1870). */
export function requestOffers(core: ClientCore): ClientRequestError | undefined {
  const session = runningSession(core, 'requestOffers');
  if (session instanceof ClientRequestError) return session;
  if (session.offers !== 'not-requested') return refuse('invalid-state', 'offers were already requested on this connection');
  session.offers = 'requested';
  post(core, session, { kind: 'RequestOffers' });
  return undefined;
}

/**
 * OFFER_CHANNEL: a new channel record, reported with a private copy of its
 * user-defined bytes. An hvsocket offer may also answer a TL connect request.
 */
export function handleOffer(core: ClientCore, session: Session, msg: MessageOfKind<'OfferChannel'>): Verdict {
  if (session.offers === 'not-requested') return `OFFER_CHANNEL for channel ${msg.channelId} before REQUEST_OFFERS`;
  const record = core.channels.accept(msg);
  if (typeof record === 'string') return record;
  const { offer } = record;
  core.outbox.emit({ kind: 'offer', offer: { ...offer, userDefined: offer.userDefined.slice() } });
  const request = core.tlConnects.takeByOffer(offer);
  if (request !== undefined) {
    core.outbox.emit({ kind: 'tl-connect-result', ...request, status: 0, channelId: offer.channelId, cause: 'host' });
  }
  return undefined;
}

export function handleAllOffersDelivered(core: ClientCore, session: Session): Verdict {
  if (session.offers !== 'requested') return `ALL_OFFERS_DELIVERED while offers are ${session.offers}`;
  session.offers = 'delivered';
  core.outbox.emit({ kind: 'all-offers-delivered' });
  return undefined;
}

/**
 * RESCIND_CHANNEL_OFFER: the channel is gone on the host, its id stays taken
 * until `releaseId`. Requests the host will now never answer end here: a
 * pending open or modify (the host drops both on a revoked channel,
 * channels.rs:3077, 3506-3520). GPADL requests stay: the host still answers
 * them (channels.rs:2932-2996, 3845-3908).
 */
export function handleRescind(core: ClientCore, msg: MessageOfKind<'RescindChannelOffer'>): Verdict {
  const record = core.channels.get(msg.channelId);
  if (record === undefined) return `RESCIND_CHANNEL_OFFER for unknown channel ${msg.channelId}`;
  if (record.rescinded) return `RESCIND_CHANNEL_OFFER for channel ${msg.channelId}, already rescinded`;
  core.channels.markRescinded(record);
  const { channelId } = msg;
  core.outbox.emit({ kind: 'rescinded', channelId });
  const { lifecycle, pendingModify } = record;
  if (lifecycle.state === 'opening') {
    record.lifecycle = { state: 'closed' };
    const status = LOCAL_COMPLETION_STATUS.rescinded;
    core.outbox.emit({ kind: 'open-result', channelId, openId: lifecycle.openId, status, cause: 'rescinded' });
  }
  if (pendingModify !== null) {
    record.pendingModify = null;
    const status = LOCAL_COMPLETION_STATUS.rescinded;
    core.outbox.emit({ kind: 'modify-channel-result', channelId, targetVp: pendingModify.targetVp, status, cause: 'rescinded' });
  }
  return undefined;
}

/**
 * The local user is done with a rescinded, closed channel: REL_ID_RELEASED lets
 * the host reuse the id. The host releases the channel's remaining GPADLs with
 * it (channels.rs:3237-3280), so they end here too.
 */
export function releaseId(core: ClientCore, channelId: number): ClientRequestError | undefined {
  const session = runningSession(core, 'releaseId');
  if (session instanceof ClientRequestError) return session;
  const record = core.channels.get(channelId);
  if (record === undefined) return refuse('unknown-channel', `no channel ${String(channelId)}`);
  if (!record.rescinded) return refuse('channel-state', `channel ${channelId} was not rescinded`);
  if (record.lifecycle.state !== 'closed') return refuse('channel-state', `channel ${channelId} is still open; close it first`);
  core.channels.release(record);
  post(core, session, { kind: 'RelIdReleased', channelId });
  forgetGpadls(core, core.gpadls.ofChannel(channelId), 'released');
  return undefined;
}
