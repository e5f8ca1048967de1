/**
 * Framing of every integration-component message, as it sits in the payload
 * of an in-band VMBus packet:
 *
 * ```
 * pipe header (8)  u32 packetType (1 = DATA), u32 len (bytes that follow)
 * IC header   (20) framework version, message type, message version,
 *                  message size (body bytes), status HRESULT, transaction id, flags
 * body             message-specific, `messageSize` bytes
 * ```
 *
 * Sources: Linux `include/linux/hyperv.h` (`vmbuspipe_hdr`, `icmsg_hdr`,
 * ICMSG_HDR = 28), OpenVMM `vmbus_ring/src/lib.rs` (`PipeHeader`) and
 * `hyperv_ic_protocol/src/lib.rs` (`Header`, `MessageType`, `HeaderFlags`).
 * Decoders return a `WireError` and never read past the bytes they were given.
 */
import { WireError, wireError } from '../../../wire/wire-error.js';

/** A protocol version: framework or message (service) version. */
export interface IcVersion {
  readonly major: number;
  readonly minor: number;
}

/** `3.0`-style text for logs and errors. */
export function formatIcVersion(v: IcVersion): string {
  return `${v.major}.${v.minor}`;
}

export function sameIcVersion(a: IcVersion, b: IcVersion): boolean {
  return a.major === b.major && a.minor === b.minor;
}

/** The pipe header that prefixes each message on a message-mode pipe channel. */
export const PIPE_HEADER_SIZE = 8;

/** Pipe packet types (OpenVMM `vmbus_ring` `PIPE_PACKET_TYPE_*`); IC traffic uses DATA only. */
export const PIPE_PACKET_TYPE = {
  DATA: 1,
  PARTIAL: 2,
  SETUP_GPA_DIRECT: 3,
  TEARDOWN_GPA_DIRECT: 4,
} as const;

export const IC_HEADER_SIZE = 20;
/** Offset of the IC header in a packet: right after the pipe header. */
export const IC_HEADER_OFFSET = PIPE_HEADER_SIZE;
/** Offset of the body in a packet (Linux ICMSG_HDR). */
export const IC_BODY_OFFSET = PIPE_HEADER_SIZE + IC_HEADER_SIZE;
/** Largest IC header + body either side accepts (OpenVMM `MAX_MESSAGE_SIZE`, its receive buffer). */
export const IC_MAX_MESSAGE_SIZE = 13312;

/**
 * IC message types (`icmsgtype`). 0-5 agree in Linux and OpenVMM; 6-8 are
 * OpenVMM's names (Linux calls 7 FCOPY: the same file-copy service).
 */
export const IC_MESSAGE_TYPE = {
  NEGOTIATE: 0,
  HEARTBEAT: 1,
  KVP_EXCHANGE: 2,
  SHUTDOWN: 3,
  TIME_SYNC: 4,
  VSS: 5,
  RDV: 6,
  GUEST_INTERFACE: 7,
  VM_SESSION: 8,
} as const;
export type IcMessageType = (typeof IC_MESSAGE_TYPE)[keyof typeof IC_MESSAGE_TYPE];

const MESSAGE_TYPE_NAMES = new Map<number, string>(
  Object.entries(IC_MESSAGE_TYPE).map(([name, value]) => [value, name]),
);

export function isIcMessageType(value: number): value is IcMessageType {
  return MESSAGE_TYPE_NAMES.has(value);
}

export function icMessageTypeName(value: number): string {
  return MESSAGE_TYPE_NAMES.get(value) ?? `type ${value}`;
}

/** Header flag bits (`icflags`); bits 3-7 are reserved and must be zero. */
export const IC_FLAG = {
  TRANSACTION: 0x1,
  REQUEST: 0x2,
  RESPONSE: 0x4,
} as const;
const IC_FLAGS_DEFINED = 0x7;

/** What the host sends: TRANSACTION | REQUEST. */
export const IC_REQUEST_FLAGS = IC_FLAG.TRANSACTION | IC_FLAG.REQUEST;
/** What the guest answers: TRANSACTION | RESPONSE. */
export const IC_RESPONSE_FLAGS = IC_FLAG.TRANSACTION | IC_FLAG.RESPONSE;

export interface IcHeader {
  readonly frameworkVersion: IcVersion;
  readonly messageType: IcMessageType;
  readonly messageVersion: IcVersion;
  /** Body bytes that follow the header (`icmsgsize`). */
  readonly messageSize: number;
  /** HRESULT; see `IC_STATUS`. */
  readonly status: number;
  readonly transactionId: number;
  readonly flags: number;
}

/** A decoded packet: the header and a view of exactly `messageSize` body bytes. */
export interface IcPacket {
  readonly header: IcHeader;
  readonly body: Uint8Array;
}

/** Which side sent the packet being decoded, so the flag rules can be checked. */
export type IcDirection = 'request' | 'response';

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function isU16(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff;
}

/**
 * Builds a packet: pipe header (DATA, 20 + body length), IC header with
 * `messageSize = body.length`, then the body. Returns a WireError for field
 * values outside their wire range or a message larger than IC_MAX_MESSAGE_SIZE.
 */
export function encodeIcPacket(header: Omit<IcHeader, 'messageSize'>, body: Uint8Array): Uint8Array | WireError {
  if (IC_HEADER_SIZE + body.length > IC_MAX_MESSAGE_SIZE) {
    return wireError('oversized', `IC message of ${IC_HEADER_SIZE + body.length} bytes exceeds ${IC_MAX_MESSAGE_SIZE}`);
  }
  const { frameworkVersion: fw, messageVersion: mv } = header;
  if (![fw.major, fw.minor, mv.major, mv.minor].every(isU16)) {
    return wireError('bad-value', 'IC versions must be u16.u16');
  }
  if (!isIcMessageType(header.messageType)) return wireError('unknown-type', `unknown IC message type ${header.messageType}`);
  if (!Number.isInteger(header.status) || header.status < 0 || header.status > 0xffff_ffff) {
    return wireError('bad-value', 'IC status must be a u32');
  }
  if (!Number.isInteger(header.transactionId) || header.transactionId < 0 || header.transactionId > 0xff) {
    return wireError('bad-value', 'IC transaction id must be a u8');
  }
  if (!Number.isInteger(header.flags) || header.flags < 0 || (header.flags & ~IC_FLAGS_DEFINED) !== 0) {
    return wireError('unknown-flags', `IC flags 0x${header.flags.toString(16)} outside 0x7`);
  }
  const out = new Uint8Array(IC_BODY_OFFSET + body.length);
  const dv = view(out);
  dv.setUint32(0, PIPE_PACKET_TYPE.DATA, true);
  dv.setUint32(4, IC_HEADER_SIZE + body.length, true);
  dv.setUint16(8, fw.major, true);
  dv.setUint16(10, fw.minor, true);
  dv.setUint16(12, header.messageType, true);
  dv.setUint16(14, mv.major, true);
  dv.setUint16(16, mv.minor, true);
  dv.setUint16(18, body.length, true);
  dv.setUint32(20, header.status, true);
  dv.setUint8(24, header.transactionId);
  dv.setUint8(25, header.flags);
  out.set(body, IC_BODY_OFFSET);
  return out;
}

/**
 * The number of bytes after the IC header that belong to this pipe message:
 * `pipe len - 20`, clipped to the bytes actually present. A guest answering in
 * place may write its reply there and nowhere else.
 */
export function icBodyRoom(packet: Uint8Array): number {
  if (packet.length < IC_BODY_OFFSET) return 0;
  const pipeLen = view(packet).getUint32(4, true);
  const end = Math.min(packet.length, PIPE_HEADER_SIZE + pipeLen);
  return Math.max(0, end - IC_BODY_OFFSET);
}

/**
 * Decodes and validates a packet. Rules:
 * - pipe header present, type DATA, `len` no larger than the bytes present
 *   (trailing bytes are VMBus padding and are ignored), IC header inside `len`,
 *   `len` ≤ IC_MAX_MESSAGE_SIZE;
 * - known message type, no reserved flag bits;
 * - a request carries REQUEST and TRANSACTION and not RESPONSE; a response
 *   carries RESPONSE and TRANSACTION and not REQUEST, and transaction id 0
 *   (the only id a host issues: OpenVMM `hyperv_ic/src/common.rs` read_message);
 * - `messageSize` body bytes fit inside `len`.
 */
export function decodeIcPacket(packet: Uint8Array, direction: IcDirection): IcPacket | WireError {
  if (packet.length < PIPE_HEADER_SIZE) {
    return wireError('truncated', `${packet.length} bytes: no room for the 8-byte pipe header`);
  }
  const dv = view(packet);
  const pipeType = dv.getUint32(0, true);
  if (pipeType !== PIPE_PACKET_TYPE.DATA) return wireError('unknown-type', `pipe packet type ${pipeType} is not DATA (1)`);
  const pipeLen = dv.getUint32(4, true);
  if (pipeLen > packet.length - PIPE_HEADER_SIZE) {
    return wireError('truncated', `pipe header claims ${pipeLen} bytes, ${packet.length - PIPE_HEADER_SIZE} follow`);
  }
  if (pipeLen > IC_MAX_MESSAGE_SIZE) return wireError('oversized', `IC message of ${pipeLen} bytes exceeds ${IC_MAX_MESSAGE_SIZE}`);
  if (pipeLen < IC_HEADER_SIZE) return wireError('truncated', `pipe message of ${pipeLen} bytes has no room for the IC header`);

  const messageType = dv.getUint16(12, true);
  if (!isIcMessageType(messageType)) return wireError('unknown-type', `unknown IC message type ${messageType}`);
  const flags = dv.getUint8(25);
  if ((flags & ~IC_FLAGS_DEFINED) !== 0) return wireError('unknown-flags', `IC flags 0x${flags.toString(16)} set reserved bits`);
  const transactionId = dv.getUint8(24);
  const flagError = checkDirection(flags, transactionId, direction);
  if (flagError !== undefined) return flagError;
  const messageSize = dv.getUint16(18, true);
  if (IC_HEADER_SIZE + messageSize > pipeLen) {
    return wireError('truncated', `IC message size ${messageSize} overruns the ${pipeLen - IC_HEADER_SIZE} body bytes sent`);
  }
  return {
    header: {
      frameworkVersion: { major: dv.getUint16(8, true), minor: dv.getUint16(10, true) },
      messageType,
      messageVersion: { major: dv.getUint16(14, true), minor: dv.getUint16(16, true) },
      messageSize,
      status: dv.getUint32(20, true),
      transactionId,
      flags,
    },
    body: packet.subarray(IC_BODY_OFFSET, IC_BODY_OFFSET + messageSize),
  };
}

function checkDirection(flags: number, transactionId: number, direction: IcDirection): WireError | undefined {
  const want = direction === 'request' ? IC_FLAG.REQUEST : IC_FLAG.RESPONSE;
  const forbid = direction === 'request' ? IC_FLAG.RESPONSE : IC_FLAG.REQUEST;
  if ((flags & IC_FLAG.TRANSACTION) === 0 || (flags & want) === 0 || (flags & forbid) !== 0) {
    return wireError('bad-value', `IC flags 0x${flags.toString(16)} are not a ${direction} (want 0x${(IC_FLAG.TRANSACTION | want).toString(16)})`);
  }
  if (direction === 'response' && transactionId !== 0) {
    return wireError('bad-value', `IC response carries transaction id ${transactionId}; requests are sent with 0`);
  }
  return undefined;
}

/** Offsets of the header fields a guest rewrites when it answers in place. */
export const IC_HEADER_FIELD = {
  MESSAGE_SIZE: IC_HEADER_OFFSET + 10,
  STATUS: IC_HEADER_OFFSET + 12,
  FLAGS: IC_HEADER_OFFSET + 17,
} as const;
