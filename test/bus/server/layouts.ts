/**
 * Host→guest messages built by hand from the layout tables, independent of the
 * wire layer's table and encoder, for exact-bytes expectations. Offsets include
 * the 8-byte header `message_type u32 @0, padding u32 @4`
 * (openvmm-vmbus.md §6.5-6.9; linux-vmbus.md §A.3.3).
 */
import { writeGuid } from '../../../src/wire/guid.js';

function message(type: number, size: number, fill: (view: DataView, bytes: Uint8Array) => void): Uint8Array {
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, type, true);
  fill(view, bytes);
  return bytes;
}

/** OFFER_CHANNEL (1), 196 bytes (openvmm-vmbus.md §6.6; protocol.rs:489-509). */
export function offerBytes(o: {
  interfaceId: string;
  instanceId: string;
  flags?: number;
  mmioMegabytes?: number;
  userDefined?: Uint8Array;
  subchannelIndex?: number;
  mmioMegabytesOptional?: number;
  channelId: number;
  monitorId?: number;
  monitorAllocated?: number;
  connectionId: number;
}): Uint8Array {
  return message(1, 196, (v, b) => {
    writeGuid(b, 8, o.interfaceId); // @8 interface_id
    writeGuid(b, 24, o.instanceId); // @24 instance_id; @40 rsvd [u32; 4]
    v.setUint16(56, o.flags ?? 0, true); // @56 flags
    v.setUint16(58, o.mmioMegabytes ?? 0, true); // @58 mmio_megabytes
    if (o.userDefined !== undefined) b.set(o.userDefined, 60); // @60 user_defined [120]
    v.setUint16(180, o.subchannelIndex ?? 0, true); // @180 subchannel_index
    v.setUint16(182, o.mmioMegabytesOptional ?? 0, true); // @182 mmio_megabytes_optional
    v.setUint32(184, o.channelId, true); // @184 channel_id
    v.setUint8(188, o.monitorId ?? 0xff); // @188 monitor_id, 0xFF = none
    v.setUint8(189, o.monitorAllocated ?? 0); // @189 monitor_allocated
    v.setUint16(190, 1, true); // @190 is_dedicated, always 1 (channels.rs:4016)
    v.setUint32(192, o.connectionId, true); // @192 connection_id
  });
}

/** RESCIND_CHANNEL_OFFER (2), 12 bytes: channel_id @8 (openvmm-vmbus.md §6.9). */
export const rescindBytes = (channelId: number): Uint8Array => message(2, 12, (v) => v.setUint32(8, channelId, true));

/** ALL_OFFERS_DELIVERED (4): header only, 8 bytes. */
export const allOffersDeliveredBytes = (): Uint8Array => message(4, 8, () => {});

/** OPEN_CHANNEL_RESULT (6), 20 bytes: channel_id @8, open_id @12, status @16 (openvmm-vmbus.md §6.7). */
export const openResultBytes = (channelId: number, openId: number, status: number): Uint8Array =>
  message(6, 20, (v) => {
    v.setUint32(8, channelId, true);
    v.setUint32(12, openId, true);
    v.setUint32(16, status, true);
  });

/** GPADL_CREATED (10), 20 bytes: channel_id @8, gpadl_id @12, status @16 (openvmm-vmbus.md §6.5). */
export const gpadlCreatedBytes = (channelId: number, gpadlId: number, status: number): Uint8Array =>
  message(10, 20, (v) => {
    v.setUint32(8, channelId, true);
    v.setUint32(12, gpadlId, true);
    v.setUint32(16, status, true);
  });

/** GPADL_TORNDOWN (12), 12 bytes: gpadl_id @8 (openvmm-vmbus.md §6.5). */
export const gpadlTorndownBytes = (gpadlId: number): Uint8Array => message(12, 12, (v) => v.setUint32(8, gpadlId, true));

/**
 * VERSION_RESPONSE (15): 16 bytes `version_supported u8 @8, connection_state u8 @9,
 * padding u16 @10, selected_version_or_connection_id u32 @12`; VersionResponse2 (20)
 * adds `supported_features u32 @16`; VersionResponse3 (40) adds padding @20 and the
 * monitor page GPAs @24 and @32 (openvmm-vmbus.md §6.8; protocol.rs:345-375).
 */
export function versionResponseBytes(r: {
  supported: number;
  state?: number;
  selected: number;
  features?: number;
  monitorPages?: { parentToChild: bigint; childToParent: bigint };
}): Uint8Array {
  const size = r.monitorPages !== undefined ? 40 : r.features !== undefined ? 20 : 16;
  return message(15, size, (v) => {
    v.setUint8(8, r.supported);
    v.setUint8(9, r.state ?? 0);
    v.setUint32(12, r.selected, true);
    if (r.features !== undefined) v.setUint32(16, r.features, true);
    if (r.monitorPages !== undefined) {
      v.setBigUint64(24, r.monitorPages.parentToChild, true);
      v.setBigUint64(32, r.monitorPages.childToParent, true);
    }
  });
}

/** UNLOAD_COMPLETE (17): header only. */
export const unloadCompleteBytes = (): Uint8Array => message(17, 8, () => {});

/** TL_CONNECT_REQUEST_RESULT (23), 44 bytes: endpoint_id @8, service_id @24, status @40 (openvmm-vmbus.md §6.9). */
export const tlConnectResultBytes = (endpointId: string, serviceId: string, status: number): Uint8Array =>
  message(23, 44, (v, b) => {
    writeGuid(b, 8, endpointId);
    writeGuid(b, 24, serviceId);
    v.setUint32(40, status, true);
  });

/** MODIFY_CHANNEL_RESPONSE (24), 16 bytes: channel_id @8, status @12 (openvmm-vmbus.md §6.9). */
export const modifyChannelResponseBytes = (channelId: number, status: number): Uint8Array =>
  message(24, 16, (v) => {
    v.setUint32(8, channelId, true);
    v.setUint32(12, status, true);
  });

/** MODIFY_CONNECTION_RESPONSE (26), 9 bytes: connection_state u8 @8 (openvmm-vmbus.md §6.9). */
export const modifyConnectionResponseBytes = (state: number): Uint8Array => message(26, 9, (v) => v.setUint8(8, state));

/** PAUSE_RESPONSE (28): header only. */
export const pauseResponseBytes = (): Uint8Array => message(28, 8, () => {});
