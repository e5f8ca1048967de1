/**
 * decodeMessage: bytes from the peer → a typed ChannelMessage or a WireError.
 * Which variant applies and whether the message is allowed at all are read from
 * the table (gates.ts); the fields are read by the codec.
 */
import { WireError, wireError } from '../wire-error.js';
import { readFields } from './codec.js';
import { messageSpecOfType } from './catalog.js';
import { gateAllows } from './gates.js';
import type { MessageSpec, VariantSpec } from './layout.js';
import { MAX_MESSAGE_SIZE, MESSAGE_HEADER_SIZE } from './transport.js';
import type { ChannelMessage } from './types.js';
import { formatVersion } from './versions.js';

/** What the receiver knows when a message arrives. */
export interface DecodeContext {
  /** The side receiving: the host accepts guest→host types only, the guest host→guest types only. */
  readonly receiver: 'host' | 'guest';
  /** The negotiated version, or null before contact (then only INITIATE_CONTACT, VERSION_RESPONSE, CLOSE_RESERVED_CHANNEL). */
  readonly version: number | null;
  /** The negotiated Copper feature flags (ignored while `version` is null). */
  readonly features: number;
}

/**
 * Decodes one channel-management message, header included.
 *
 * Without `ctx` (tools, traces) the variant is chosen by size alone: the newest
 * one the message is large enough for. With `ctx` it is chosen as OpenVMM's
 * receiver does (protocol/macros.rs:33-58): variants in table order, skipping
 * those whose version/feature gate fails and, for check_size variants, those the
 * message is too short for; a variant without check_size that is chosen but too
 * short is an error, not a reason to try an older one.
 *
 * Bytes past a fixed-size variant are ignored, as OpenVMM reads the struct as a
 * prefix (some senders pad messages, vmbus_client/src/lib.rs:1027-1030). In the
 * trailing u64 data of GPADL messages a partial last u64 is ignored, as Hyper-V
 * and OpenVMM do: UEFI sends its GPADL messages padded to the full 240 bytes
 * (OpenVMM channels.rs:1232-1237).
 *
 * Never throws and never reads outside `bytes`; errors are 'oversized',
 * 'truncated', 'unknown-type', 'wrong-direction', 'not-negotiated'.
 */
export function decodeMessage(bytes: Uint8Array, ctx?: DecodeContext): ChannelMessage | WireError {
  const length = bytes.length;
  if (length > MAX_MESSAGE_SIZE) {
    return wireError('oversized', `message of ${length} bytes exceeds the ${MAX_MESSAGE_SIZE}-byte SynIC payload`);
  }
  if (length < MESSAGE_HEADER_SIZE) {
    return wireError('truncated', `message of ${length} bytes is shorter than the ${MESSAGE_HEADER_SIZE}-byte header`);
  }
  const type = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  const spec = messageSpecOfType(type);
  if (spec === undefined) return wireError('unknown-type', `unknown channel message type ${type}`);
  if (ctx !== undefined && spec.direction !== (ctx.receiver === 'host' ? 'guest-to-host' : 'host-to-guest')) {
    return wireError('wrong-direction', `${spec.name} is ${spec.direction}; the ${ctx.receiver} may not receive it`);
  }
  const variant = chooseVariant(spec, length, ctx);
  if (variant instanceof WireError) return variant;

  const message: Record<string, unknown> = { kind: variant.kind };
  readFields(bytes, variant.fields, message);
  return message as ChannelMessage;
}

function chooseVariant(spec: MessageSpec, length: number, ctx: DecodeContext | undefined): VariantSpec | WireError {
  let allowed: VariantSpec | undefined;
  for (const variant of spec.variants) {
    if (ctx !== undefined && !gateAllows(variant, ctx.version, ctx.features)) continue;
    allowed = variant;
    if (length >= variant.size) return variant;
    const sizeDecides = ctx === undefined || variant.checkSize === true;
    if (!sizeDecides) return tooShort(variant, length);
  }
  if (allowed !== undefined || ctx === undefined) return tooShort(allowed ?? spec.variants[spec.variants.length - 1]!, length);
  const at = ctx.version === null ? 'before contact' : `at version ${formatVersion(ctx.version)} with features 0x${ctx.features.toString(16)}`;
  return wireError('not-negotiated', `${spec.name} is not allowed ${at}`);
}

function tooShort(variant: VariantSpec, length: number): WireError {
  return wireError('truncated', `${variant.kind} needs ${variant.size} bytes, got ${length}`);
}
