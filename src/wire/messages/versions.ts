/**
 * VMBus protocol versions and the Copper feature flags that are negotiated
 * with them (INITIATE_CONTACT / VERSION_RESPONSE).
 *
 * A version is `major << 16 | minor` (OpenVMM vmbus_core/src/protocol.rs:315-333;
 * Linux include/linux/hyperv.h:248-277). Names are OpenVMM's.
 */
import { WireError, wireError } from '../wire-error.js';

/** Every protocol version a Hyper-V VMBus has spoken, by OpenVMM name. */
export const VMBUS_VERSION = {
  /** 0.13, Windows Server 2008. */
  V1: 0x0000_000d,
  /** 1.1, Windows 7 / Server 2008 R2. */
  Win7: 0x0001_0001,
  /** 2.4, Windows 8 / Server 2012. */
  Win8: 0x0002_0004,
  /** 3.0, Windows 8.1 / Server 2012 R2. */
  Win8_1: 0x0003_0000,
  /** 4.0, Windows 10. */
  Win10: 0x0004_0000,
  /** 4.1, Windows 10 RS3. */
  Win10Rs3_0: 0x0004_0001,
  /** 5.0, Windows 10 RS3 (later). */
  Win10Rs3_1: 0x0005_0000,
  /** 5.1, Windows 10 RS4. */
  Win10Rs4: 0x0005_0001,
  /** 5.2, Windows 10 RS5 / Server 2019. */
  Win10Rs5: 0x0005_0002,
  /** 5.3, Server 2022. */
  Iron: 0x0005_0003,
  /** 6.0: feature flags, OpenChannel2, VersionResponse2/3, MODIFY_CONNECTION, PAUSE/RESUME. */
  Copper: 0x0006_0000,
} as const;

export type VmbusVersionName = keyof typeof VMBUS_VERSION;
/** A protocol version value, `major << 16 | minor`. */
export type VmbusVersion = number;

/** All known versions, oldest first. */
export const VMBUS_VERSIONS: readonly VmbusVersion[] = Object.values(VMBUS_VERSION).sort((a, b) => a - b);

const NAME_BY_VALUE = new Map<number, VmbusVersionName>(
  (Object.entries(VMBUS_VERSION) as [VmbusVersionName, number][]).map(([name, value]) => [value, name]),
);

/** Builds a version value from its two halves (each a u16). */
export function makeVersion(major: number, minor: number): VmbusVersion {
  return ((major & 0xffff) * 0x10000 + (minor & 0xffff)) >>> 0;
}

/** `5.3` for 0x00050003; works for any u32, known or not. */
export function formatVersion(version: VmbusVersion): string {
  const v = version >>> 0;
  return `${v >>> 16}.${v & 0xffff}`;
}

/** The OpenVMM name of a known version (`Iron`), or undefined. */
export function versionName(version: VmbusVersion): VmbusVersionName | undefined {
  return NAME_BY_VALUE.get(version);
}

export function isKnownVersion(version: VmbusVersion): boolean {
  return NAME_BY_VALUE.has(version);
}

/**
 * Reads a version given as `"major.minor"` (each a decimal u16), as an OpenVMM
 * name (`"Iron"`), or as a u32 number. Like OpenVMM's `parse_vmbus_version`
 * (vmbus_core/src/lib.rs:95-106) it does not require the version to be known:
 * a peer may ask for a version we do not speak, and the answer to that is a
 * VERSION_RESPONSE, not a parse error.
 */
export function parseVersion(input: string | number): VmbusVersion | WireError {
  if (typeof input === 'number') {
    if (Number.isInteger(input) && input >= 0 && input <= 0xffff_ffff) return input;
    return wireError('bad-value', `not a u32 version: ${input}`);
  }
  const text = input.trim();
  if (Object.hasOwn(VMBUS_VERSION, text)) return VMBUS_VERSION[text as VmbusVersionName];
  const m = /^(\d{1,5})\.(\d{1,5})$/.exec(text);
  if (m !== null) {
    const major = Number(m[1]);
    const minor = Number(m[2]);
    if (major <= 0xffff && minor <= 0xffff) return makeVersion(major, minor);
  }
  return wireError('bad-value', `not a VMBus version: ${JSON.stringify(input)}`);
}

/**
 * Copper feature flags (OpenVMM vmbus_core/src/protocol.rs:153-199), carried in
 * InitiateContact's target info and VersionResponse2's `supportedFeatures`.
 */
export const FEATURE_FLAG = {
  /** The guest chooses the connection id and event flag in OpenChannel2. */
  GUEST_SPECIFIED_SIGNAL_PARAMETERS: 0x1,
  /** OpenChannel2's `redirect_interrupt` flag is honoured. */
  CHANNEL_INTERRUPT_REDIRECTION: 0x2,
  /** MODIFY_CONNECTION and its response exist. */
  MODIFY_CONNECTION: 0x4,
  /** InitiateContact2 carries a client id GUID. */
  CLIENT_ID: 0x8,
  /** Offer flags confidential_ring_buffer / confidential_external_memory are meaningful. */
  CONFIDENTIAL_CHANNELS: 0x10,
  /** PAUSE, PAUSE_RESPONSE and RESUME exist. */
  PAUSE_RESUME: 0x20,
  /** The server provides the monitor pages (VersionResponse3). */
  SERVER_SPECIFIED_MONITOR_PAGES: 0x40,
  /** Offer flag require_pinned_external_memory is meaningful. */
  GPA_PINNING: 0x80,
} as const;

export type FeatureFlagName = keyof typeof FEATURE_FLAG;

/** Every defined feature bit; the other 24 bits are reserved. */
export const ALL_FEATURE_FLAGS: number = Object.values(FEATURE_FLAG).reduce((all, bit) => all | bit, 0);
