/**
 * The host bus's saved state: the server's, plus what the driver around it
 * holds that a new host needs to take over without the guest noticing: the
 * hypervisor ports and connections it made, the channels whose ring GPADLs it
 * mapped (with each device's own saved bytes), and the messages the
 * hypervisor had not yet taken.
 *
 * Body layout (little-endian; envelope as the server's, saved-bytes.ts, magic "VBHB", format 1):
 *
 * - `host_vp u32, host_sint u32`
 * - message connection ids: `count u32`, each `u32`
 * - guest message ports: `count u32`, each `vp u32, sint u32`
 * - guest event ports: `count u32`, each `vp u32`
 * - channels: `count u32`, each `interface GUID, instance GUID, subchannel_index u16, reserved[2],
 *   channel_id u32, ring_gpadl_id u32, connection_id u32, has_monitor_id u8, monitor_id u8,
 *   opened u8, has_device_state u8, device_state_length u32, device_state bytes`
 * - backlog: `count u32`, each `connection_id u32, length u32, message` (8..240 bytes)
 * - `server_state_length u32` and the server's saved state (its own envelope, "VBSS")
 */
import { MAX_MESSAGE_SIZE, MESSAGE_HEADER_SIZE } from '../wire/messages/index.js';
import {
  SavedStateError,
  SavedStateReader,
  SavedStateWriter,
  decodeServerSavedState,
  findSavedChannel,
  openSavedState,
  sealSavedState,
  type OfferKey,
  type SavedStateFormat,
  type ServerSavedState,
} from './server/index.js';

export const HOST_BUS_SAVED_STATE_FORMAT: SavedStateFormat = { magic: 'VBHB', version: 1, name: 'host bus saved state' };

/** A channel whose ring the bus mapped and whose ports it made. */
export interface HostSavedChannel {
  readonly key: OfferKey;
  readonly channelId: number;
  readonly ringGpadlId: number;
  /** The connection the guest signals the host on; the host's event port for the channel is behind it. */
  readonly connectionId: number;
  /** The monitor id the bus programmed for the guest's monitored signals, or null. */
  readonly monitorId: number | null;
  /** The device had accepted the open (false: the guest still waits for OPEN_RESULT). */
  readonly opened: boolean;
  /** What the device's `save` handler returned, or null. */
  readonly deviceState: Uint8Array | null;
}

/** A message the hypervisor had refused (the guest's slot was full) and the bus was going to post again. */
export interface BacklogMessage {
  readonly connectionId: number;
  readonly bytes: Uint8Array;
}

export interface HostBusSavedState {
  readonly hostVp: number;
  readonly hostSint: number;
  /** The guest's message connection ids the bus listens on (1, 4 and the server's own). */
  readonly messageConnectionIds: readonly number[];
  /** Ports the bus made in the guest partition. */
  readonly guestMessagePorts: readonly { readonly vp: number; readonly sint: number }[];
  readonly guestEventPorts: readonly number[];
  readonly channels: readonly HostSavedChannel[];
  readonly backlog: readonly BacklogMessage[];
  /** The server's saved state, decoded. */
  readonly server: ServerSavedState;
  /** The same, as the bytes it was saved as. */
  readonly serverBytes: Uint8Array;
}

/** Fixed bytes of the smallest record of each list, so a forged count cannot outrun the body. */
const CHANNEL_MIN_SIZE = 56;
const BACKLOG_MIN_SIZE = 8 + MESSAGE_HEADER_SIZE;

export function encodeHostBusSavedState(state: Omit<HostBusSavedState, 'server'>): Uint8Array {
  const w = new SavedStateWriter();
  w.u32(state.hostVp);
  w.u32(state.hostSint);
  w.u32(state.messageConnectionIds.length);
  for (const id of state.messageConnectionIds) w.u32(id);
  w.u32(state.guestMessagePorts.length);
  for (const { vp, sint } of state.guestMessagePorts) {
    w.u32(vp);
    w.u32(sint);
  }
  w.u32(state.guestEventPorts.length);
  for (const vp of state.guestEventPorts) w.u32(vp);
  w.u32(state.channels.length);
  for (const channel of state.channels) {
    w.guid(channel.key.interfaceId);
    w.guid(channel.key.instanceId);
    w.u16(channel.key.subchannelIndex);
    w.reserved(2);
    w.u32(channel.channelId);
    w.u32(channel.ringGpadlId);
    w.u32(channel.connectionId);
    w.flag(channel.monitorId !== null);
    w.u8(channel.monitorId ?? 0);
    w.flag(channel.opened);
    w.flag(channel.deviceState !== null);
    w.sizedBytes(channel.deviceState ?? new Uint8Array(0));
  }
  w.u32(state.backlog.length);
  for (const message of state.backlog) {
    w.u32(message.connectionId);
    w.sizedBytes(message.bytes);
  }
  w.sizedBytes(state.serverBytes);
  return sealSavedState(HOST_BUS_SAVED_STATE_FORMAT, w.finish());
}

/**
 * Reads saved bytes and checks the two layers against each other: every
 * channel the bus mapped is one the server has opening or open, under the
 * same channel id and ring GPADL, and every channel the server has open was
 * mapped. Whether the server's state fits the new server is checked when it
 * is restored.
 */
export function decodeHostBusSavedState(bytes: Uint8Array): HostBusSavedState | SavedStateError {
  const body = openSavedState(HOST_BUS_SAVED_STATE_FORMAT, bytes);
  if (!(body instanceof Uint8Array)) return body;
  const r = new SavedStateReader(body, HOST_BUS_SAVED_STATE_FORMAT.name);
  const hostVp = r.u32();
  const hostSint = r.u32();
  const messageConnectionIds: number[] = [];
  for (let n = r.count(4, 'message connection ids'); n > 0; n--) messageConnectionIds.push(r.u32());
  const guestMessagePorts: { vp: number; sint: number }[] = [];
  for (let n = r.count(8, 'guest message ports'); n > 0; n--) guestMessagePorts.push({ vp: r.u32(), sint: r.u32() });
  const guestEventPorts: number[] = [];
  for (let n = r.count(4, 'guest event ports'); n > 0; n--) guestEventPorts.push(r.u32());
  const channels: HostSavedChannel[] = [];
  for (let n = r.count(CHANNEL_MIN_SIZE, 'channels'); n > 0 && !r.failed; n--) {
    const key: OfferKey = { interfaceId: r.guid(), instanceId: r.guid(), subchannelIndex: r.u16() };
    r.reserved(2, 'a channel');
    const channelId = r.u32();
    const ringGpadlId = r.u32();
    const connectionId = r.u32();
    const hasMonitorId = r.flag('has_monitor_id');
    const monitorId = r.u8();
    const opened = r.flag('opened');
    const hasDeviceState = r.flag('has_device_state');
    const deviceState = r.sizedBytes(body.length, 'a device state');
    if (!hasDeviceState && deviceState.length > 0) {
      r.fail('bad-value', `channel ${channelId} has device state bytes without has_device_state`);
    }
    channels.push({
      key,
      channelId,
      ringGpadlId,
      connectionId,
      monitorId: hasMonitorId ? monitorId : null,
      opened,
      deviceState: hasDeviceState ? deviceState : null,
    });
  }
  const backlog: BacklogMessage[] = [];
  for (let n = r.count(BACKLOG_MIN_SIZE, 'backlog messages'); n > 0 && !r.failed; n--) {
    const connectionId = r.u32();
    const message = r.sizedBytes(MAX_MESSAGE_SIZE, 'a backlog message');
    if (message.length < MESSAGE_HEADER_SIZE) r.fail('bad-value', `a backlog message of ${message.length} bytes has no header`);
    backlog.push({ connectionId, bytes: message });
  }
  const serverBytes = r.sizedBytes(body.length, 'the server state');
  const problem = r.finish();
  if (problem !== undefined) return problem;
  const server = decodeServerSavedState(serverBytes);
  if (server instanceof SavedStateError) return server;
  const state: HostBusSavedState = {
    hostVp,
    hostSint,
    messageConnectionIds,
    guestMessagePorts,
    guestEventPorts,
    channels,
    backlog,
    server,
    serverBytes,
  };
  return checkLayers(state) ?? state;
}

function checkLayers(state: HostBusSavedState): SavedStateError | undefined {
  const mapped = new Set<number>();
  for (const channel of state.channels) {
    const { channelId, key } = channel;
    if (mapped.has(channelId)) return new SavedStateError('duplicate-id', `the bus mapped the ring of channel ${channelId} twice`);
    mapped.add(channelId);
    const saved = findSavedChannel(state.server, key);
    const open = saved?.state.kind === 'open' || saved?.state.kind === 'opening' ? saved.state : null;
    const inconsistent = (why: string): SavedStateError => new SavedStateError('inconsistent', `channel ${channelId}: ${why}`);
    if (saved === undefined || open === null || saved.ids.channelId !== channelId || open.request.ringGpadlId !== channel.ringGpadlId) {
      return inconsistent(`the bus mapped ring GPADL ${channel.ringGpadlId}, which the server has not opening or open on it`);
    }
    if (channel.opened !== (open.kind === 'open')) {
      return inconsistent(`${open.kind} for the server, but its device ${channel.opened ? 'had' : 'had not'} accepted it`);
    }
    if (channel.connectionId !== (open.request.guestSignal?.connectionId ?? saved.ids.connectionId)) {
      return inconsistent(`the bus listens on connection 0x${channel.connectionId.toString(16)}, not the one the guest signals`);
    }
    if (channel.monitorId !== null && channel.monitorId !== saved.ids.monitorId) {
      return inconsistent(`the bus programmed monitor id ${channel.monitorId}, not the channel's`);
    }
  }
  for (const { ids, state: channelState } of state.server.channels) {
    if ((channelState.kind === 'open' || channelState.kind === 'opening') && !mapped.has(ids.channelId)) {
      return new SavedStateError('inconsistent', `channel ${ids.channelId} is ${channelState.kind} but the bus had not mapped its ring`);
    }
  }
  return undefined;
}
