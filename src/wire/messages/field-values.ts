/**
 * The meaning of values inside channel-management message fields: flag bits,
 * enumerations, sentinels, and the TargetInfo view of InitiateContact's u64.
 */
import { WireError } from '../wire-error.js';
import { measureFields, readFields, writeFields } from './codec.js';
import type { FieldSpec } from './layout.js';

/**
 * OfferChannel `flags` bits (OpenVMM protocol.rs:549-568; openvmm-vmbus.md §6.6).
 * Older Linux headers call 0x2 / 0x4 SERVER_SUPPORTS_TRANSFER_PAGES / _GPADLS; since
 * Copper they mean confidential memory and are only sent when negotiated.
 */
export const OFFER_FLAG = {
  ENUMERATE_DEVICE_INTERFACE: 0x1,
  CONFIDENTIAL_RING_BUFFER: 0x2,
  CONFIDENTIAL_EXTERNAL_MEMORY: 0x4,
  REQUIRE_PINNED_EXTERNAL_MEMORY: 0x8,
  NAMED_PIPE_MODE: 0x10,
  /** An hvsocket (transport-layer named-pipe provider) offer. */
  TLNPI_PROVIDER: 0x2000,
} as const;

/** OpenChannel2 `flags` bits (protocol.rs:734-743). */
export const OPEN_CHANNEL_FLAG = {
  /** Send this channel's host→guest interrupt to the redirected VTL/SINT. */
  REDIRECT_INTERRUPT: 0x1,
} as const;

/** VersionResponse / ModifyConnectionResponse `connectionState` values (protocol.rs:335-343). */
export const CONNECTION_STATE = {
  SUCCESSFUL: 0,
  FAILED_LOW_RESOURCES: 1,
  FAILED_UNKNOWN_FAILURE: 2,
} as const;

/** A `targetVp` that asks for no host→guest interrupts at all (protocol.rs:715-716). */
export const VP_INDEX_DISABLE_INTERRUPT = 0xffff_ffff;

/**
 * InitiateContact's `interruptPageOrTargetInfo` u64 read as TargetInfo
 * (protocol.rs:306-313). From 5.0 on the guest sends this; before that the same
 * u64 is the interrupt page GPA (openvmm-vmbus.md §6.8).
 */
export interface TargetInfo {
  sint: number;
  vtl: number;
  featureFlags: number;
}

// The u64's little-endian bytes: sint bits 0-7, vtl bits 8-15, 16 reserved bits, feature flags bits 32-63.
const TARGET_INFO_FIELDS = [
  { name: 'sint', offset: 0, kind: 'u8' },
  { name: 'vtl', offset: 1, kind: 'u8' },
  { name: '_padding', offset: 2, kind: 'pad', length: 2 },
  { name: 'featureFlags', offset: 4, kind: 'u32' },
] as const satisfies readonly FieldSpec[];
const TARGET_INFO_SIZE = 8;

/** Splits the u64 into TargetInfo; the reserved bits are dropped, as OpenVMM does. */
export function decodeTargetInfo(value: bigint): TargetInfo {
  const bytes = new Uint8Array(TARGET_INFO_SIZE);
  new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
  const info: Record<string, unknown> = {};
  readFields(bytes, TARGET_INFO_FIELDS, info);
  return info as unknown as TargetInfo;
}

/** Packs TargetInfo into the u64, reserved bits zero; 'bad-value' if a part does not fit. */
export function encodeTargetInfo(info: TargetInfo): bigint | WireError {
  const checked = measureFields(TARGET_INFO_FIELDS, TARGET_INFO_SIZE, info as unknown as Record<string, unknown>, 'TargetInfo');
  if (checked instanceof WireError) return checked;
  const bytes = new Uint8Array(TARGET_INFO_SIZE);
  writeFields(bytes, TARGET_INFO_FIELDS, info as unknown as Record<string, unknown>);
  return new DataView(bytes.buffer).getBigUint64(0, true);
}
