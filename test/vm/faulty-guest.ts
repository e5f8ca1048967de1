/**
 * A guest module that goes wrong on purpose, for the VM's error tests; what
 * it does comes from `data.fault`:
 * - 'start': its start throws;
 * - 'teardown': its teardown throws;
 * - 'crash': once the host offers CRASH_TRIGGER, its thread throws outside
 *   any call of the VM's (workers mode only: in one thread it would take the
 *   test runner down);
 * - 'linger': it leaves an interval timer running, so its worker never ends by itself.
 */
import type { GuestContext, Teardown } from '../../src/vm/index.js';

export type Fault = 'start' | 'teardown' | 'crash' | 'linger';

/** The offer that makes a 'crash' guest crash (a test GUID), so the test decides when: after boot. */
export const CRASH_TRIGGER = '9d8c7b6a-5f4e-4d3c-8b2a-19f8e7d6c5b4';

export default function faultyGuest(context: GuestContext): Teardown | void {
  const { fault } = context.data as { fault: Fault };
  switch (fault) {
    case 'start':
      throw new Error(`driver init failed in ${context.name}`);
    case 'teardown':
      return () => {
        throw new Error(`driver unload failed in ${context.name}`);
      };
    case 'crash':
      void context.bus.waitForOffer({ interfaceId: CRASH_TRIGGER }).then(() =>
        setImmediate(() => {
          throw new Error(`driver crashed in ${context.name}`);
        }),
      );
      return;
    case 'linger':
      setInterval(() => undefined, 1000);
      return;
  }
}
