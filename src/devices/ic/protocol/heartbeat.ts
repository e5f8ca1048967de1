/**
 * Heartbeat IC. Body (OpenVMM `hyperv_ic_protocol/src/heartbeat.rs`):
 * `{ u64 sequenceNumber; u32 applicationState; u8 reserved[4] }` = 16 bytes.
 * The host sends a sequence number; the guest adds one IN PLACE and answers
 * (Linux `drivers/hv/hv_util.c` heartbeat_onchannelcallback, which requires
 * only the 8 sequence bytes and writes nothing else). This guest also reports
 * its application state when the body has room for it.
 */
import { WireError, wireError } from '../../../wire/wire-error.js';
import { respondToIcRequest, type IcGuestReply } from './guest-responder.js';
import { decodeIcResponse, encodeIcRequest, type IcHostService } from './host-session.js';
import { IC_SERVICES } from './ic-services.js';
import { IC_STATUS } from './ic-status.js';
import type { IcVersions } from './negotiation.js';

/** Body size the host sends. */
export const HEARTBEAT_BODY_SIZE = 16;
/** Body bytes a guest needs: the sequence number only (Linux, ICMSG_HDR + 8). */
export const HEARTBEAT_MIN_BODY_SIZE = 8;
const APPLICATION_STATE_OFFSET = 8;

/** Guest application state (OpenVMM `ApplicationState`). */
export const HEARTBEAT_APPLICATION_STATE = {
  UNKNOWN: 0,
  HEALTHY: 1,
  CRITICAL: 2,
  STOPPED: 3,
} as const;
export type HeartbeatApplicationState = (typeof HEARTBEAT_APPLICATION_STATE)[keyof typeof HEARTBEAT_APPLICATION_STATE];

const U64_MASK = 0xffff_ffff_ffff_ffffn;

/** What the guest side keeps for its heartbeat channel. */
export interface HeartbeatGuestState {
  readonly versions: IcVersions | undefined;
  readonly applicationState: HeartbeatApplicationState;
}

/** Emitted for each answered heartbeat: the sequence number sent back. */
export interface HeartbeatBeat {
  readonly sequenceNumber: bigint;
}

/** Guest responder: increments the sequence number in place (wrapping at 2^64). */
export function respondHeartbeat(request: Uint8Array, state: HeartbeatGuestState): IcGuestReply<HeartbeatBeat> | WireError {
  return respondToIcRequest<HeartbeatBeat>(request, IC_SERVICES.heartbeat, state.versions, (body) => {
    if (body.length < HEARTBEAT_MIN_BODY_SIZE) {
      return { status: IC_STATUS.HV_E_FAIL, error: wireError('truncated', `heartbeat body of ${body.length} bytes has no sequence number`) };
    }
    const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const sequenceNumber = (dv.getBigUint64(0, true) + 1n) & U64_MASK;
    dv.setBigUint64(0, sequenceNumber, true);
    if (body.length >= APPLICATION_STATE_OFFSET + 4) dv.setUint32(APPLICATION_STATE_OFFSET, state.applicationState, true);
    return { status: IC_STATUS.HV_S_OK, event: { sequenceNumber } };
  });
}

/** The host's heartbeat request: the sequence number it expects back plus one. */
export interface HeartbeatRequest {
  readonly sequenceNumber: bigint;
}

export type HeartbeatResult =
  | { readonly ok: true; readonly sequenceNumber: bigint; readonly applicationState: HeartbeatApplicationState }
  | { readonly ok: false; readonly status: number };

/** Host requester: a 16-byte body with the sequence number and state 0. */
export function encodeHeartbeatRequest(versions: IcVersions, request: HeartbeatRequest): Uint8Array | WireError {
  if (request.sequenceNumber < 0n || request.sequenceNumber > U64_MASK) {
    return wireError('bad-value', 'heartbeat sequence number must be a u64');
  }
  const body = new Uint8Array(HEARTBEAT_BODY_SIZE);
  new DataView(body.buffer).setBigUint64(0, request.sequenceNumber, true);
  return encodeIcRequest(IC_SERVICES.heartbeat.messageType, versions, body);
}

/**
 * Host side: a successful answer must carry the sent sequence number plus one
 * and, when present, a known application state (absent means UNKNOWN).
 */
export function parseHeartbeatResponse(request: HeartbeatRequest, packet: Uint8Array): HeartbeatResult | WireError {
  const decoded = decodeIcResponse(packet, IC_SERVICES.heartbeat.messageType);
  if (decoded instanceof WireError) return decoded;
  const { header, body } = decoded;
  if (header.status !== IC_STATUS.HV_S_OK) return { ok: false, status: header.status };
  if (body.length < HEARTBEAT_MIN_BODY_SIZE) return wireError('truncated', `heartbeat response body of ${body.length} bytes`);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const sequenceNumber = dv.getBigUint64(0, true);
  const expected = (request.sequenceNumber + 1n) & U64_MASK;
  if (sequenceNumber !== expected) {
    return wireError('bad-value', `heartbeat answered sequence ${sequenceNumber}, expected ${expected}`);
  }
  const state = body.length >= APPLICATION_STATE_OFFSET + 4 ? dv.getUint32(APPLICATION_STATE_OFFSET, true) : 0;
  if (state > HEARTBEAT_APPLICATION_STATE.STOPPED) return wireError('bad-value', `unknown heartbeat application state ${state}`);
  return { ok: true, sequenceNumber, applicationState: state as HeartbeatApplicationState };
}

/** The heartbeat service for `IcHostSession`. */
export const HEARTBEAT_HOST: IcHostService<HeartbeatRequest, HeartbeatResult> = {
  spec: IC_SERVICES.heartbeat,
  encodeRequest: encodeHeartbeatRequest,
  parseResponse: parseHeartbeatResponse,
};
