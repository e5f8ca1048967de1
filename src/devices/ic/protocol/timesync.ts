/**
 * Time sync IC. Two body forms, chosen by the negotiated message version
 * (Linux `drivers/hv/hv_util.c` timesync_onchannelcallback: version > 3.x
 * uses the reference form):
 *
 * - v4 "reference" (OpenVMM `TimesyncMessageV4`, Linux `ictimesync_ref_data`):
 *   `{ u64 parentTime; u64 vmReferenceTime; u8 flags; u8 leapFlags; u8 stratum;
 *   u8 reserved[5] }` — 24 bytes sent, 22 accepted (Linux declares 3 reserved).
 * - v1/v3 "legacy" (OpenVMM `TimesyncMessage`, Linux `ictimesync_data`):
 *   `{ u64 parentTime; u64 childTime; u64 roundTripTime; u8 flags; u8 reserved[3] }`
 *   — 28 bytes sent, 25 accepted.
 *
 * Times are 100 ns units since 1601-01-01 UTC (FILETIME). `vmReferenceTime`
 * is the guest's reference counter (100 ns units) when the host sampled its
 * clock; a guest adds the reference time elapsed since then. The guest answers
 * every message unchanged apart from status and flags.
 */
import { WireError, wireError } from '../../../wire/wire-error.js';
import { respondToIcRequest, type IcGuestReply } from './guest-responder.js';
import { encodeIcRequest, parseIcStatusResponse, type IcHostService, type IcStatusResult } from './host-session.js';
import { IC_SERVICES } from './ic-services.js';
import { IC_STATUS } from './ic-status.js';
import type { IcVersions } from './negotiation.js';

/** 100 ns intervals from 1601-01-01 to 1970-01-01 (Linux WLTIMEDELTA). */
export const WLTIMEDELTA = 116_444_736_000_000_000n;

/** Message purpose (Linux ICTIMESYNCFLAG_*): PROBE is no flag at all. */
export const TIME_SYNC_FLAG = {
  PROBE: 0,
  /** Set the clock now (after boot or restore). */
  SYNC: 1,
  /** A periodic sample to steer the clock. */
  SAMPLE: 2,
} as const;
const TIME_SYNC_FLAGS_DEFINED = 0x3;

export const TIME_SYNC_REFERENCE_BODY_SIZE = 24;
export const TIME_SYNC_REFERENCE_MIN_BODY_SIZE = 22;
export const TIME_SYNC_LEGACY_BODY_SIZE = 28;
export const TIME_SYNC_LEGACY_MIN_BODY_SIZE = 25;

const U64_MAX = 0xffff_ffff_ffff_ffffn;

export type TimeSyncKind = 'probe' | 'sync' | 'sample';

export type TimeSyncMessage =
  | {
      readonly form: 'reference';
      readonly parentTime: bigint;
      readonly vmReferenceTime: bigint;
      readonly flags: number;
      readonly leapFlags: number;
      readonly stratum: number;
    }
  | {
      readonly form: 'legacy';
      readonly parentTime: bigint;
      readonly childTime: bigint;
      readonly roundTripTime: bigint;
      readonly flags: number;
    };

/** True when the negotiated message version uses the v4 reference form. */
export function timeSyncUsesReferenceForm(versions: IcVersions): boolean {
  return versions.message.major >= 4;
}

/** FILETIME (100 ns since 1601) from nanoseconds since the Unix epoch. */
export function filetimeFromUnixNs(unixNs: bigint): bigint {
  const ticks = unixNs / 100n;
  // BigInt division truncates toward zero; floor keeps pre-1970 instants ordered.
  return (ticks * 100n > unixNs ? ticks - 1n : ticks) + WLTIMEDELTA;
}

/** Nanoseconds since the Unix epoch from a FILETIME. */
export function unixNsFromFiletime(filetime: bigint): bigint {
  return (filetime - WLTIMEDELTA) * 100n;
}

function timeSyncKind(flags: number): TimeSyncKind {
  if ((flags & TIME_SYNC_FLAG.SYNC) !== 0) return 'sync';
  return (flags & TIME_SYNC_FLAG.SAMPLE) !== 0 ? 'sample' : 'probe';
}

/** Reads a body in the form the versions call for. */
export function decodeTimeSyncBody(body: Uint8Array, versions: IcVersions): TimeSyncMessage | WireError {
  const reference = timeSyncUsesReferenceForm(versions);
  const min = reference ? TIME_SYNC_REFERENCE_MIN_BODY_SIZE : TIME_SYNC_LEGACY_MIN_BODY_SIZE;
  if (body.length < min) return wireError('truncated', `time sync body of ${body.length} bytes, need ${min}`);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const flags = dv.getUint8(reference ? 16 : 24);
  if ((flags & ~TIME_SYNC_FLAGS_DEFINED) !== 0) return wireError('unknown-flags', `time sync flags 0x${flags.toString(16)}`);
  if (reference) {
    return {
      form: 'reference',
      parentTime: dv.getBigUint64(0, true),
      vmReferenceTime: dv.getBigUint64(8, true),
      flags,
      leapFlags: dv.getUint8(17),
      stratum: dv.getUint8(18),
    };
  }
  return {
    form: 'legacy',
    parentTime: dv.getBigUint64(0, true),
    childTime: dv.getBigUint64(8, true),
    roundTripTime: dv.getBigUint64(16, true),
    flags,
  };
}

/** A host time the guest can steer its clock by. */
export interface TimeSyncAdjustment {
  readonly kind: TimeSyncKind;
  /** Host wall clock, FILETIME units, at `referenceTime`. */
  readonly hostTime: bigint;
  /** The guest reference-counter value `hostTime` belongs to. */
  readonly referenceTime: bigint;
  readonly message: TimeSyncMessage;
}

export interface TimeSyncGuestState {
  readonly versions: IcVersions | undefined;
  /**
   * The guest's reference counter when the message arrived. The legacy form
   * carries no reference time, so the sample is taken as of arrival (Linux
   * passes hv_read_reference_counter() for it).
   */
  readonly referenceTime: bigint;
}

/** Guest responder: status OK, the body untouched; the event is the adjustment to apply. */
export function respondTimeSync(request: Uint8Array, state: TimeSyncGuestState): IcGuestReply<TimeSyncAdjustment> | WireError {
  return respondToIcRequest<TimeSyncAdjustment>(request, IC_SERVICES.timeSync, state.versions, (body, _header, versions) => {
    const message = decodeTimeSyncBody(body, versions);
    if (message instanceof WireError) return { status: IC_STATUS.HV_E_FAIL, error: message };
    const referenceTime = message.form === 'reference' ? message.vmReferenceTime : state.referenceTime;
    return {
      status: IC_STATUS.HV_S_OK,
      event: { kind: timeSyncKind(message.flags), hostTime: message.parentTime, referenceTime, message },
    };
  });
}

/** The host's clock, FILETIME units, when the guest's reference counter reads `referenceNow`. */
export function timeSyncHostTimeAt(adjustment: TimeSyncAdjustment, referenceNow: bigint): bigint {
  return adjustment.hostTime + (referenceNow - adjustment.referenceTime);
}

/**
 * How far the guest clock is behind the host (positive: add this many
 * 100 ns units to the guest clock), both read when the reference counter
 * reads `referenceNow`.
 */
export function timeSyncClockOffset(adjustment: TimeSyncAdjustment, referenceNow: bigint, guestTimeNow: bigint): bigint {
  return timeSyncHostTimeAt(adjustment, referenceNow) - guestTimeNow;
}

/** What the host sends: its clock, and the guest's reference time it belongs to. */
export interface TimeSyncSampleOrder {
  readonly kind: TimeSyncKind;
  /** Host wall clock, FILETIME units. */
  readonly parentTime: bigint;
  /** Guest reference counter at that instant (v4 only). */
  readonly vmReferenceTime: bigint;
  /** NTP leap indicator (v4 only); OpenVMM sends 0. */
  readonly leapFlags?: number;
  /** NTP stratum (v4 only); OpenVMM sends 0. */
  readonly stratum?: number;
  /** Measured round trip (legacy only). */
  readonly roundTripTime?: bigint;
}

export type TimeSyncResult = IcStatusResult;

function isU64(n: bigint): boolean {
  return n >= 0n && n <= U64_MAX;
}

function isU8(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xff;
}

/** Host requester: the v4 form (24 bytes) or the legacy form (28 bytes), by negotiated version. */
export function encodeTimeSyncRequest(versions: IcVersions, order: TimeSyncSampleOrder): Uint8Array | WireError {
  const leapFlags = order.leapFlags ?? 0;
  const stratum = order.stratum ?? 0;
  const roundTripTime = order.roundTripTime ?? 0n;
  if (![order.parentTime, order.vmReferenceTime, roundTripTime].every(isU64) || !isU8(leapFlags) || !isU8(stratum)) {
    return wireError('bad-value', 'time sync fields out of range (u64 times, u8 leap flags and stratum)');
  }
  const flags = { probe: TIME_SYNC_FLAG.PROBE, sync: TIME_SYNC_FLAG.SYNC, sample: TIME_SYNC_FLAG.SAMPLE }[order.kind];
  const reference = timeSyncUsesReferenceForm(versions);
  const body = new Uint8Array(reference ? TIME_SYNC_REFERENCE_BODY_SIZE : TIME_SYNC_LEGACY_BODY_SIZE);
  const dv = new DataView(body.buffer);
  dv.setBigUint64(0, order.parentTime, true);
  if (reference) {
    dv.setBigUint64(8, order.vmReferenceTime, true);
    dv.setUint8(16, flags);
    dv.setUint8(17, leapFlags);
    dv.setUint8(18, stratum);
  } else {
    // childTime (offset 8) is unused by hosts and stays 0.
    dv.setBigUint64(16, roundTripTime, true);
    dv.setUint8(24, flags);
  }
  return encodeIcRequest(IC_SERVICES.timeSync.messageType, versions, body);
}

/** Host side: the status is the whole answer. */
export function parseTimeSyncResponse(packet: Uint8Array): TimeSyncResult | WireError {
  return parseIcStatusResponse(packet, IC_SERVICES.timeSync.messageType);
}

/** The time sync service for `IcHostSession`. */
export const TIME_SYNC_HOST: IcHostService<TimeSyncSampleOrder, TimeSyncResult> = {
  spec: IC_SERVICES.timeSync,
  encodeRequest: encodeTimeSyncRequest,
  parseResponse: (_order, packet) => parseTimeSyncResponse(packet),
};
