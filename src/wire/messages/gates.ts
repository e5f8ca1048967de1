/**
 * Version and feature gates: which message variants a receiver accepts and
 * which one a sender uses, at a negotiated version and feature set. The rules
 * are OpenVMM's (protocol/macros.rs:62-79); the gates themselves are table data.
 */
import type { Gate } from './layout.js';
import { messageSpecOfName } from './catalog.js';
import type { KindOfType, MessageTypeName } from './types.js';

/**
 * Whether a gate passes. `version === null` means no version is negotiated yet:
 * only gates with minVersion 0 and no feature bits pass, as OpenVMM parses with
 * `None` and empty features while disconnected.
 */
export function gateAllows(gate: Gate, version: number | null, features: number): boolean {
  if (version === null) return gate.minVersion === 0 && gate.features === undefined;
  if (version < gate.minVersion) return false;
  return gate.features === undefined || (features & gate.features) !== 0;
}

/** Whether any form of the message type may be sent and received at this version and feature set. */
export function messageAllowed(name: MessageTypeName, version: number | null, features: number): boolean {
  return messageSpecOfName(name).variants.some((v) => gateAllows(v, version, features));
}

/**
 * The variant a sender uses at this version and feature set: the first (newest)
 * whose send gate passes, or undefined if the type may not be sent at all.
 */
export function senderKind<N extends MessageTypeName>(
  name: N,
  version: number | null,
  features: number,
): KindOfType<N> | undefined {
  const variant = messageSpecOfName(name).variants.find((v) => gateAllows(v.sendWhen ?? v, version, features));
  return variant?.kind as KindOfType<N> | undefined;
}

/**
 * The VERSION_RESPONSE form for an accepted `version` (null = the request is
 * refused, always the 16-byte form): VersionResponse2 from Copper, VersionResponse3
 * with Copper + server_specified_monitor_pages (channels.rs:2515-2572).
 */
export function versionResponseKind(version: number | null, features: number): KindOfType<'VERSION_RESPONSE'> {
  // VersionResponse has no gate, so a kind is always found.
  return senderKind('VERSION_RESPONSE', version, features)!;
}

/** The INITIATE_CONTACT form for a requested version: InitiateContact2 from Copper (vmbus_client/src/lib.rs:629-633). */
export function initiateContactKind(requestedVersion: number): KindOfType<'INITIATE_CONTACT'> {
  // InitiateContact has no gate, so a kind is always found.
  return senderKind('INITIATE_CONTACT', requestedVersion, 0)!;
}

/** The OPEN_CHANNEL form: OpenChannel2 from Copper with either signal feature, as the receiver then requires it. */
export function openChannelKind(version: number, features: number): KindOfType<'OPEN_CHANNEL'> | undefined {
  return senderKind('OPEN_CHANNEL', version, features);
}

/** The TL_CONNECT_REQUEST form: TlConnectRequest2 from Win10Rs5, none before Win10. */
export function tlConnectRequestKind(version: number): KindOfType<'TL_CONNECT_REQUEST'> | undefined {
  return senderKind('TL_CONNECT_REQUEST', version, 0);
}
