/**
 * The host side of an IC channel as a sans-IO state machine: negotiate, then
 * one request/response transaction at a time (OpenVMM `hyperv_ic`: each device
 * sends a request and waits for its response before the next; Linux KVP
 * likewise handles one transaction at a time, `drivers/hv/hv_kvp.c`). The
 * session returns the bytes to send and the typed outcome of what it received;
 * the device code does the I/O.
 */
import { WireError, wireError } from '../../../wire/wire-error.js';
import {
  IC_MESSAGE_TYPE,
  IC_REQUEST_FLAGS,
  decodeIcPacket,
  encodeIcPacket,
  icMessageTypeName,
  type IcMessageType,
  type IcPacket,
} from './ic-frame.js';
import { icHostOffer, type IcServiceSpec } from './ic-services.js';
import { IC_STATUS } from './ic-status.js';
import {
  decodeNegotiateResponse,
  encodeNegotiateRequest,
  type IcVersionLists,
  type IcVersions,
} from './negotiation.js';

/** Builds a host request carrying the negotiated versions, status 0, transaction id 0, TRANSACTION|REQUEST. */
export function encodeIcRequest(messageType: IcMessageType, versions: IcVersions, body: Uint8Array): Uint8Array | WireError {
  return encodeIcPacket(
    {
      frameworkVersion: versions.framework,
      messageType,
      messageVersion: versions.message,
      status: 0,
      transactionId: 0,
      flags: IC_REQUEST_FLAGS,
    },
    body,
  );
}

/** Decodes a guest response and checks it answers `messageType`. */
export function decodeIcResponse(packet: Uint8Array, messageType: IcMessageType): IcPacket | WireError {
  const decoded = decodeIcPacket(packet, 'response');
  if (decoded instanceof WireError) return decoded;
  if (decoded.header.messageType !== messageType) {
    return wireError(
      'bad-value',
      `response is a ${icMessageTypeName(decoded.header.messageType)} message, expected ${icMessageTypeName(messageType)}`,
    );
  }
  return decoded;
}

/** The answer of a service whose response carries nothing but its status. */
export type IcStatusResult = { readonly ok: true } | { readonly ok: false; readonly status: number };

/** Reads a status-only response (shutdown, time sync): HV_S_OK or the guest's failure HRESULT. */
export function parseIcStatusResponse(packet: Uint8Array, messageType: IcMessageType): IcStatusResult | WireError {
  const decoded = decodeIcResponse(packet, messageType);
  if (decoded instanceof WireError) return decoded;
  const status = decoded.header.status;
  return status === IC_STATUS.HV_S_OK ? { ok: true } : { ok: false, status };
}

/** How one service builds its requests and reads its responses (host side). */
export interface IcHostService<Req, Res> {
  readonly spec: IcServiceSpec;
  encodeRequest(versions: IcVersions, request: Req): Uint8Array | WireError;
  parseResponse(request: Req, packet: Uint8Array): Res | WireError;
}

/** Refusal to start a request: the local caller's mistake, not bad wire data. */
export class IcRequestRefused extends Error {
  override readonly name = 'IcRequestRefused';
  constructor(
    /** `busy`: a request is outstanding; `not-ready`: versions are not negotiated. */
    readonly reason: 'busy' | 'not-ready',
    message: string,
  ) {
    super(message);
  }
}

export type IcHostSessionState = 'idle' | 'negotiating' | 'ready' | 'failed';

/** What `receive` made of a packet. */
export type IcHostReceipt<Req, Res> =
  | { readonly kind: 'negotiated'; readonly versions: IcVersions }
  | { readonly kind: 'response'; readonly request: Req; readonly result: Res }
  /** A response of another message type, left over from before a reset: dropped, nothing changes. */
  | { readonly kind: 'stale'; readonly error: WireError }
  /** Bad or unexpected bytes; `request` is the transaction they ended, if any. */
  | { readonly kind: 'rejected'; readonly error: WireError; readonly request?: Req };

export class IcHostSession<Req, Res> {
  #state: IcHostSessionState = 'idle';
  #versions: IcVersions | undefined;
  #outstanding: { readonly request: Req } | undefined;

  constructor(
    readonly service: IcHostService<Req, Res>,
    readonly offer: IcVersionLists = icHostOffer(service.spec),
  ) {}

  get state(): IcHostSessionState {
    return this.#state;
  }

  get versions(): IcVersions | undefined {
    return this.#versions;
  }

  /** The request awaiting its response, if any. */
  get outstanding(): Req | undefined {
    return this.#outstanding?.request;
  }

  /**
   * (Re)starts the channel protocol: forgets versions and any outstanding
   * request (its response can no longer be told apart) and returns the
   * negotiation request to send.
   */
  negotiate(): Uint8Array | WireError {
    const packet = encodeNegotiateRequest(this.offer);
    if (packet instanceof WireError) return packet;
    this.#state = 'negotiating';
    this.#versions = undefined;
    this.#outstanding = undefined;
    return packet;
  }

  /** Starts a transaction; refused while another is outstanding or before negotiation. */
  request(request: Req): Uint8Array | WireError | IcRequestRefused {
    if (this.#state !== 'ready' || this.#versions === undefined) {
      return new IcRequestRefused('not-ready', `${this.service.spec.name} channel is ${this.#state}, not ready`);
    }
    if (this.#outstanding !== undefined) {
      return new IcRequestRefused('busy', `a ${this.service.spec.name} request is already outstanding`);
    }
    const packet = this.service.encodeRequest(this.#versions, request);
    if (packet instanceof WireError) return packet;
    this.#outstanding = { request };
    return packet;
  }

  /** Takes one packet from the guest. */
  receive(packet: Uint8Array): IcHostReceipt<Req, Res> {
    const decoded = decodeIcPacket(packet, 'response');
    if (this.#state === 'negotiating') return this.#receiveNegotiation(packet, decoded);
    const pending = this.#outstanding;
    if (this.#state !== 'ready' || pending === undefined) {
      const error = decoded instanceof WireError ? decoded : wireError('bad-value', `unsolicited ${this.service.spec.name} response`);
      return { kind: 'rejected', error };
    }
    if (!(decoded instanceof WireError) && decoded.header.messageType !== this.service.spec.messageType) {
      return { kind: 'stale', error: wireError('bad-value', `dropped a ${icMessageTypeName(decoded.header.messageType)} response`) };
    }
    this.#outstanding = undefined;
    const result = decoded instanceof WireError ? decoded : this.service.parseResponse(pending.request, packet);
    if (result instanceof WireError) return { kind: 'rejected', error: result, request: pending.request };
    return { kind: 'response', request: pending.request, result };
  }

  #receiveNegotiation(packet: Uint8Array, decoded: IcPacket | WireError): IcHostReceipt<Req, Res> {
    // Like OpenVMM, drop other responses still in flight from before the reset.
    if (!(decoded instanceof WireError) && decoded.header.messageType !== IC_MESSAGE_TYPE.NEGOTIATE) {
      return { kind: 'stale', error: wireError('bad-value', `dropped a ${icMessageTypeName(decoded.header.messageType)} response while negotiating`) };
    }
    const versions = decodeNegotiateResponse(packet, this.offer);
    if (versions instanceof WireError) {
      this.#state = 'failed';
      return { kind: 'rejected', error: versions };
    }
    this.#state = 'ready';
    this.#versions = versions;
    return { kind: 'negotiated', versions };
  }
}
