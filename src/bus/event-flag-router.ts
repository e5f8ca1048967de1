/**
 * Hands the event flags a partition receives on the bus SINT to the channel
 * endpoints they belong to. A flag is set by the peer's HvSignalEvent (or by a
 * monitor-page scan on its behalf); the hypervisor clears it and calls us with
 * its number, so one flag is one signal (linux-vmbus.md §A.1.4 "Host→guest
 * channel signal": the guest scans the SINT's 2048 flags, one per channel).
 */
import type { Partition } from '../hv/index.js';
import type { RingEndpoint } from './channel-endpoint.js';

interface VpRoutes {
  readonly stop: () => void;
  readonly flags: Map<number, RingEndpoint>;
}

export class EventFlagRouter {
  readonly #partition: Partition;
  readonly #sint: number;
  readonly #onStrayFlag: (vp: number, flag: number) => void;
  readonly #vps = new Map<number, VpRoutes>();

  constructor(partition: Partition, sint: number, onStrayFlag: (vp: number, flag: number) => void) {
    this.#partition = partition;
    this.#sint = sint;
    this.#onStrayFlag = onStrayFlag;
  }

  /** Sends flag `flag` of `vp` to `endpoint`, listening on that VP from the first route on. */
  route(vp: number, flag: number, endpoint: RingEndpoint): void {
    let routes = this.#vps.get(vp);
    if (routes === undefined) {
      const flags = new Map<number, RingEndpoint>();
      const stop = this.#partition.onEvent(vp, this.#sint, (received) => {
        const target = flags.get(received);
        if (target === undefined) this.#onStrayFlag(vp, received);
        else target.deliverSignal();
      });
      routes = { stop, flags };
      this.#vps.set(vp, routes);
    }
    routes.flags.set(flag, endpoint);
  }

  /** Stops routing `flag` of `vp` (if it still goes to `endpoint`). */
  unroute(vp: number, flag: number, endpoint: RingEndpoint): void {
    const routes = this.#vps.get(vp);
    if (routes?.flags.get(flag) === endpoint) routes.flags.delete(flag);
  }

  /** Flags routed, over every VP. */
  get size(): number {
    let count = 0;
    for (const routes of this.#vps.values()) count += routes.flags.size;
    return count;
  }

  /** Stops listening on every VP. */
  close(): void {
    for (const routes of this.#vps.values()) routes.stop();
    this.#vps.clear();
  }
}
