/**
 * KVP (key-value pair exchange) message layouts. A KVP body is
 *
 * ```
 * @0 u8 operation, u8 pool, u16 pad            (Linux hv_kvp_hdr)
 * @4 GET / SET:   value record                    2572 bytes
 *    DELETE:      u32 keySize, u8 key[512]        516 bytes
 *    ENUMERATE:   u32 index, value record         2576 bytes
 * value record: u32 valueType, u32 keySize, u32 valueSize, u8 key[512], u8 value[2048]
 * ```
 *
 * Sources: Linux `include/uapi/linux/hyperv.h` (hv_kvp_hdr,
 * hv_kvp_exchg_msg_value, hv_kvp_msg_*), OpenVMM
 * `hyperv_ic_protocol/src/kvp.rs` (the same records behind a 2-byte header,
 * aligned to offset 4). Keys and string values are UTF-16LE and their sizes
 * count bytes including the NUL.
 */
import { WireError, wireError } from '../../../wire/wire-error.js';
import { readUtf16Sized, writeUtf16Field } from './utf16.js';

export const KVP_OPERATION = {
  GET: 0,
  SET: 1,
  DELETE: 2,
  ENUMERATE: 3,
  GET_IP_INFO: 4,
  SET_IP_INFO: 5,
} as const;

/** Pools; AUTO_INTERNAL is the guest's own and never exchanged (OpenVMM kvp.rs). */
export const KVP_POOL = {
  EXTERNAL: 0,
  GUEST: 1,
  AUTO: 2,
  AUTO_EXTERNAL: 3,
  AUTO_INTERNAL: 4,
} as const;
/** A pool that may appear on the wire. */
export type KvpPool = 0 | 1 | 2 | 3;

/** Value types (Windows registry types). Linux writes REG_U64 as 8, Windows/OpenVMM as 11; both read as u64. */
export const KVP_VALUE_TYPE = {
  REG_SZ: 1,
  REG_EXPAND_SZ: 2,
  REG_U32: 4,
  REG_U64_LINUX: 8,
  REG_QWORD: 11,
} as const;

export const KVP_MAX_KEY_SIZE = 512;
export const KVP_MAX_VALUE_SIZE = 2048;
export const KVP_HEADER_SIZE = 4;
export const KVP_RECORD_SIZE = 12 + KVP_MAX_KEY_SIZE + KVP_MAX_VALUE_SIZE;
/** Minimum body per operation: header + the operation's payload. */
export const KVP_BODY_SIZE = {
  get: KVP_HEADER_SIZE + KVP_RECORD_SIZE,
  set: KVP_HEADER_SIZE + KVP_RECORD_SIZE,
  delete: KVP_HEADER_SIZE + 4 + KVP_MAX_KEY_SIZE,
  enumerate: KVP_HEADER_SIZE + 4 + KVP_RECORD_SIZE,
} as const;
/** What the host sends for every operation: OpenVMM `KvpMessage` = 2-byte header + 2578 data. */
export const KVP_MESSAGE_SIZE = 2580;

const RECORD = { VALUE_TYPE: 0, KEY_SIZE: 4, VALUE_SIZE: 8, KEY: 12, VALUE: 12 + KVP_MAX_KEY_SIZE } as const;

export type KvpValue =
  | { readonly type: 'string'; readonly text: string }
  | { readonly type: 'expand-string'; readonly text: string }
  | { readonly type: 'u32'; readonly value: number }
  | { readonly type: 'u64'; readonly value: bigint };

export interface KvpEntry {
  readonly key: string;
  readonly value: KvpValue;
}

export type KvpRequest =
  | { readonly op: 'get'; readonly pool: KvpPool; readonly key: string }
  | { readonly op: 'set'; readonly pool: KvpPool; readonly key: string; readonly value: KvpValue }
  | { readonly op: 'delete'; readonly pool: KvpPool; readonly key: string }
  | { readonly op: 'enumerate'; readonly pool: KvpPool; readonly index: number };

/** An IP-info operation: recognised on the wire, carried by its own (larger) layout. */
export interface KvpIpInfoRequest {
  readonly op: 'ip-info';
  readonly operation: typeof KVP_OPERATION.GET_IP_INFO | typeof KVP_OPERATION.SET_IP_INFO;
  readonly pool: KvpPool;
}

const OP_CODES = {
  get: KVP_OPERATION.GET,
  set: KVP_OPERATION.SET,
  delete: KVP_OPERATION.DELETE,
  enumerate: KVP_OPERATION.ENUMERATE,
} as const;

/** The wire operation code of a request. */
export function kvpOperationCode(op: KvpRequest['op']): number {
  return OP_CODES[op];
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The value record inside a GET/SET or ENUMERATE body. */
export function kvpRecordOf(body: Uint8Array, op: KvpRequest['op']): Uint8Array {
  const at = op === 'enumerate' ? KVP_HEADER_SIZE + 4 : KVP_HEADER_SIZE;
  return body.subarray(at, at + KVP_RECORD_SIZE);
}

/** Writes a key into a record (size + UTF-16LE + NUL). */
export function writeKvpKey(record: Uint8Array, key: string): WireError | undefined {
  const size = writeUtf16Field(record.subarray(RECORD.KEY, RECORD.KEY + KVP_MAX_KEY_SIZE), key);
  if (size instanceof WireError) return size;
  view(record).setUint32(RECORD.KEY_SIZE, size, true);
  return undefined;
}

/** Writes type, size and bytes of a value into a record; u64 is written as REG_QWORD (11). */
export function writeKvpValue(record: Uint8Array, value: KvpValue): WireError | undefined {
  const dv = view(record);
  const field = record.subarray(RECORD.VALUE, RECORD.VALUE + KVP_MAX_VALUE_SIZE);
  let type: number;
  let size: number;
  switch (value.type) {
    case 'string':
    case 'expand-string': {
      const written = writeUtf16Field(field, value.text);
      if (written instanceof WireError) return written;
      type = value.type === 'string' ? KVP_VALUE_TYPE.REG_SZ : KVP_VALUE_TYPE.REG_EXPAND_SZ;
      size = written;
      break;
    }
    case 'u32':
      if (!Number.isInteger(value.value) || value.value < 0 || value.value > 0xffff_ffff) return wireError('bad-value', 'u32 value out of range');
      field.fill(0);
      dv.setUint32(RECORD.VALUE, value.value, true);
      type = KVP_VALUE_TYPE.REG_U32;
      size = 4;
      break;
    case 'u64':
      if (value.value < 0n || value.value > 0xffff_ffff_ffff_ffffn) return wireError('bad-value', 'u64 value out of range');
      field.fill(0);
      dv.setBigUint64(RECORD.VALUE, value.value, true);
      type = KVP_VALUE_TYPE.REG_QWORD;
      size = 8;
      break;
  }
  dv.setUint32(RECORD.VALUE_TYPE, type, true);
  dv.setUint32(RECORD.VALUE_SIZE, size, true);
  return undefined;
}

/** Reads a record's key, validating its size and terminator. */
export function readKvpKey(record: Uint8Array): string | WireError {
  return readUtf16Sized(record.subarray(RECORD.KEY, RECORD.KEY + KVP_MAX_KEY_SIZE), view(record).getUint32(RECORD.KEY_SIZE, true));
}

/** Reads a record's value: strings by their size, u32 exactly 4 bytes, u64 (type 8 or 11) exactly 8. */
export function readKvpValue(record: Uint8Array): KvpValue | WireError {
  const dv = view(record);
  const type = dv.getUint32(RECORD.VALUE_TYPE, true);
  const size = dv.getUint32(RECORD.VALUE_SIZE, true);
  switch (type) {
    case KVP_VALUE_TYPE.REG_SZ:
    case KVP_VALUE_TYPE.REG_EXPAND_SZ: {
      const text = readUtf16Sized(record.subarray(RECORD.VALUE, RECORD.VALUE + KVP_MAX_VALUE_SIZE), size);
      if (text instanceof WireError) return text;
      return { type: type === KVP_VALUE_TYPE.REG_SZ ? 'string' : 'expand-string', text };
    }
    case KVP_VALUE_TYPE.REG_U32:
      if (size !== 4) return wireError('bad-size', `REG_U32 value of ${size} bytes`);
      return { type: 'u32', value: dv.getUint32(RECORD.VALUE, true) };
    case KVP_VALUE_TYPE.REG_U64_LINUX:
    case KVP_VALUE_TYPE.REG_QWORD:
      if (size !== 8) return wireError('bad-size', `REG_U64 value of ${size} bytes`);
      return { type: 'u64', value: dv.getBigUint64(RECORD.VALUE, true) };
    default:
      return wireError('bad-value', `unknown KVP value type ${type}`);
  }
}

/**
 * Decodes a KVP body (guest side): known operation, a pool that may be
 * exchanged, the operation's full payload, and a valid key (GET/SET/DELETE)
 * and value (SET).
 */
export function decodeKvpBody(body: Uint8Array): KvpRequest | KvpIpInfoRequest | WireError {
  if (body.length < KVP_HEADER_SIZE) return wireError('truncated', `KVP body of ${body.length} bytes has no header`);
  const operation = body[0]!;
  const pool = body[1]!;
  if (pool > KVP_POOL.AUTO_EXTERNAL) return wireError('bad-value', `KVP pool ${pool} is not exchanged between host and guest`);
  const p = pool as KvpPool;
  if (operation === KVP_OPERATION.GET_IP_INFO || operation === KVP_OPERATION.SET_IP_INFO) {
    return { op: 'ip-info', operation, pool: p };
  }
  const name = (['get', 'set', 'delete', 'enumerate'] as const)[operation];
  if (name === undefined) return wireError('unknown-type', `unknown KVP operation ${operation}`);
  const need = KVP_BODY_SIZE[name];
  if (body.length < need) return wireError('truncated', `KVP ${name} body of ${body.length} bytes, need ${need}`);
  const dv = view(body);
  if (name === 'enumerate') return { op: name, pool: p, index: dv.getUint32(KVP_HEADER_SIZE, true) };
  if (name === 'delete') {
    const key = readUtf16Sized(body.subarray(KVP_HEADER_SIZE + 4, need), dv.getUint32(KVP_HEADER_SIZE, true));
    return key instanceof WireError ? key : { op: name, pool: p, key };
  }
  const record = kvpRecordOf(body, name);
  const key = readKvpKey(record);
  if (key instanceof WireError) return key;
  if (name === 'get') return { op: name, pool: p, key };
  const value = readKvpValue(record);
  return value instanceof WireError ? value : { op: name, pool: p, key, value };
}

/** Encodes a KVP body (host side), KVP_MESSAGE_SIZE bytes for every operation. */
export function encodeKvpBody(request: KvpRequest): Uint8Array | WireError {
  const body = new Uint8Array(KVP_MESSAGE_SIZE);
  body[0] = OP_CODES[request.op];
  if (!Number.isInteger(request.pool) || request.pool < 0 || request.pool > KVP_POOL.AUTO_EXTERNAL) {
    return wireError('bad-value', `KVP pool ${request.pool} cannot be exchanged`);
  }
  body[1] = request.pool;
  const dv = view(body);
  switch (request.op) {
    case 'enumerate':
      if (!Number.isInteger(request.index) || request.index < 0 || request.index > 0xffff_ffff) {
        return wireError('bad-value', `KVP index ${request.index} is not a u32`);
      }
      dv.setUint32(KVP_HEADER_SIZE, request.index, true);
      return body;
    case 'delete': {
      const size = writeUtf16Field(body.subarray(KVP_HEADER_SIZE + 4, KVP_BODY_SIZE.delete), request.key);
      if (size instanceof WireError) return size;
      dv.setUint32(KVP_HEADER_SIZE, size, true);
      return body;
    }
    case 'get':
    case 'set': {
      const record = kvpRecordOf(body, request.op);
      const keyError = writeKvpKey(record, request.key);
      if (keyError !== undefined) return keyError;
      const valueError = request.op === 'set' ? writeKvpValue(record, request.value) : undefined;
      return valueError ?? body;
    }
  }
}
