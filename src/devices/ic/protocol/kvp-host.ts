/**
 * The host side of KVP: build a request for the negotiated versions and read
 * the guest's in-place answer. HV_S_CONT is "no more items" (the end of an
 * enumeration, or no such key); other failure statuses are passed on. The
 * answer must echo the request's operation and pool, since the guest edits the
 * request buffer (Linux `drivers/hv/hv_kvp.c` kvp_respond_to_host). One
 * transaction at a time: drive it through `IcHostSession(KVP_HOST)`.
 */
import { WireError, wireError } from '../../../wire/wire-error.js';
import { decodeIcResponse, encodeIcRequest, type IcHostService } from './host-session.js';
import { IC_SERVICES } from './ic-services.js';
import { IC_STATUS } from './ic-status.js';
import {
  KVP_BODY_SIZE,
  encodeKvpBody,
  kvpOperationCode,
  kvpRecordOf,
  readKvpKey,
  readKvpValue,
  type KvpRequest,
  type KvpValue,
} from './kvp-record.js';
import type { IcVersions } from './negotiation.js';

export type KvpResult =
  /** SET or DELETE succeeded. */
  | { readonly kind: 'done' }
  /** GET or ENUMERATE found an entry. */
  | { readonly kind: 'value'; readonly key: string; readonly value: KvpValue }
  /** HV_S_CONT: past the last index, or no such key. */
  | { readonly kind: 'no-more-items' }
  | { readonly kind: 'failed'; readonly status: number };

/** Host requester: the KVP body (2580 bytes for every operation) in an IC request. */
export function encodeKvpRequest(versions: IcVersions, request: KvpRequest): Uint8Array | WireError {
  const body = encodeKvpBody(request);
  if (body instanceof WireError) return body;
  return encodeIcRequest(IC_SERVICES.kvp.messageType, versions, body);
}

/** Host side: validates the guest's answer to `request`. */
export function parseKvpResponse(request: KvpRequest, packet: Uint8Array): KvpResult | WireError {
  const decoded = decodeIcResponse(packet, IC_SERVICES.kvp.messageType);
  if (decoded instanceof WireError) return decoded;
  const { header, body } = decoded;
  if (header.status === IC_STATUS.HV_S_CONT) return { kind: 'no-more-items' };
  if (header.status !== IC_STATUS.HV_S_OK) return { kind: 'failed', status: header.status };
  const need = KVP_BODY_SIZE[request.op];
  if (body.length < need) return wireError('truncated', `KVP ${request.op} response body of ${body.length} bytes, need ${need}`);
  if (body[0] !== kvpOperationCode(request.op) || body[1] !== request.pool) {
    return wireError('bad-value', `KVP response is operation ${body[0]} pool ${body[1]}, request was ${request.op} pool ${request.pool}`);
  }
  if (request.op === 'set' || request.op === 'delete') return { kind: 'done' };
  const record = kvpRecordOf(body, request.op);
  const key = request.op === 'enumerate' ? readKvpKey(record) : request.key;
  if (key instanceof WireError) return key;
  const value = readKvpValue(record);
  if (value instanceof WireError) return value;
  return { kind: 'value', key, value };
}

/** The KVP service for `IcHostSession`. */
export const KVP_HOST: IcHostService<KvpRequest, KvpResult> = {
  spec: IC_SERVICES.kvp,
  encodeRequest: encodeKvpRequest,
  parseResponse: parseKvpResponse,
};
