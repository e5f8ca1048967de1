/**
 * hvsocket connect requests (TL_CONNECT_REQUEST) waiting for the host. The host
 * answers a failure with TL_CONNECT_REQUEST_RESULT and a success with an
 * hvsocket channel offer whose interface id is the service id and instance id
 * the endpoint id (OpenVMM vmbus_client/src/hvsock.rs; openvmm-vmbus.md §2.3).
 */
import { NIL_GUID } from '../../wire/guid.js';
import type { Guid } from '../../wire/guid.js';
import { OFFER_FLAG } from '../../wire/messages/index.js';
import type { ChannelMessage, KindOfType } from '../../wire/messages/index.js';
import type { ChannelOffer } from './events.js';
import { ClientRequestError, checkGuid, refuse } from './request-error.js';

/** What the caller asks of `tlConnect`. */
export interface TlConnectRequest {
  /** The guest's endpoint (the offer's instance id on success). */
  readonly endpointId: Guid;
  /** The host service (the offer's interface id on success). */
  readonly serviceId: Guid;
  /** Sent in TlConnectRequest2 (from 5.2). Default: the nil GUID. */
  readonly siloId?: Guid;
}

export interface PendingTlConnect {
  readonly endpointId: Guid;
  readonly serviceId: Guid;
}

/** hvsocket offer user-defined data: `is_for_guest_accept u8 @4` (openvmm-vmbus.md §6.6). */
const IS_FOR_GUEST_ACCEPT_OFFSET = 4;

/** Checks a request and builds its message in the form the version takes; ids come back canonical. */
export function tlConnectMessage(
  kind: KindOfType<'TL_CONNECT_REQUEST'>,
  request: TlConnectRequest,
): { readonly pending: PendingTlConnect; readonly message: ChannelMessage } | ClientRequestError {
  if (typeof request !== 'object' || request === null) return refuse('bad-argument', 'a TL connect request must be an object');
  const endpointId = checkGuid('endpointId', request.endpointId);
  if (endpointId instanceof ClientRequestError) return endpointId;
  const serviceId = checkGuid('serviceId', request.serviceId);
  if (serviceId instanceof ClientRequestError) return serviceId;
  const siloId = request.siloId === undefined ? NIL_GUID : checkGuid('siloId', request.siloId);
  if (siloId instanceof ClientRequestError) return siloId;
  if (kind === 'TlConnectRequest' && siloId !== NIL_GUID) return refuse('not-negotiated', 'a silo id needs version 5.2');
  const message: ChannelMessage =
    kind === 'TlConnectRequest2' ? { kind, endpointId, serviceId, siloId } : { kind, endpointId, serviceId };
  return { pending: { endpointId, serviceId }, message };
}

export class TlConnectTracker {
  readonly #pending: PendingTlConnect[] = [];

  has(endpointId: Guid, serviceId: Guid): boolean {
    return this.#pending.some((p) => p.endpointId === endpointId && p.serviceId === serviceId);
  }

  add(request: PendingTlConnect): void {
    this.#pending.push(request);
  }

  /** Removes and returns the request with these ids, if one waits. */
  take(endpointId: Guid, serviceId: Guid): PendingTlConnect | undefined {
    const index = this.#pending.findIndex((p) => p.endpointId === endpointId && p.serviceId === serviceId);
    return index < 0 ? undefined : this.#pending.splice(index, 1)[0];
  }

  /** Removes and returns the request an hvsocket offer for a guest-initiated connection answers. */
  takeByOffer(offer: ChannelOffer): PendingTlConnect | undefined {
    if ((offer.flags & OFFER_FLAG.TLNPI_PROVIDER) === 0) return undefined;
    if (offer.userDefined[IS_FOR_GUEST_ACCEPT_OFFSET] !== 0) return undefined;
    return this.take(offer.instanceId, offer.interfaceId);
  }

  /** Removes and returns every waiting request (the connection is going away). */
  drain(): PendingTlConnect[] {
    return this.#pending.splice(0);
  }

  get size(): number {
    return this.#pending.length;
  }
}
