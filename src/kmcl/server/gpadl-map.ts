/**
 * The server's side of the guest's GPADLs: VmbChannelMapGpadl maps one (a
 * single mapping per GPADL at a time, as the page says), VmbChannelUnmapGpadl
 * lets it go. While the server maps a GPADL the guest's VmbChannelDeleteGpadl
 * waits: the bus sends GPADL_TORNDOWN only after the last unmap. What the
 * driver leaves mapped when the channel closes is unmapped after EvtChannelClosed.
 */
import { MemoryError, type GpadlMapping } from '../../memory/index.js';
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import { hasOnlyFlags, isOut, isU32 } from '../arguments.js';
import { VMBUS_CHANNEL_GPADL_FLAGS, VMBUS_CHANNEL_GPADL_FLAG_READ_ONLY } from '../flags.js';
import type { Out, VMBCHANNEL } from '../types.js';
import type { ServerChannel } from './server-channel.js';
import { serverEndpoint } from './server-endpoint.js';

/** The status a refused mapping gets. */
function mapFailureStatus(error: MemoryError): NtStatus {
  switch (error.code) {
    case 'read-only':
      return NTSTATUS.STATUS_ACCESS_DENIED;
    case 'teardown-pending':
      return NTSTATUS.STATUS_DELETE_PENDING;
    case 'unknown-id':
    case 'wrong-channel':
      return NTSTATUS.STATUS_NOT_FOUND;
    default:
      return NTSTATUS.STATUS_UNSUCCESSFUL;
  }
}

/**
 * VmbChannelMapGpadl: maps GPADL `GpadlHandle`, which the guest created on
 * this channel, and puts the mapping (the MDL's stand-in: bounds-checked
 * access to the GPADL's bytes) in `Mdl.value`. Without
 * VMBUS_CHANNEL_GPADL_FLAG_READ_ONLY the mapping is writable, which fails for
 * a GPADL created read-only. Decision: a read-only mapping refuses writes (the
 * page only says Windows does not stop them). Statuses: _1 not a server
 * channel or not open (from EvtChannelOpened until it closes); _2 unknown
 * flags; _3 a GPADL id that is no UINT32; _4 a bad out-parameter;
 * STATUS_INVALID_DEVICE_STATE when this channel already maps the GPADL;
 * STATUS_NOT_FOUND for a GPADL the guest did not create on this channel;
 * STATUS_ACCESS_DENIED for a writable mapping of a read-only GPADL;
 * STATUS_DELETE_PENDING once the guest began deleting it.
 *
 * The read-only flag of VmbChannelCreateGpadl* does not cross the wire
 * (GPADL_HEADER has no flags field, openvmm-vmbus.md §6.5), so over the
 * simulated bus a guest's GPADL is writable unless the bus's table says not.
 */
export function VmbChannelMapGpadl(Channel: VMBCHANNEL, Flags: number, GpadlHandle: number, Mdl: Out<GpadlMapping | null>): NtStatus {
  const endpoint = serverEndpoint(Channel);
  const channelId = endpoint?.server.channelId ?? null;
  if (endpoint === null || channelId === null || !endpoint.channel.inOpenWindow) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  if (!hasOnlyFlags(Flags, VMBUS_CHANNEL_GPADL_FLAGS)) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  if (!isU32(GpadlHandle)) return NTSTATUS.STATUS_INVALID_PARAMETER_3;
  if (!isOut(Mdl)) return NTSTATUS.STATUS_INVALID_PARAMETER_4;
  const { server } = endpoint;
  if (server.mappings.has(GpadlHandle)) return NTSTATUS.STATUS_INVALID_DEVICE_STATE;
  const writable = (Flags & VMBUS_CHANNEL_GPADL_FLAG_READ_ONLY) === 0;
  const mapping = server.device.bus.mapGpadl(channelId, GpadlHandle, { writable });
  if (mapping instanceof MemoryError) return mapFailureStatus(mapping);
  server.mappings.set(GpadlHandle, mapping);
  Mdl.value = mapping;
  return NTSTATUS.STATUS_SUCCESS;
}

/**
 * VmbChannelUnmapGpadl: ends the mapping of `GpadlHandle`; if the guest is
 * deleting the GPADL, its delete completes. Decision: C's VOID becomes an
 * NTSTATUS: _1 for a bad handle or a client channel, _2 for a GPADL this
 * channel does not map.
 */
export function VmbChannelUnmapGpadl(Channel: VMBCHANNEL, GpadlHandle: number): NtStatus {
  const endpoint = serverEndpoint(Channel);
  if (endpoint === null) return NTSTATUS.STATUS_INVALID_PARAMETER_1;
  const mapping = isU32(GpadlHandle) ? endpoint.server.mappings.get(GpadlHandle) : undefined;
  if (mapping === undefined) return NTSTATUS.STATUS_INVALID_PARAMETER_2;
  endpoint.server.mappings.delete(GpadlHandle);
  endpoint.server.device.bus.unmapGpadl(mapping);
  return NTSTATUS.STATUS_SUCCESS;
}

/** Unmaps what the driver left mapped when its channel closed. */
export function unmapLeftoverGpadls(server: ServerChannel): void {
  for (const mapping of server.mappings.values()) server.device.bus.unmapGpadl(mapping);
  server.mappings.clear();
}
