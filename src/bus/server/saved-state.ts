/**
 * The server's saved state: what a new server needs to go on serving a
 * connected guest as if nothing happened (OpenVMM saves the same facts,
 * `vmbus_server/src/channels/saved_state.rs`: the connection, the channels
 * the guest knows keyed by their offer key with their ids and open
 * parameters, the GPADLs with their range buffers and states, and the
 * messages not yet sent), as a typed value and as versioned bytes.
 *
 * Body layout (little-endian; the envelope is in saved-bytes.ts, magic "VBSS", format 1):
 *
 * - config: `vtl u8, reserved[3], message_connection_id u32`
 * - connection: `kind u8 (0 disconnected, 1 connected, 2 disconnecting), reserved[3], message_vp u32`, then
 *   - connected: `version u32, features u32, target_message_vp u32, flags u8 (bit 0 interrupt page,
 *     bit 1 monitor pages, bit 2 server's monitor pages, bit 3 offers sent, bit 4 paused), reserved[3],
 *     interrupt_page u64, parent_to_child u64, child_to_parent u64, client_id GUID`
 *   - disconnecting: `next u8 (1 unload-complete, 2 reconnect), reserved[3]`, then `version u32`, or the
 *     contact request: `version u32, target_message_vp u32, target_sint u8, target_vtl u8,
 *     monitor_pages u8 (0 none, 1 given, 2 invalid), has_interrupt_page u8, feature_flags u32,
 *     interrupt_page u64, parent_to_child u64, child_to_parent u64, client_id GUID`
 * - channels: `count u32`, each `interface GUID, instance GUID, subchannel_index u16, mmio_mb u16,
 *   mmio_mb_optional u16, flags u16, user_defined [120], monitored u8, has_order u8, reserved[2],
 *   order u64, channel_id u32, connection_id u32, has_monitor_id u8, monitor_id u8, state u8
 *   (1 closed, 2 opening, 3 open, 4 revoked), reserved u8`; opening and open add the open request:
 *   `open_id u32, ring_gpadl_id u32, target_vp u32 (0xFFFFFFFF = interrupts disabled),
 *   downstream_ring_page_offset u32, user_data [120], has_guest_signal u8, redirect_interrupt u8,
 *   event_flag u16, signal_connection_id u32`
 * - GPADLs: `count u32`, each `gpadl_id u32, channel_id u32, state u8 (1 in progress, 2 created,
 *   3 tearing down), reserved u8, range_count u16`, then in progress `capacity u32, value_count u32,
 *   values u64[]`, else `byte_length u32` and the GPA range list (openvmm-vmbus.md §6.3 layout)
 * - held messages: `count u32`, each `length u32` and the message (8..240 bytes)
 * - hvsocket requests: `count u32`, each `service GUID, endpoint GUID, silo GUID, silo_unaware u8, reserved[3]`
 */
import type { Guid } from '../../wire/guid.js';
import { MAX_MESSAGE_SIZE, MESSAGE_HEADER_SIZE } from '../../wire/messages/index.js';
import type { GpaRange } from '../../memory/index.js';
import type { ChannelIds, OpenRequest } from './channel.js';
import type { NextAction } from './core.js';
import type { ConnectionParams, HvsockConnectRequest } from './notifier.js';
import { sameOfferKey, type Offer } from './offer-params.js';
import { SavedStateReader, SavedStateWriter, openSavedState, sealSavedState, type SavedStateFormat } from './saved-bytes.js';
import type { SavedStateError } from './saved-state-error.js';
import {
  MIN_CHANNEL_SIZE,
  MIN_GPADL_SIZE,
  readChannel,
  readConnection,
  readGpadl,
  writeChannel,
  writeConnection,
  writeGpadl,
} from './saved-records.js';

export const SERVER_SAVED_STATE_FORMAT: SavedStateFormat = { magic: 'VBSS', version: 1, name: 'server saved state' };

/** An offer's identity across a restore: interface, instance, subchannel index (OpenVMM `OfferKey`). */
export interface OfferKey {
  readonly interfaceId: Guid;
  readonly instanceId: Guid;
  readonly subchannelIndex: number;
}

export type SavedConnection =
  | { readonly kind: 'disconnected'; readonly messageVp: number }
  | {
      readonly kind: 'connected';
      readonly messageVp: number;
      readonly params: ConnectionParams;
      readonly offersSent: boolean;
      /** The guest sent PAUSE and no RESUME yet. */
      readonly paused: boolean;
    }
  | { readonly kind: 'disconnecting'; readonly messageVp: number; readonly next: NextAction };

export type SavedChannelState =
  | { readonly kind: 'closed' }
  | { readonly kind: 'opening'; readonly request: OpenRequest }
  | { readonly kind: 'open'; readonly request: OpenRequest }
  | { readonly kind: 'revoked' };

/** A channel the guest knows. */
export interface SavedChannel {
  readonly offer: Offer;
  readonly ids: ChannelIds;
  readonly state: SavedChannelState;
}

export type SavedGpadlState =
  | { readonly kind: 'in-progress'; readonly count: number; readonly capacity: number; readonly values: readonly bigint[] }
  | { readonly kind: 'created' | 'tearing-down'; readonly ranges: readonly GpaRange[] };

export interface SavedGpadl {
  readonly gpadlId: number;
  readonly channelId: number;
  readonly state: SavedGpadlState;
}

export interface ServerSavedState {
  readonly vtl: number;
  /** The id a 5.0+ VERSION_RESPONSE told the guest to post on. */
  readonly messageConnectionId: number;
  readonly connection: SavedConnection;
  readonly channels: readonly SavedChannel[];
  readonly gpadls: readonly SavedGpadl[];
  /** Messages a PAUSE holds, in order. */
  readonly heldMessages: readonly Uint8Array[];
  /** hvsocket requests waiting for a listener's answer. */
  readonly hvsockRequests: readonly HvsockConnectRequest[];
}

/** Fixed bytes of the smallest held message and hvsocket request records. */
const MIN_MESSAGE_SIZE = 4 + MESSAGE_HEADER_SIZE;
const HVSOCK_REQUEST_SIZE = 52;

/** The state as versioned bytes. */
export function encodeServerSavedState(state: ServerSavedState): Uint8Array {
  const w = new SavedStateWriter();
  w.u8(state.vtl);
  w.reserved(3);
  w.u32(state.messageConnectionId);
  writeConnection(w, state.connection);
  w.u32(state.channels.length);
  for (const channel of state.channels) writeChannel(w, channel);
  w.u32(state.gpadls.length);
  for (const gpadl of state.gpadls) writeGpadl(w, gpadl);
  w.u32(state.heldMessages.length);
  for (const message of state.heldMessages) w.sizedBytes(message);
  w.u32(state.hvsockRequests.length);
  for (const request of state.hvsockRequests) {
    w.guid(request.serviceId);
    w.guid(request.endpointId);
    w.guid(request.siloId);
    w.flag(request.hostedSiloUnaware);
    w.reserved(3);
  }
  return sealSavedState(SERVER_SAVED_STATE_FORMAT, w.finish());
}

/**
 * Reads saved bytes: envelope, layout and field domains. Whether the records
 * agree with each other and with guest memory is checked on restore.
 */
export function decodeServerSavedState(bytes: Uint8Array): ServerSavedState | SavedStateError {
  const body = openSavedState(SERVER_SAVED_STATE_FORMAT, bytes);
  if (!(body instanceof Uint8Array)) return body;
  const r = new SavedStateReader(body, SERVER_SAVED_STATE_FORMAT.name);
  const vtl = r.u8();
  r.reserved(3, 'the config');
  const messageConnectionId = r.u32();
  const connection = readConnection(r);
  const channels: SavedChannel[] = [];
  for (let n = r.count(MIN_CHANNEL_SIZE, 'channels'); n > 0 && !r.failed; n--) channels.push(readChannel(r));
  const gpadls: SavedGpadl[] = [];
  for (let n = r.count(MIN_GPADL_SIZE, 'GPADLs'); n > 0 && !r.failed; n--) gpadls.push(readGpadl(r));
  const heldMessages: Uint8Array[] = [];
  for (let n = r.count(MIN_MESSAGE_SIZE, 'held messages'); n > 0 && !r.failed; n--) {
    const message = r.sizedBytes(MAX_MESSAGE_SIZE, 'a held message');
    if (message.length < MESSAGE_HEADER_SIZE) r.fail('bad-value', `a held message of ${message.length} bytes has no header`);
    heldMessages.push(message);
  }
  const hvsockRequests: HvsockConnectRequest[] = [];
  for (let n = r.count(HVSOCK_REQUEST_SIZE, 'hvsocket requests'); n > 0 && !r.failed; n--) {
    hvsockRequests.push({ serviceId: r.guid(), endpointId: r.guid(), siloId: r.guid(), hostedSiloUnaware: r.flag('silo_unaware') });
    r.reserved(3, 'an hvsocket request');
  }
  return r.finish() ?? { vtl, messageConnectionId, connection, channels, gpadls, heldMessages, hvsockRequests };
}

/** The saved channel with this offer key, if the state holds one. */
export function findSavedChannel(state: ServerSavedState, key: OfferKey): SavedChannel | undefined {
  return state.channels.find(({ offer }) => sameOfferKey(offer, key));
}
