/**
 * A guest heartbeat that answers negotiation and never a beat, on the same
 * public plumbing as the real VSC: the host's beat stays open until its
 * timeout. icmsgtype is the u16 at byte 12, after the 8-byte pipe header
 * (linux-vmbus.md §A.5.2); NEGOTIATE is 0.
 */
import { IcGuestChannel } from '../../../../src/devices/ic/guest/index.js';
import { IC_MESSAGE_TYPE, IC_SERVICES, respondHeartbeat } from '../../../../src/devices/ic/protocol/index.js';
import { wireError } from '../../../../src/wire/index.js';
import type { IcMachine } from './ic-machine.js';

export function openSilentHeartbeatGuest(m: IcMachine): IcGuestChannel<unknown> {
  return IcGuestChannel.open<unknown>({
    device: m.device,
    spec: IC_SERVICES.heartbeat,
    respond: (request, versions) =>
      request[12] === IC_MESSAGE_TYPE.NEGOTIATE ? respondHeartbeat(request, { versions, applicationState: 0 }) : wireError('bad-value', 'silent'),
  });
}
