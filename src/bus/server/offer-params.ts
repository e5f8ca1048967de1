/**
 * What a local caller offers: the channel's identity, kind and fields, checked
 * and normalised into the values an OFFER_CHANNEL carries (openvmm-vmbus.md
 * §6.6). The channel kinds and their flags and user-defined layouts follow
 * OpenVMM's `ChannelType` mapping (channels.rs:673-742; protocol.rs:570-673).
 */
import { isGuid, writeGuid, NIL_GUID, type Guid } from '../../wire/guid.js';
import { OFFER_FLAG } from '../../wire/messages/index.js';
import { ServerRequestError, requestError } from './request-error.js';

/** Bytes of OfferChannel `user_defined` (protocol.rs:489-509). */
export const USER_DEFINED_SIZE = 120;
/** Bytes of a pipe offer's own part of `user_defined`: between `pipe_type` @0 and `flags` @116 (protocol.rs:617-640). */
export const PIPE_USER_DEFINED_SIZE = 112;

/** `pipe_type` values of pipe and hvsocket offers (protocol.rs:570-578). */
export const PIPE_TYPE = { BYTE: 0, MESSAGE: 4 } as const;
/** Pipe offer `flags` @116: bit 0 = the pipe takes GPA-direct transfers (protocol.rs:628-640). */
export const PIPE_FLAG = { GPA_DIRECT: 0x1 } as const;
/** hvsocket `version` @6: RS5 = 1 (protocol.rs:664-673). */
export const HVSOCK_PARAMS_VERSION_RS5 = 1;

/** What kind of channel is offered; decides flags and the user-defined bytes. */
export type ChannelType =
  /** A plain device; with `pipePackets`, a message-mode pipe without the interface flag. */
  | { readonly kind: 'device'; readonly pipePackets?: boolean }
  /** A device interface (enumerate_device_interface) with 120 user-defined bytes. */
  | { readonly kind: 'interface'; readonly userDefined?: Uint8Array }
  /** A named pipe: byte or message mode, 112 provider bytes, pipe flags. */
  | {
      readonly kind: 'pipe';
      readonly messageMode: boolean;
      readonly userDefined?: Uint8Array;
      readonly pipeFlags?: number;
    }
  /** An hvsocket: `isConnect` = the guest is to accept (host-initiated connection). */
  | { readonly kind: 'hvsocket'; readonly isConnect: boolean; readonly isForContainer: boolean; readonly siloId?: Guid };

/** A local offer request. */
export interface OfferParams {
  readonly interfaceId: Guid;
  readonly instanceId: Guid;
  /** Default `{ kind: 'device' }`. */
  readonly channelType?: ChannelType;
  /** 0 = primary channel; a subchannel shares interface and instance with its primary. */
  readonly subchannelIndex?: number;
  readonly mmioMegabytes?: number;
  readonly mmioMegabytesOptional?: number;
  /** Ask for monitored notification: the offer gets one of the 128 monitor ids. */
  readonly monitored?: boolean;
  /** Sort key between interface and instance when REQUEST_OFFERS assigns channel ids (channels.rs:2714-2739). */
  readonly order?: number;
  /** More OFFER_FLAG bits (confidential ring / external memory, pinned memory); dropped unless negotiated. */
  readonly flags?: number;
}

/** A checked offer: every field as it goes on the wire. */
export interface Offer {
  readonly interfaceId: Guid;
  readonly instanceId: Guid;
  readonly subchannelIndex: number;
  readonly mmioMegabytes: number;
  readonly mmioMegabytesOptional: number;
  readonly flags: number;
  /** A private 120-byte copy. */
  readonly userDefined: Uint8Array;
  readonly monitored: boolean;
  /** `Infinity` when unset, so ordered offers come first (OpenVMM sorts None as u64::MAX). */
  readonly order: number;
}

/** Checks a local offer request and builds its wire values. */
export function normalizeOffer(params: OfferParams): Offer | ServerRequestError {
  if (!isGuid(params.interfaceId) || !isGuid(params.instanceId)) {
    return requestError('bad-parameter', 'interfaceId and instanceId must be canonical lowercase GUIDs');
  }
  const u16s = {
    subchannelIndex: params.subchannelIndex ?? 0,
    mmioMegabytes: params.mmioMegabytes ?? 0,
    mmioMegabytesOptional: params.mmioMegabytesOptional ?? 0,
    flags: params.flags ?? 0,
  };
  for (const [name, value] of Object.entries(u16s)) {
    if (!isUint(value, 0xffff)) return requestError('bad-parameter', `${name} is not a u16: ${String(value)}`);
  }
  const order = params.order ?? Infinity;
  if (order !== Infinity && !(Number.isSafeInteger(order) && order >= 0)) {
    return requestError('bad-parameter', `order is not a non-negative integer: ${String(order)}`);
  }
  const typed = typeValues(params.channelType ?? { kind: 'device' });
  if (typed instanceof ServerRequestError) return typed;
  return {
    interfaceId: params.interfaceId,
    instanceId: params.instanceId,
    subchannelIndex: u16s.subchannelIndex,
    mmioMegabytes: u16s.mmioMegabytes,
    mmioMegabytesOptional: u16s.mmioMegabytesOptional,
    flags: typed.flags | u16s.flags,
    userDefined: typed.userDefined,
    monitored: params.monitored === true,
    order,
  };
}

/** The fields that identify an offer across offers and restores. */
type OfferKeyFields = Pick<Offer, 'interfaceId' | 'instanceId' | 'subchannelIndex'>;

/** The OFFER_CHANNEL key of a channel: interface, instance, subchannel index (OpenVMM `OfferKey`). */
export function sameOfferKey(a: OfferKeyFields, b: OfferKeyFields): boolean {
  return a.interfaceId === b.interfaceId && a.instanceId === b.instanceId && a.subchannelIndex === b.subchannelIndex;
}

function typeValues(type: ChannelType): { flags: number; userDefined: Uint8Array } | ServerRequestError {
  const userDefined = new Uint8Array(USER_DEFINED_SIZE);
  const view = new DataView(userDefined.buffer);
  switch (type.kind) {
    case 'device':
      if (type.pipePackets !== true) return { flags: 0, userDefined };
      view.setUint32(0, PIPE_TYPE.MESSAGE, true);
      return { flags: OFFER_FLAG.NAMED_PIPE_MODE, userDefined };
    case 'interface': {
      const bytes = type.userDefined ?? userDefined;
      if (!(bytes instanceof Uint8Array) || bytes.length !== USER_DEFINED_SIZE) {
        return requestError('bad-parameter', `interface userDefined must be ${USER_DEFINED_SIZE} bytes`);
      }
      userDefined.set(bytes);
      return { flags: OFFER_FLAG.ENUMERATE_DEVICE_INTERFACE, userDefined };
    }
    case 'pipe': {
      // Layout: pipe_type u32 @0, provider bytes [112] @4, flags u32 @116 (protocol.rs:617-640).
      const bytes = type.userDefined ?? new Uint8Array(PIPE_USER_DEFINED_SIZE);
      const pipeFlags = type.pipeFlags ?? 0;
      if (!(bytes instanceof Uint8Array) || bytes.length !== PIPE_USER_DEFINED_SIZE) {
        return requestError('bad-parameter', `pipe userDefined must be ${PIPE_USER_DEFINED_SIZE} bytes`);
      }
      if (!isUint(pipeFlags, 0xffff_ffff)) return requestError('bad-parameter', `pipeFlags is not a u32: ${pipeFlags}`);
      view.setUint32(0, type.messageMode ? PIPE_TYPE.MESSAGE : PIPE_TYPE.BYTE, true);
      userDefined.set(bytes, 4);
      view.setUint32(116, pipeFlags, true);
      return { flags: OFFER_FLAG.ENUMERATE_DEVICE_INTERFACE | OFFER_FLAG.NAMED_PIPE_MODE, userDefined };
    }
    case 'hvsocket': {
      // Layout: pipe_type u32 @0 (byte mode), is_for_guest_accept u8 @4, is_for_guest_container u8 @5,
      // version u32 @6 (unaligned), silo_id GUID @10 (protocol.rs:642-673).
      const siloId = type.siloId ?? NIL_GUID;
      if (!isGuid(siloId)) return requestError('bad-parameter', 'hvsocket siloId must be a canonical lowercase GUID');
      view.setUint32(0, PIPE_TYPE.BYTE, true);
      userDefined[4] = type.isConnect ? 1 : 0;
      userDefined[5] = type.isForContainer ? 1 : 0;
      view.setUint32(6, HVSOCK_PARAMS_VERSION_RS5, true);
      writeGuid(userDefined, 10, siloId);
      return {
        flags: OFFER_FLAG.ENUMERATE_DEVICE_INTERFACE | OFFER_FLAG.TLNPI_PROVIDER | OFFER_FLAG.NAMED_PIPE_MODE,
        userDefined,
      };
    }
    default:
      return requestError('bad-parameter', 'unknown channel type');
  }
}

function isUint(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}
