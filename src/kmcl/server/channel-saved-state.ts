/**
 * The KMCL's saved state of a server channel, as VmbChannelSaveContinue hands
 * it out and VmbChannelRestoreFromBuffer takes it back: a sequence of chunks,
 * each whole and checked on its own (the restore page: buffers hold whole
 * chunks). Chunk 0 is the channel, chunks 1..n-1 one packet object each.
 * The bus's own state of the channel (ids, rings, GPADLs) is saved with the
 * bus (`HostBus.save`); what is here is what only the KMCL knows.
 *
 * Framing: a chunk is `length u32` (of what follows) and a saved-state
 * envelope (the bus's: magic, format version, body length, CRC-32; here
 * magic "KMCH", format 1). Chunk body (little-endian):
 *
 * - `save_id u32, index u32, count u32, kind u8 (1 channel, 2 packet), reserved[3]`
 * - channel: `interface GUID, instance GUID, subchannel_index u16, mmio_mb u16,
 *   mmio_mb_optional u16, reserved u16, server_flags u32, init_flags u32,
 *   target_vtl u8, state u8 (1 offered, 2 open), reserved[2], channel_id u32 (0xFFFFFFFF: none)`
 * - packet: `lib_state` (sized: u32 length, bytes), `vsp_state` (sized)
 *
 * `lib_state` is the packet's KMCL state, handed to EvtVmbChannelRestorePacket
 * as LibBuf and from there to VmbPacketRestore: an envelope of its own (magic
 * "KMPK", format 1) around `state u8 (1 queued, 2 waiting for completion),
 * reserved[3], transaction_id_lo u32, transaction_id_hi u32, packet_type u16,
 * ring_flags u16, header (sized), payload (sized)`. A queued packet (never in
 * the ring) keeps its bytes to be sent after the restore (its transaction id
 * fields are 0); a waiting one only the transaction id the guest will
 * complete (its type, flags and lengths are 0).
 *
 * Saved bytes come from storage the KMCL does not control: decoding never
 * throws, and any problem is a SavedStateError, which the functions turn into
 * STATUS_REVISION_MISMATCH (a format version this code does not read) or
 * STATUS_DATA_ERROR (anything else).
 */
import {
  SavedStateError,
  SavedStateReader,
  SavedStateWriter,
  openSavedState,
  sealSavedState,
  type SavedStateFormat,
} from '../../bus/server/index.js';
import type { Guid } from '../../wire/guid.js';
import { NTSTATUS, type NtStatus } from '../../wire/ntstatus.js';
import { MAX_PACKET_LENGTH, PACKET_KNOWN_FLAGS } from '../../wire/packet-descriptor.js';
import { PACKET_TYPE } from '../../wire/packet-types.js';
import type { RestoredTransactionId } from '../packet/packet.js';

export const CHANNEL_CHUNK_FORMAT: SavedStateFormat = { magic: 'KMCH', version: 1, name: 'KMCL channel saved state' };
export const PACKET_STATE_FORMAT: SavedStateFormat = { magic: 'KMPK', version: 1, name: 'KMCL packet saved state' };

/** Bytes before a chunk's envelope: its length. */
export const CHUNK_LENGTH_SIZE = 4;
/** The VSP's own state of one packet, at most (bounds what a save callback may ask for). */
export const MAXIMUM_PACKET_VSP_STATE = 0x10_0000;
const NO_CHANNEL_ID = 0xffff_ffff;
const CHUNK_KIND_CHANNEL = 1;
const CHUNK_KIND_PACKET = 2;
/** The largest envelope a chunk may hold: a packet chunk with the biggest packet and VSP state. */
const MAXIMUM_CHUNK_SIZE = 0x20_0000;

/** The channel as the KMCL saved it. */
export interface SavedServerChannel {
  readonly interfaceId: Guid;
  readonly instanceId: Guid;
  readonly subchannelIndex: number;
  readonly mmioMegabytes: number;
  readonly mmioMegabytesOptional: number;
  readonly serverFlags: number;
  readonly initFlags: number;
  readonly targetVtl: number;
  /** Offered (enabled, not open) or open. */
  readonly state: 'offered' | 'open';
  /** The id the guest knows the channel by, or null while it does not hold it open. */
  readonly channelId: number | null;
}

/** A packet object's KMCL state. */
export type SavedPacket =
  | {
      readonly state: 'queued';
      readonly packetType: number;
      readonly ringFlags: number;
      readonly header: Uint8Array;
      readonly payload: Uint8Array;
    }
  | { readonly state: 'waiting'; readonly transactionId: RestoredTransactionId };

export type ChunkBody =
  | { readonly kind: 'channel'; readonly channel: SavedServerChannel }
  | { readonly kind: 'packet'; readonly libState: Uint8Array; readonly vspState: Uint8Array };

export interface SavedChunk {
  /** Shared by the chunks of one save. */
  readonly saveId: number;
  readonly index: number;
  readonly count: number;
  readonly body: ChunkBody;
}

/** The status a refused saved state gets. */
export function savedStateStatus(error: SavedStateError): NtStatus {
  return error.code === 'unsupported-format' ? NTSTATUS.STATUS_REVISION_MISMATCH : NTSTATUS.STATUS_DATA_ERROR;
}

/** One chunk, framed: its length, then its envelope. */
export function encodeChunk(chunk: SavedChunk): Uint8Array {
  const out = new SavedStateWriter();
  out.u32(chunk.saveId);
  out.u32(chunk.index);
  out.u32(chunk.count);
  const body = chunk.body;
  out.u8(body.kind === 'channel' ? CHUNK_KIND_CHANNEL : CHUNK_KIND_PACKET);
  out.reserved(3);
  if (body.kind === 'channel') writeChannel(out, body.channel);
  else {
    out.sizedBytes(body.libState);
    out.sizedBytes(body.vspState);
  }
  const sealed = sealSavedState(CHANNEL_CHUNK_FORMAT, out.finish());
  const framed = new Uint8Array(CHUNK_LENGTH_SIZE + sealed.length);
  new DataView(framed.buffer).setUint32(0, sealed.length, true);
  framed.set(sealed, CHUNK_LENGTH_SIZE);
  return framed;
}

/**
 * The chunk at the start of `bytes` and the bytes it takes, or why it is
 * refused (a chunk cut short included: buffers must hold whole chunks).
 */
export function decodeChunk(bytes: Uint8Array): { readonly chunk: SavedChunk; readonly size: number } | SavedStateError {
  const name = CHANNEL_CHUNK_FORMAT.name;
  if (bytes.length < CHUNK_LENGTH_SIZE) return new SavedStateError('truncated', `${name}: ${bytes.length} bytes, no chunk length`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (length > MAXIMUM_CHUNK_SIZE) return new SavedStateError('bad-value', `${name}: a chunk of ${length} bytes, at most ${MAXIMUM_CHUNK_SIZE}`);
  if (bytes.length - CHUNK_LENGTH_SIZE < length) {
    return new SavedStateError('truncated', `${name}: the chunk has ${bytes.length - CHUNK_LENGTH_SIZE} of its ${length} bytes`);
  }
  const body = openSavedState(CHANNEL_CHUNK_FORMAT, bytes.subarray(CHUNK_LENGTH_SIZE, CHUNK_LENGTH_SIZE + length));
  if (body instanceof SavedStateError) return body;
  const reader = new SavedStateReader(body, name);
  const saveId = reader.u32();
  const index = reader.u32();
  const count = reader.u32();
  const kind = reader.u8();
  reader.reserved(3, 'the chunk header');
  if (!reader.failed && (count === 0 || index >= count)) reader.fail('bad-value', `chunk ${index} of ${count}`);
  let chunkBody: ChunkBody;
  if (kind === CHUNK_KIND_CHANNEL) {
    if (index !== 0) reader.fail('inconsistent', `a channel record in chunk ${index}; it is chunk 0`);
    chunkBody = { kind: 'channel', channel: readChannel(reader) };
  } else if (kind === CHUNK_KIND_PACKET) {
    if (index === 0) reader.fail('inconsistent', 'a packet record in chunk 0, which holds the channel');
    const libState = reader.sizedBytes(MAXIMUM_CHUNK_SIZE, 'the KMCL packet state');
    const vspState = reader.sizedBytes(MAXIMUM_PACKET_VSP_STATE, 'the VSP packet state');
    chunkBody = { kind: 'packet', libState, vspState };
  } else {
    reader.fail('bad-value', `chunk kind ${kind} (1 channel, 2 packet)`);
    chunkBody = { kind: 'packet', libState: new Uint8Array(0), vspState: new Uint8Array(0) };
  }
  const problem = reader.finish();
  if (problem !== undefined) return problem;
  return { chunk: { saveId, index, count, body: chunkBody }, size: CHUNK_LENGTH_SIZE + length };
}

function writeChannel(out: SavedStateWriter, channel: SavedServerChannel): void {
  out.guid(channel.interfaceId);
  out.guid(channel.instanceId);
  out.u16(channel.subchannelIndex);
  out.u16(channel.mmioMegabytes);
  out.u16(channel.mmioMegabytesOptional);
  out.reserved(2);
  out.u32(channel.serverFlags);
  out.u32(channel.initFlags);
  out.u8(channel.targetVtl);
  out.u8(channel.state === 'offered' ? 1 : 2);
  out.reserved(2);
  out.u32(channel.channelId ?? NO_CHANNEL_ID);
}

function readChannel(reader: SavedStateReader): SavedServerChannel {
  const interfaceId = reader.guid();
  const instanceId = reader.guid();
  const subchannelIndex = reader.u16();
  const mmioMegabytes = reader.u16();
  const mmioMegabytesOptional = reader.u16();
  reader.reserved(2, 'the channel record');
  const serverFlags = reader.u32();
  const initFlags = reader.u32();
  const targetVtl = reader.u8();
  const state = reader.u8();
  reader.reserved(2, 'the channel record');
  const channelId = reader.u32();
  if (state !== 1 && state !== 2) reader.fail('bad-value', `channel state ${state} (1 offered, 2 open)`);
  if (state === 2 && channelId === NO_CHANNEL_ID) reader.fail('inconsistent', 'an open channel without a channel id');
  return {
    interfaceId,
    instanceId,
    subchannelIndex,
    mmioMegabytes,
    mmioMegabytesOptional,
    serverFlags,
    initFlags,
    targetVtl,
    state: state === 2 ? 'open' : 'offered',
    channelId: channelId === NO_CHANNEL_ID ? null : channelId,
  };
}

/** A packet's KMCL state as the LibBuf of the restore callback. */
export function encodePacketState(packet: SavedPacket): Uint8Array {
  const out = new SavedStateWriter();
  out.u8(packet.state === 'queued' ? 1 : 2);
  out.reserved(3);
  if (packet.state === 'queued') {
    out.u32(0);
    out.u32(0);
    out.u16(packet.packetType);
    out.u16(packet.ringFlags);
    out.sizedBytes(packet.header);
    out.sizedBytes(packet.payload);
  } else {
    out.u32(packet.transactionId.lo);
    out.u32(packet.transactionId.hi);
    out.u16(0);
    out.u16(0);
    out.u32(0);
    out.u32(0);
  }
  return sealSavedState(PACKET_STATE_FORMAT, out.finish());
}

/**
 * A LibBuf's packet state, or why it is refused: a queued packet is in-band
 * or GPA-direct (with a header) and fits a packet descriptor; a waiting one
 * carries no bytes.
 */
export function decodePacketState(bytes: Uint8Array): SavedPacket | SavedStateError {
  const body = openSavedState(PACKET_STATE_FORMAT, bytes);
  if (body instanceof SavedStateError) return body;
  const reader = new SavedStateReader(body, PACKET_STATE_FORMAT.name);
  const state = reader.u8();
  reader.reserved(3, 'the packet record');
  const lo = reader.u32();
  const hi = reader.u32();
  const packetType = reader.u16();
  const ringFlags = reader.u16();
  const header = reader.sizedBytes(MAX_PACKET_LENGTH, 'the packet header');
  const payload = reader.sizedBytes(MAX_PACKET_LENGTH, 'the packet payload');
  let packet: SavedPacket = { state: 'waiting', transactionId: { lo, hi } };
  if (state === 1) {
    if (packetType !== PACKET_TYPE.VM_PKT_DATA_INBAND && packetType !== PACKET_TYPE.VM_PKT_DATA_USING_GPA_DIRECT) {
      reader.fail('bad-value', `packet type ${packetType} is not one the KMCL sends (in-band 6, GPA-direct 9)`);
    }
    if ((ringFlags & ~PACKET_KNOWN_FLAGS) !== 0) reader.fail('bad-value', `packet flags 0x${ringFlags.toString(16)}`);
    if (lo !== 0 || hi !== 0) reader.fail('inconsistent', 'a queued packet with a transaction id');
    if ((packetType === PACKET_TYPE.VM_PKT_DATA_INBAND) !== (header.length === 0)) {
      reader.fail('inconsistent', `a type ${packetType} packet with a ${header.length}-byte header`);
    }
    if (header.length % 8 !== 0) reader.fail('bad-value', `a ${header.length}-byte header is not a multiple of 8`);
    packet = { state: 'queued', packetType, ringFlags, header, payload };
  } else if (state === 2) {
    if (packetType !== 0 || ringFlags !== 0 || header.length !== 0 || payload.length !== 0) {
      reader.fail('inconsistent', 'a packet waiting for its completion with bytes to send');
    }
  } else {
    reader.fail('bad-value', `packet state ${state} (1 queued, 2 waiting for completion)`);
  }
  return reader.finish() ?? packet;
}
