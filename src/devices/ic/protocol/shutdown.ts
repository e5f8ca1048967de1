/**
 * Shutdown IC. Body (Linux `include/linux/hyperv.h` shutdown_msg_data; OpenVMM
 * `hyperv_ic_protocol/src/shutdown.rs` ShutdownMessage), 2060 bytes:
 * `{ u32 reasonCode; u32 timeoutSeconds; u32 flags; u8 displayMessage[2048] }`,
 * flags bit 0 force, bit 1 restart, bit 2 hibernate; the message is UTF-16LE,
 * NUL-terminated. The guest decides, answers, and only then acts (Linux
 * `drivers/hv/hv_util.c` shutdown_onchannelcallback sends the response before
 * scheduling the power-off), so the responder RETURNS the action instead of
 * performing it.
 */
import { WireError, wireError } from '../../../wire/wire-error.js';
import { respondToIcRequest, type IcGuestReply } from './guest-responder.js';
import { encodeIcRequest, parseIcStatusResponse, type IcHostService, type IcStatusResult } from './host-session.js';
import { IC_SERVICES } from './ic-services.js';
import { IC_STATUS } from './ic-status.js';
import type { IcVersions } from './negotiation.js';
import { readUtf16UntilNul, writeUtf16Field } from './utf16.js';

export const SHUTDOWN_MESSAGE_FIELD_SIZE = 2048;
export const SHUTDOWN_BODY_SIZE = 12 + SHUTDOWN_MESSAGE_FIELD_SIZE;
const MESSAGE_OFFSET = 12;

export const SHUTDOWN_FLAG = {
  FORCE: 0x1,
  RESTART: 0x2,
  HIBERNATE: 0x4,
} as const;

/** Windows SDK reason "planned", what OpenVMM sends (`SHTDN_REASON_FLAG_PLANNED`). */
export const SHTDN_REASON_FLAG_PLANNED = 0x8000_0000;

export type ShutdownKind = 'power-off' | 'restart' | 'hibernate';

/** A decoded shutdown request, or what the host asks for. */
export interface ShutdownRequest {
  readonly kind: ShutdownKind;
  readonly force: boolean;
  readonly reasonCode: number;
  readonly timeoutSeconds: number;
  readonly message: string;
}

/**
 * The guest's decision: an IC status, `IC_STATUS.HV_S_OK` to accept. A guest
 * that cannot hibernate answers HV_E_FAIL (Linux does, `hv_util.c`).
 */
export type ShutdownDecision = (request: ShutdownRequest) => number;

export interface ShutdownGuestState {
  readonly versions: IcVersions | undefined;
  readonly decide: ShutdownDecision;
}

/** flags → kind: 0/1 power-off, 2/3 restart, 4/5 hibernate, anything else refused (Linux rule). */
function shutdownKind(flags: number): ShutdownKind | undefined {
  switch (flags & ~SHUTDOWN_FLAG.FORCE) {
    case 0:
      return 'power-off';
    case SHUTDOWN_FLAG.RESTART:
      return 'restart';
    case SHUTDOWN_FLAG.HIBERNATE:
      return 'hibernate';
    default:
      return undefined;
  }
}

/**
 * Guest responder. The event, present only when the guest accepted, is the
 * action to take AFTER the response has been sent.
 */
export function respondShutdown(request: Uint8Array, state: ShutdownGuestState): IcGuestReply<ShutdownRequest> | WireError {
  return respondToIcRequest<ShutdownRequest>(request, IC_SERVICES.shutdown, state.versions, (body) => {
    if (body.length < SHUTDOWN_BODY_SIZE) {
      return { status: IC_STATUS.HV_E_FAIL, error: wireError('truncated', `shutdown body of ${body.length} bytes, need ${SHUTDOWN_BODY_SIZE}`) };
    }
    const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const flags = dv.getUint32(8, true);
    const kind = shutdownKind(flags);
    if (kind === undefined) {
      return { status: IC_STATUS.HV_E_FAIL, error: wireError('unknown-flags', `shutdown flags 0x${flags.toString(16)}`) };
    }
    const decoded: ShutdownRequest = {
      kind,
      force: (flags & SHUTDOWN_FLAG.FORCE) !== 0,
      reasonCode: dv.getUint32(0, true),
      timeoutSeconds: dv.getUint32(4, true),
      message: readUtf16UntilNul(body.subarray(MESSAGE_OFFSET, MESSAGE_OFFSET + SHUTDOWN_MESSAGE_FIELD_SIZE)),
    };
    const status = state.decide(decoded) >>> 0;
    return status === IC_STATUS.HV_S_OK ? { status, event: decoded } : { status };
  });
}

/** What the host asks for; reason defaults to planned, timeout to 0, message to empty (OpenVMM's values). */
export interface ShutdownOrder {
  readonly kind: ShutdownKind;
  readonly force: boolean;
  readonly reasonCode?: number;
  readonly timeoutSeconds?: number;
  readonly message?: string;
}

export type ShutdownResult = IcStatusResult;

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;
}

/** Host requester: the 2060-byte body. */
export function encodeShutdownRequest(versions: IcVersions, order: ShutdownOrder): Uint8Array | WireError {
  const reasonCode = order.reasonCode ?? SHTDN_REASON_FLAG_PLANNED;
  const timeoutSeconds = order.timeoutSeconds ?? 0;
  if (!isU32(reasonCode) || !isU32(timeoutSeconds)) return wireError('bad-value', 'shutdown reason and timeout must be u32');
  const body = new Uint8Array(SHUTDOWN_BODY_SIZE);
  const dv = new DataView(body.buffer);
  const kindFlag = { 'power-off': 0, restart: SHUTDOWN_FLAG.RESTART, hibernate: SHUTDOWN_FLAG.HIBERNATE }[order.kind];
  dv.setUint32(0, reasonCode, true);
  dv.setUint32(4, timeoutSeconds, true);
  dv.setUint32(8, kindFlag | (order.force ? SHUTDOWN_FLAG.FORCE : 0), true);
  const written = writeUtf16Field(body.subarray(MESSAGE_OFFSET), order.message ?? '');
  if (written instanceof WireError) return written;
  return encodeIcRequest(IC_SERVICES.shutdown.messageType, versions, body);
}

/** Host side: the guest's status is its answer; the body is not read. */
export function parseShutdownResponse(packet: Uint8Array): ShutdownResult | WireError {
  return parseIcStatusResponse(packet, IC_SERVICES.shutdown.messageType);
}

/** The shutdown service for `IcHostSession`. */
export const SHUTDOWN_HOST: IcHostService<ShutdownOrder, ShutdownResult> = {
  spec: IC_SERVICES.shutdown,
  encodeRequest: encodeShutdownRequest,
  parseResponse: (_order, packet) => parseShutdownResponse(packet),
};
