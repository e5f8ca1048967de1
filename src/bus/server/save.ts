/**
 * Saving the server: what each state, settled or in flight, becomes in the
 * saved state. The host side is torn down after a save and a new one is
 * restored, so nothing the old host holds (devices, mappings) survives; each
 * rule below says what the guest sees instead. OpenVMM makes the same choices
 * where it has the state (`channels/saved_state.rs`: released channels are
 * skipped, a re-offered channel is saved as revoked).
 *
 * Channels:
 * - not known to the guest (`client-released`): not saved; the device offers it again after restore.
 * - `closed`, `open`: saved as they are.
 * - `opening` (the device has not answered): saved with its request; after restore the new
 *   device is asked to open again and the guest gets the OPEN_RESULT of that answer.
 * - `revoked`: saved; the guest still owes REL_ID_RELEASED.
 * - `reoffered`: saved as `revoked`; the new offer is the device's to make again after restore.
 * - `opening-released` (the guest let go while the device was opening): not saved; the device's
 *   late answer would only have closed the channel again.
 *
 * GPADLs:
 * - `in-progress`: saved with the values received; the guest's next GPADL_BODY completes it.
 * - `created`: saved with its ranges.
 * - `tearing-down` (waiting for the host to unmap): saved; the new host holds no mapping, so
 *   GPADL_TORNDOWN goes out when the restore finishes, unless it maps the GPADL again first.
 * - `releasing` (the guest released its channel, the host still mapped it): not saved; the
 *   guest waits for nothing and the new host holds no mapping.
 *
 * Connection: disconnected, connected (with a PAUSE and the messages it holds), or
 * disconnecting, whose next step (UNLOAD_COMPLETE or a new negotiation) runs once the
 * restore finishes and nothing is held. Pending hvsocket requests are saved and handed
 * to the new host's listener again.
 */
import type { ChannelRecord } from './channel.js';
import type { GpadlRecord, ServerCore } from './core.js';
import { connectionParams } from './connection.js';
import type { SavedChannel, SavedConnection, SavedGpadl, ServerSavedState } from './saved-state.js';

export function saveServer(core: ServerCore): ServerSavedState {
  const channels: SavedChannel[] = [];
  for (const channel of core.channels.values()) {
    const saved = saveChannel(channel);
    if (saved !== null) channels.push(saved);
  }
  const gpadls: SavedGpadl[] = [];
  for (const record of core.gpadls.values()) {
    const saved = saveGpadl(record);
    if (saved !== null) gpadls.push(saved);
  }
  return {
    vtl: core.config.vtl,
    messageConnectionId: core.config.messageConnectionId,
    connection: saveConnection(core),
    channels,
    gpadls,
    heldMessages: core.outbox.heldMessages(),
    hvsockRequests: [...core.hvsockRequests],
  };
}

function saveConnection(core: ServerCore): SavedConnection {
  const { connection, messageVp } = core;
  switch (connection.kind) {
    case 'disconnected':
      return { kind: 'disconnected', messageVp };
    case 'connected':
      return {
        kind: 'connected',
        messageVp,
        params: connectionParams(connection.info),
        offersSent: connection.info.offersSent,
        paused: core.outbox.paused,
      };
    case 'disconnecting':
      return { kind: 'disconnecting', messageVp, next: connection.next };
  }
}

function saveChannel(channel: ChannelRecord): SavedChannel | null {
  const { offer, state, ids } = channel;
  if (ids === null) return null;
  switch (state.kind) {
    case 'closed':
    case 'revoked':
      return { offer, ids, state: { kind: state.kind } };
    case 'reoffered':
      return { offer, ids, state: { kind: 'revoked' } };
    case 'opening':
    case 'open':
      return { offer, ids, state: { kind: state.kind, request: state.request } };
    case 'client-released':
    case 'opening-released':
      return null;
  }
}

function saveGpadl(record: GpadlRecord): SavedGpadl | null {
  const { gpadlId, channelId, state } = record;
  switch (state.kind) {
    case 'in-progress':
      return { gpadlId, channelId, state: { kind: 'in-progress', count: state.count, capacity: state.capacity, values: [...state.values] } };
    case 'created':
      return { gpadlId, channelId, state: { kind: 'created', ranges: state.ranges } };
    case 'tearing-down':
      return { gpadlId, channelId, state: { kind: 'tearing-down', ranges: state.ranges } };
    case 'releasing':
      return null;
  }
}
