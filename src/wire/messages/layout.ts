/**
 * The vocabulary of the declarative message table: what a field, a variant and
 * a message type are. The table (table.ts) is written in these terms, and the
 * codec, the gates and the TypeScript message types are all derived from it.
 */
import type { Guid } from '../guid.js';

/** Who sends a message type. The other side is the only one that may receive it. */
export type Direction = 'host-to-guest' | 'guest-to-host';

/** Fixed-width scalars and GUIDs. Integers are little-endian and unsigned (NTSTATUS too, as in ntstatus.ts). */
export type ScalarKind = 'u8' | 'u16' | 'u32' | 'u64' | 'guid';

/**
 * One field of a variant. Offsets count from the start of the message, header
 * included, as in openvmm-vmbus.md §6.
 * - `bytes`: a fixed-length byte array (user-defined data).
 * - `pad`: bytes the protocol reserves: written as zero, ignored when read (as
 *   OpenVMM and Linux ignore them). Named for documentation only; not in the
 *   decoded message.
 * - `u64-array`: trailing u64 values filling the rest of the message (GPADL
 *   range data). Only ever the last field.
 */
export type FieldSpec =
  | { readonly name: string; readonly offset: number; readonly kind: ScalarKind }
  | { readonly name: string; readonly offset: number; readonly kind: 'bytes' | 'pad'; readonly length: number }
  | { readonly name: string; readonly offset: number; readonly kind: 'u64-array' };

export type FieldKind = FieldSpec['kind'];

/** When a variant is allowed: at `minVersion` or later, and, if `features` is set, with one of those bits negotiated. */
export interface Gate {
  /** 0 = allowed at any time, including before a version is negotiated (OpenVMM's `0`). */
  readonly minVersion: number;
  /** Any one of these Copper feature bits suffices (protocol/macros.rs:78-79). */
  readonly features?: number;
}

/**
 * One wire layout of a message type, named after OpenVMM's struct. A receiver
 * tries the variants of a type in table order (newest first) and takes the first
 * whose gate passes; `checkSize` variants also need the message to be at least
 * `size` bytes, else the next variant is tried (protocol/macros.rs:50-57, 62-73).
 */
export interface VariantSpec extends Gate {
  readonly kind: string;
  /** Bytes of the fixed part, header included. */
  readonly size: number;
  readonly checkSize?: boolean;
  /**
   * When a sender uses this variant, if that differs from the receive gate: the
   * receive gate of variants told apart by size is 0, but a sender picks them by
   * the negotiated version and features (e.g. VersionResponse3 needs Copper and
   * server_specified_monitor_pages, channels.rs:2515-2572).
   */
  readonly sendWhen?: Gate;
  readonly fields: readonly FieldSpec[];
}

/** One channel-management message type: number, OpenVMM name, direction and variants (newest first). */
export interface MessageSpec {
  readonly type: number;
  readonly name: string;
  readonly direction: Direction;
  readonly variants: readonly VariantSpec[];
}

/** The TypeScript value a field kind decodes to. `pad` has none. */
export interface FieldValueByKind {
  u8: number;
  u16: number;
  u32: number;
  u64: bigint;
  guid: Guid;
  bytes: Uint8Array;
  'u64-array': bigint[];
}
