/**
 * IC version negotiation: the first message on every IC channel.
 *
 * The host sends `icmsg_negotiate { u16 frameworkCount; u16 messageCount;
 * u32 reserved; IcVersion[frameworkCount + messageCount] }` — framework
 * versions first, then message versions — with header versions 0.0 and flags
 * TRANSACTION|REQUEST (OpenVMM `hyperv_ic/src/common.rs` negotiate).
 * The guest picks, for each list, the first entry of its OWN preference list
 * that the host offered, and rewrites the same buffer: counts 1/1 and the two
 * versions (0/0 when nothing matched), message size 16 (Linux
 * `drivers/hv/channel_mgmt.c` vmbus_prep_negotiate_resp). The host accepts only
 * a 1/1 answer.
 */
import { WireError, wireError } from '../../../wire/wire-error.js';
import {
  IC_BODY_OFFSET,
  IC_HEADER_FIELD,
  IC_MESSAGE_TYPE,
  IC_REQUEST_FLAGS,
  decodeIcPacket,
  encodeIcPacket,
  formatIcVersion,
  icBodyRoom,
  sameIcVersion,
  type IcVersion,
} from './ic-frame.js';

/** The pair of versions both sides use after negotiation. */
export interface IcVersions {
  readonly framework: IcVersion;
  readonly message: IcVersion;
}

/** A host's offer or a guest's preference: framework and message versions. */
export interface IcVersionLists {
  readonly framework: readonly IcVersion[];
  readonly message: readonly IcVersion[];
}

/** Counts + reserved, before the version array. */
export const IC_NEGOTIATE_FIXED_SIZE = 8;
/** Largest count a guest accepts per list (Linux IC_VERSION_NEGOTIATION_MAX_VER_COUNT). */
export const IC_NEGOTIATE_MAX_COUNT = 100;
/** Body size of the guest's answer: fixed part + one framework + one message version. */
export const IC_NEGOTIATE_RESPONSE_SIZE = 16;

const NULL_VERSION: IcVersion = { major: 0, minor: 0 };

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Builds the host's negotiation request packet. */
export function encodeNegotiateRequest(offer: IcVersionLists): Uint8Array | WireError {
  for (const list of [offer.framework, offer.message]) {
    if (list.length === 0 || list.length > IC_NEGOTIATE_MAX_COUNT) {
      return wireError('bad-value', `a version list needs 1..${IC_NEGOTIATE_MAX_COUNT} entries, not ${list.length}`);
    }
  }
  const versions = [...offer.framework, ...offer.message];
  const body = new Uint8Array(IC_NEGOTIATE_FIXED_SIZE + 4 * versions.length);
  const dv = view(body);
  dv.setUint16(0, offer.framework.length, true);
  dv.setUint16(2, offer.message.length, true);
  versions.forEach((v, i) => {
    dv.setUint16(8 + 4 * i, v.major, true);
    dv.setUint16(10 + 4 * i, v.minor, true);
  });
  return encodeIcPacket(
    {
      frameworkVersion: NULL_VERSION,
      messageType: IC_MESSAGE_TYPE.NEGOTIATE,
      messageVersion: NULL_VERSION,
      status: 0,
      transactionId: 0,
      flags: IC_REQUEST_FLAGS,
    },
    body,
  );
}

/** Reads the host's offer from a negotiation request body (guest side). */
export function decodeNegotiateOffer(body: Uint8Array): IcVersionLists | WireError {
  if (body.length < 4) return wireError('truncated', `negotiate body of ${body.length} bytes has no version counts`);
  const dv = view(body);
  const frameworkCount = dv.getUint16(0, true);
  const messageCount = dv.getUint16(2, true);
  if (frameworkCount > IC_NEGOTIATE_MAX_COUNT || messageCount > IC_NEGOTIATE_MAX_COUNT) {
    return wireError('bad-value', `negotiate counts ${frameworkCount}/${messageCount} exceed ${IC_NEGOTIATE_MAX_COUNT}`);
  }
  const need = IC_NEGOTIATE_FIXED_SIZE + 4 * (frameworkCount + messageCount);
  if (body.length < need) {
    return wireError('truncated', `negotiate body of ${body.length} bytes, ${frameworkCount}+${messageCount} versions need ${need}`);
  }
  const at = (i: number): IcVersion => ({ major: dv.getUint16(8 + 4 * i, true), minor: dv.getUint16(10 + 4 * i, true) });
  return {
    framework: Array.from({ length: frameworkCount }, (_, i) => at(i)),
    message: Array.from({ length: messageCount }, (_, i) => at(frameworkCount + i)),
  };
}

/**
 * The guest's choice: the first framework and the first message version of
 * its own preference lists that the host offered, or undefined when either
 * list has no common entry.
 */
export function chooseIcVersions(offer: IcVersionLists, preference: IcVersionLists): IcVersions | undefined {
  const pick = (mine: readonly IcVersion[], theirs: readonly IcVersion[]): IcVersion | undefined =>
    mine.find((v) => theirs.some((t) => sameIcVersion(v, t)));
  const framework = pick(preference.framework, offer.framework);
  const message = pick(preference.message, offer.message);
  return framework !== undefined && message !== undefined ? { framework, message } : undefined;
}

/**
 * Rewrites a negotiation packet in place as the guest's answer body: counts
 * 1/1 and the chosen versions, or 0/0 and zero versions. Writes only inside
 * the pipe message (`icBodyRoom`); the message size becomes 16, or the room
 * left when the host sent less (so the answer never claims bytes it lacks).
 * Status and flags are the caller's (see guest-responder).
 */
export function writeNegotiateAnswer(packet: Uint8Array, chosen: IcVersions | undefined): void {
  const room = Math.min(icBodyRoom(packet), IC_NEGOTIATE_RESPONSE_SIZE);
  const answer = new Uint8Array(IC_NEGOTIATE_RESPONSE_SIZE);
  const dv = view(answer);
  if (chosen !== undefined) {
    dv.setUint16(0, 1, true);
    dv.setUint16(2, 1, true);
    dv.setUint16(8, chosen.framework.major, true);
    dv.setUint16(10, chosen.framework.minor, true);
    dv.setUint16(12, chosen.message.major, true);
    dv.setUint16(14, chosen.message.minor, true);
  }
  // The reserved word is the host's; copy it through like an in-place edit would.
  answer.set(packet.subarray(IC_BODY_OFFSET + 4, IC_BODY_OFFSET + Math.min(room, 8)), 4);
  packet.set(answer.subarray(0, room), IC_BODY_OFFSET);
  view(packet).setUint16(IC_HEADER_FIELD.MESSAGE_SIZE, room, true);
}

/**
 * The host's check of the guest's answer: a well-formed negotiation response
 * with counts exactly 1/1 whose two versions were in the host's offer.
 */
export function decodeNegotiateResponse(packet: Uint8Array, offer: IcVersionLists): IcVersions | WireError {
  const decoded = decodeIcPacket(packet, 'response');
  if (decoded instanceof WireError) return decoded;
  if (decoded.header.messageType !== IC_MESSAGE_TYPE.NEGOTIATE) {
    return wireError('bad-value', `expected a negotiation response, got message type ${decoded.header.messageType}`);
  }
  const body = decoded.body;
  if (body.length < 4) return wireError('truncated', `negotiate response body of ${body.length} bytes has no counts`);
  const dv = view(body);
  const frameworkCount = dv.getUint16(0, true);
  const messageCount = dv.getUint16(2, true);
  if (frameworkCount !== 1 || messageCount !== 1) {
    return wireError('not-negotiated', `guest answered ${frameworkCount}/${messageCount} versions: no common version`);
  }
  if (body.length < IC_NEGOTIATE_RESPONSE_SIZE) {
    return wireError('truncated', `negotiate response body of ${body.length} bytes, need ${IC_NEGOTIATE_RESPONSE_SIZE}`);
  }
  const framework = { major: dv.getUint16(8, true), minor: dv.getUint16(10, true) };
  const message = { major: dv.getUint16(12, true), minor: dv.getUint16(14, true) };
  if (!offer.framework.some((v) => sameIcVersion(v, framework))) {
    return wireError('not-negotiated', `guest chose framework ${formatIcVersion(framework)}, which was not offered`);
  }
  if (!offer.message.some((v) => sameIcVersion(v, message))) {
    return wireError('not-negotiated', `guest chose message version ${formatIcVersion(message)}, which was not offered`);
  }
  return { framework, message };
}
