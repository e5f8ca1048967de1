/**
 * The guest module of the IC VM tests: the four IC guest drivers on the
 * guest's VMBus device object (the client interface). What only the guest
 * sees (a shutdown to act on, its clock offset) goes to the VM's owner as
 * events. The same file runs in the VM's thread and in a guest worker.
 */
import { HeartbeatVsc, KvpVsc, ShutdownVsc, TimeSyncVsc } from '../../../../src/devices/ic/guest/index.js';
import { HEARTBEAT_APPLICATION_STATE, IC_STATUS, KVP_POOL, KvpMemoryStore } from '../../../../src/devices/ic/protocol/index.js';
import type { GuestContext, Teardown } from '../../../../src/vm/index.js';

/** The 'time-sample' event: the kind of the host's message and the offset the guest computed (100 ns units). */
export interface TimeSampleEvent {
  readonly kind: string;
  readonly offset: bigint;
}

export default function icGuest(context: GuestContext): Teardown {
  const device = context.device;
  const store = new KvpMemoryStore();
  store.set(KVP_POOL.GUEST, 'GuestName', { type: 'string', text: context.name });
  const drivers = [
    new HeartbeatVsc({ device, applicationState: HEARTBEAT_APPLICATION_STATE.HEALTHY }),
    new ShutdownVsc({
      device,
      decide: (request) => (request.kind === 'hibernate' ? IC_STATUS.HV_E_FAIL : IC_STATUS.HV_S_OK),
      onShutdown: (request) => context.emit('shutdown', request),
    }),
    new TimeSyncVsc({
      device,
      onSample: (sample) => context.emit('time-sample', { kind: sample.adjustment.kind, offset: sample.offset } satisfies TimeSampleEvent),
    }),
    new KvpVsc({ device, store }),
  ];
  return async () => {
    await Promise.all(drivers.map((driver) => driver.stop()));
    context.emit('ic-stopped', drivers.map((driver) => driver.ic.counters));
  };
}
