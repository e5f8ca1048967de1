/**
 * Callback types of the server-only functions, named as in
 * vmbuskernelmodeclientlibapi.h. They run at PASSIVE_LEVEL, synchronously
 * inside the save or restore call that invokes them.
 */
import type { NtStatus } from '../../wire/ntstatus.js';
import type { Out, VMBCHANNEL, VMBPACKET } from '../types.js';

/**
 * EvtVmbChannelSavePacket: saves the VSP's own state of one packet object in
 * use. The first call passes an empty `SaveBuf` (SaveBufSize 0): return
 * success if there is nothing to save, or a failure status with the size in
 * `BytesNeeded`; the second call then passes a buffer of that size.
 */
export type PFN_VMB_CHANNEL_SAVE_PACKET = (
  Channel: VMBCHANNEL,
  Packet: VMBPACKET,
  SaveBuf: Uint8Array,
  SaveBufSize: number,
  BytesNeeded: Out<number>,
) => NtStatus;

/**
 * EvtVmbChannelRestorePacket: restores one saved packet object: allocate a
 * packet (VmbPacketAllocate), pass it `LibBuf` (the KMCL's state) with
 * VmbPacketRestore, and take back the VSP's own state from `SaveBuf`.
 */
export type PFN_VMB_CHANNEL_RESTORE_PACKET = (
  Channel: VMBCHANNEL,
  LibBuf: Uint8Array,
  LibBufSize: number,
  SaveBuf: Uint8Array,
  SaveBufSize: number,
) => NtStatus;

/**
 * The V5 save callback (no DDI page). Decision: the same arguments plus the
 * context value given to VmbServerChannelInitSetSaveRestorePacketCallbacksEx,
 * as the V5 completion routine adds one to the V1 form.
 */
export type PFN_VMB_CHANNEL_SAVE_PACKET_EX = (
  Channel: VMBCHANNEL,
  Packet: VMBPACKET,
  SaveBuf: Uint8Array,
  SaveBufSize: number,
  BytesNeeded: Out<number>,
  CallbackContext: unknown,
) => NtStatus;

/** The V5 restore callback (no DDI page). Decision: the V1 arguments plus the callbacks' context value. */
export type PFN_VMB_CHANNEL_RESTORE_PACKET_EX = (
  Channel: VMBCHANNEL,
  LibBuf: Uint8Array,
  LibBufSize: number,
  SaveBuf: Uint8Array,
  SaveBufSize: number,
  CallbackContext: unknown,
) => NtStatus;
