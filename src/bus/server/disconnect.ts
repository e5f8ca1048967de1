/**
 * The end of a disconnect: once no channel is known to the guest and no GPADL
 * is left, the connection is gone and the waiting next step runs (OpenVMM's
 * `check_disconnected` / `do_next_action`, channels.rs:1995-2034, 2640-2660).
 * Every path that releases a channel or removes a GPADL calls `checkDisconnected`.
 */
import { VMBUS_VERSION } from '../../wire/messages/index.js';
import type { ServerCore } from './core.js';

/** True when the guest holds nothing: every channel released and settled, no GPADL at all. */
export function everythingReleased(core: ServerCore): boolean {
  if (core.gpadls.size > 0) return false;
  for (const channel of core.channels.values()) if (channel.state.kind !== 'client-released') return false;
  return true;
}

/** Completes a pending disconnect if nothing holds it up any more, then runs the step that waited for it. */
export function checkDisconnected(core: ServerCore): void {
  const connection = core.connection;
  if (connection.kind !== 'disconnecting' || !everythingReleased(core)) return;
  const next = connection.next;
  core.connection = { kind: 'disconnected' };
  core.outbox.action({ type: 'disconnected' });
  switch (next.kind) {
    case 'unload-complete':
      // UNLOAD_COMPLETE exists from Win7 (openvmm-vmbus.md §2.1-2.2); a V1 guest gets no answer.
      if (next.version >= VMBUS_VERSION.Win7) core.send({ kind: 'UnloadComplete' });
      return;
    case 'reconnect':
      core.reconnect(next.request);
      return;
  }
}
