/**
 * The host bus's servicing paths: saving the host side, and handing the
 * channels of a restored bus back to their devices as they offer again.
 */
import { NTSTATUS } from '../wire/ntstatus.js';
import type { VmbusServer } from './server/index.js';
import type { OpenChannelAction } from './server/index.js';
import { BusError } from './bus-error.js';
import type { GuestPorts } from './guest-ports.js';
import { HostChannel, type HostChannelContext } from './host-channel.js';
import { isSuccess, openRequest, type OfferRecord } from './host-offer.js';
import type { HostRestore } from './host-restore.js';
import { encodeHostBusSavedState, type BacklogMessage, type HostSavedChannel } from './host-saved-state.js';
import { problemText } from './trace-detail.js';

/** What the servicing paths use of the bus. */
export interface ServicingContext {
  readonly server: VmbusServer;
  readonly channels: HostChannelContext;
  readonly emit: (kind: string, detail: Readonly<Record<string, number>>, reason?: string) => void;
}

/** The parts of the host side a save writes down. */
export interface HostSide {
  readonly server: VmbusServer;
  readonly offers: Iterable<OfferRecord>;
  readonly hostVp: number;
  readonly hostSint: number;
  readonly messageConnectionIds: readonly number[];
  readonly guestPorts: GuestPorts;
  readonly backlog: readonly BacklogMessage[];
}

/** `HostBus.save`: throws a BusError when the server is restoring or a device's `save` fails. */
export function saveHostSide(side: HostSide): Uint8Array {
  const serverBytes = side.server.save();
  if (!(serverBytes instanceof Uint8Array)) throw new BusError(NTSTATUS.STATUS_INVALID_DEVICE_STATE, serverBytes.message);
  const channels: HostSavedChannel[] = [];
  for (const record of side.offers) {
    const state = side.server.offerStatus(record.offerId)?.state;
    // A channel the guest let go of while its device was opening it is not the guest's any more.
    if (record.channel === null || (state !== 'open' && state !== 'opening')) continue;
    const { channelId, ringGpadlId, connectionId, monitorId } = record.channel.action;
    const deviceState = record.opened ? savedDeviceState(record, channelId) : null;
    channels.push({ key: record.key, channelId, ringGpadlId, connectionId, monitorId, opened: record.opened, deviceState });
  }
  const ports = side.guestPorts.held();
  return encodeHostBusSavedState({
    hostVp: side.hostVp,
    hostSint: side.hostSint,
    messageConnectionIds: side.messageConnectionIds,
    guestMessagePorts: ports.messagePorts,
    guestEventPorts: ports.eventPorts,
    channels,
    backlog: side.backlog,
    serverBytes,
  });
}

/**
 * An offer made while restoring took over a saved channel: a closed one is
 * claimed as it is, one saved while its device was opening it is opened
 * again (the server emits an `open` action), and an open one is handed to the
 * device's `restore` handler. What is not taken back is rescinded when the
 * restore completes.
 */
export function reclaimRestoredOffer(context: ServicingContext, restore: HostRestore, record: OfferRecord): void {
  const restored = context.server.restoredChannel(record.offerId);
  if (restored === undefined) return;
  if (restored.state !== 'open' || restored.open === null) {
    context.server.claimRestoredChannel(record.offerId, false);
    return;
  }
  const refusal = restoreOpenChannel(context, restore, record, restored.open, restored.gpadlIds);
  if (refusal !== undefined) context.emit('channel-not-restored', { channelId: restored.channelId }, refusal);
}

/** Hands an open channel back to its device; why not, if it cannot be. */
function restoreOpenChannel(
  context: ServicingContext,
  restore: HostRestore,
  record: OfferRecord,
  action: OpenChannelAction,
  gpadlIds: readonly number[],
): string | undefined {
  const { handlers } = record;
  if (handlers.restore === undefined) return 'the device has no restore handler';
  const kept = restore.kept(action.channelId);
  const attached = HostChannel.attach(context.channels, action, record.monitorLatency, kept !== undefined);
  if (typeof attached === 'string') return attached;
  // From here the channel owns what the old bus kept; a refusal below deletes it with the rest.
  restore.taken(action.channelId);
  let answer: unknown;
  try {
    answer = handlers.restore({ ...openRequest(action, attached), savedState: kept?.deviceState ?? null, gpadlIds });
  } catch (error) {
    answer = problemText(error);
  }
  if (!isSuccess(answer)) {
    attached.detach();
    return `the device's restore answered ${typeof answer === 'number' ? `0x${answer.toString(16)}` : String(answer)}`;
  }
  context.server.claimRestoredChannel(record.offerId, true);
  record.channel = attached;
  record.opened = true;
  restore.restored.push(attached.endpoint);
  context.emit('channel-restored', { channelId: action.channelId, ringGpadlId: action.ringGpadlId });
  return undefined;
}

/** A copy of what the device's `save` returns for an open channel, or null without a handler. */
function savedDeviceState(record: OfferRecord, channelId: number): Uint8Array | null {
  const { handlers } = record;
  if (handlers.save === undefined) return null;
  let bytes: unknown;
  try {
    bytes = handlers.save(channelId);
  } catch (error) {
    throw new BusError(NTSTATUS.STATUS_UNSUCCESSFUL, `the device of channel ${channelId} could not save: ${problemText(error)}`);
  }
  if (!(bytes instanceof Uint8Array)) throw new BusError(NTSTATUS.STATUS_UNSUCCESSFUL, `the device of channel ${channelId} saved no bytes`);
  return bytes.slice();
}
