/**
 * hvsocket connect requests (TL_CONNECT_REQUEST, channels.rs:3397-3428):
 * handed to a local listener, which accepts with an hvsocket channel offer or
 * refuses with TL_CONNECT_RESULT(STATUS_CONNECTION_REFUSED).
 */
import { NIL_GUID } from '../../wire/guid.js';
import { VMBUS_VERSION, type MessageOfKind } from '../../wire/messages/index.js';
import { NTSTATUS } from '../../wire/ntstatus.js';
import type { ConnectionInfo, ServerCore } from './core.js';
import type { HvsockConnectRequest, OfferId } from './notifier.js';
import { offerChannel } from './offers.js';
import { ServerRequestError, requestError } from './request-error.js';

/**
 * Requests waiting for a listener's answer. OpenVMM stops reading guest
 * messages beyond this (vmbus_server/src/lib.rs:108, 1278-1286); a sans-IO
 * server cannot stall, so it refuses the excess at once.
 */
export const MAX_PENDING_HVSOCK_REQUESTS = 16;

/** TL_CONNECT_REQUEST (both sizes). */
export function handleTlConnectRequest(
  core: ServerCore,
  info: ConnectionInfo,
  msg: MessageOfKind<'TlConnectRequest'> | MessageOfKind<'TlConnectRequest2'>,
): void {
  const request: HvsockConnectRequest = {
    serviceId: msg.serviceId,
    endpointId: msg.endpointId,
    siloId: msg.kind === 'TlConnectRequest2' ? msg.siloId : NIL_GUID,
    hostedSiloUnaware: info.version < VMBUS_VERSION.Win10Rs5,
  };
  if (core.hvsockRequests.length >= MAX_PENDING_HVSOCK_REQUESTS) {
    core.rejected(msg.kind, `${MAX_PENDING_HVSOCK_REQUESTS} hvsocket requests are already pending`, {
      serviceId: request.serviceId,
      endpointId: request.endpointId,
    });
    sendRefusal(core, info, request);
    return;
  }
  core.hvsockRequests.push(request);
  core.outbox.action({ type: 'hvsock-connect', request });
}

/**
 * Accepts a pending request: offers the hvsocket channel the guest waits for,
 * interface = service id, instance = endpoint id, not for the guest to accept
 * (OpenVMM hvsock.rs:400-410). If the offer fails the guest is refused.
 */
export function acceptHvsockConnect(core: ServerCore, request: HvsockConnectRequest): OfferId | ServerRequestError {
  const info = takePending(core, request);
  if (info instanceof ServerRequestError) return info;
  const offerId = offerChannel(core, {
    interfaceId: request.serviceId,
    instanceId: request.endpointId,
    channelType: { kind: 'hvsocket', isConnect: false, isForContainer: false, siloId: request.siloId },
  });
  if (offerId instanceof ServerRequestError) sendRefusal(core, info, request);
  return offerId;
}

/** Refuses a pending request. */
export function refuseHvsockConnect(core: ServerCore, request: HvsockConnectRequest): ServerRequestError | undefined {
  const info = takePending(core, request);
  if (info instanceof ServerRequestError) return info;
  sendRefusal(core, info, request);
  return undefined;
}

/** TL_CONNECT_RESULT exists from 4.1; a 4.0 guest learns nothing (channels.rs:3419-3428). */
function sendRefusal(core: ServerCore, info: ConnectionInfo, request: HvsockConnectRequest): void {
  if (info.version < VMBUS_VERSION.Win10Rs3_0) return;
  core.send({
    kind: 'TlConnectResult',
    endpointId: request.endpointId,
    serviceId: request.serviceId,
    status: NTSTATUS.STATUS_CONNECTION_REFUSED,
  });
}

/** Removes a pending request; pending requests exist only while connected. */
function takePending(core: ServerCore, request: HvsockConnectRequest): ConnectionInfo | ServerRequestError {
  const index = core.hvsockRequests.findIndex(
    (r) => r.serviceId === request.serviceId && r.endpointId === request.endpointId && r.siloId === request.siloId,
  );
  const info = core.connected();
  if (index < 0 || info === undefined) {
    return requestError('unknown-request', `no pending hvsocket request ${request.serviceId}/${request.endpointId}`);
  }
  core.hvsockRequests.splice(index, 1);
  return info;
}
