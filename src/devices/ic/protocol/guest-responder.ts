/**
 * The part every guest-side IC service shares: answer each host message IN
 * PLACE. The guest copies the received packet once, edits the copy (status,
 * body, flags = TRANSACTION|RESPONSE, transaction id left as received) and
 * sends back all of it, same length (Linux `drivers/hv/hv_util.c`: each
 * service callback ends by sending `recvlen` bytes of the edited buffer).
 *
 * Every message that is long enough to hold the headers gets an answer:
 * a negotiation gets the chosen versions, the service's own message goes to the
 * service handler, and anything malformed, unexpected or arriving before
 * negotiation gets a failure status. Only a packet too short to carry the
 * 28 header bytes is refused outright (there is nothing to answer in).
 */
import { WireError, wireError } from '../../../wire/wire-error.js';
import {
  IC_BODY_OFFSET,
  IC_HEADER_FIELD,
  IC_MESSAGE_TYPE,
  IC_RESPONSE_FLAGS,
  decodeIcPacket,
  icMessageTypeName,
  type IcHeader,
} from './ic-frame.js';
import { IC_STATUS } from './ic-status.js';
import { icGuestPreference, type IcServiceSpec } from './ic-services.js';
import { chooseIcVersions, decodeNegotiateOffer, writeNegotiateAnswer, type IcVersions } from './negotiation.js';

/** What a service handler decided about one of its messages. */
export interface IcServiceOutcome<E> {
  /** HRESULT written into the response. */
  readonly status: number;
  /** What the guest should do once the response is sent (see each service). */
  readonly event?: E;
  /** Why the message failed, for tracing. */
  readonly error?: WireError;
}

/**
 * A service's handling of one of its own messages. `body` is the message
 * body inside the response copy (exactly `messageSize` bytes): read the
 * request from it and write the answer into it.
 */
export type IcServiceHandler<E> = (body: Uint8Array, header: IcHeader, versions: IcVersions) => IcServiceOutcome<E>;

/** The guest's answer to one host message. */
export interface IcGuestReply<E> {
  /** The bytes to send back: the request, edited, same length. */
  readonly response: Uint8Array;
  /** The status written into `response`. */
  readonly status: number;
  /** The channel's versions after this message: a negotiation sets or clears them. */
  readonly versions: IcVersions | undefined;
  readonly event?: E;
  readonly error?: WireError;
}

/**
 * Answers one host message for `spec`'s service. `versions` is what the last
 * negotiation settled (undefined before one). Returns a WireError only when
 * the packet is shorter than the pipe + IC headers.
 */
export function respondToIcRequest<E>(
  request: Uint8Array,
  spec: IcServiceSpec,
  versions: IcVersions | undefined,
  handler: IcServiceHandler<E>,
): IcGuestReply<E> | WireError {
  if (request.length < IC_BODY_OFFSET) {
    return wireError('truncated', `${request.length} bytes cannot hold the ${IC_BODY_OFFSET}-byte pipe + IC headers`);
  }
  const response = request.slice();
  const finish = (status: number, after: IcVersions | undefined, outcome: Omit<IcServiceOutcome<E>, 'status'>): IcGuestReply<E> => {
    const dv = new DataView(response.buffer, response.byteOffset, response.byteLength);
    dv.setUint32(IC_HEADER_FIELD.STATUS, status, true);
    dv.setUint8(IC_HEADER_FIELD.FLAGS, IC_RESPONSE_FLAGS);
    return { response, status, versions: after, ...outcome };
  };

  const packet = decodeIcPacket(response, 'request');
  if (packet instanceof WireError) return finish(IC_STATUS.HV_E_FAIL, versions, { error: packet });

  if (packet.header.messageType === IC_MESSAGE_TYPE.NEGOTIATE) {
    // A negotiation always restarts the channel's protocol (the host sends one
    // after every open or reset), so its outcome replaces the old versions.
    const offer = decodeNegotiateOffer(packet.body);
    if (offer instanceof WireError) {
      writeNegotiateAnswer(response, undefined);
      return finish(IC_STATUS.HV_E_FAIL, undefined, { error: offer });
    }
    const chosen = chooseIcVersions(offer, icGuestPreference(spec));
    writeNegotiateAnswer(response, chosen);
    if (chosen === undefined) {
      const error = wireError('not-negotiated', `no common ${spec.name} version with the host's offer`);
      return finish(IC_STATUS.HV_ERROR_NOT_SUPPORTED, undefined, { error });
    }
    return finish(IC_STATUS.HV_S_OK, chosen, {});
  }

  if (packet.header.messageType !== spec.messageType) {
    const error = wireError('unknown-type', `${icMessageTypeName(packet.header.messageType)} is not a ${spec.name} message`);
    return finish(IC_STATUS.HV_E_FAIL, versions, { error });
  }
  if (versions === undefined) {
    const error = wireError('not-negotiated', `${spec.name} message before version negotiation`);
    return finish(IC_STATUS.HV_E_FAIL, versions, { error });
  }
  const { status, ...outcome } = handler(packet.body, packet.header, versions);
  return finish(status, versions, outcome);
}
