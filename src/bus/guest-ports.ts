/**
 * The ports the host bus keeps in the guest partition, and its connections to
 * them: one message port per (VP, SINT) the server sends to, and one event
 * port per VP that channel interrupts target. Made on first use, as the root
 * partition makes a child's ports (HvCreatePort names the partition).
 *
 * A VP's event port spans all 2048 flags of the bus SINT (base 0), so the host
 * signals a channel by setting its event flag, the channel id unless the guest
 * chose another in OpenChannel2 (openvmm-vmbus.md §6.1 "the default event flag
 * is the channel ID"); the guest finds the flag in its SIEF slot, as Linux's
 * `vmbus_chan_sched` does (linux-vmbus.md §A.1.4).
 */
import { EVENT_FLAG_COUNT, HV_STATUS, hvStatusName, type Partition } from '../hv/index.js';
import { VMBUS_SINT } from '../wire/messages/index.js';
import { guestEventPortId, guestMessagePortId, hostEventConnectionId, hostMessageConnectionId } from './hv-ids.js';

export class GuestPorts {
  readonly #host: Partition;
  readonly #guest: Partition;
  readonly #hostSint: number;
  /** Host connection id by `vp * 16 + sint`. */
  readonly #messageConnections = new Map<number, number>();
  /** Host connection id by VP. */
  readonly #eventConnections = new Map<number, number>();

  constructor(host: Partition, guest: Partition, hostSint: number) {
    this.#host = host;
    this.#guest = guest;
    this.#hostSint = hostSint;
  }

  /** The host connection id that posts to the guest's `vp`/`sint` message slot, or why there is none. */
  messageConnection(vp: number, sint: number): number | string {
    const key = vp * 16 + sint;
    const known = this.#messageConnections.get(key);
    if (known !== undefined) return known;
    const portId = guestMessagePortId(vp, sint);
    const connectionId = hostMessageConnectionId(this.#hostSint, vp, sint);
    const made = this.#make(connectionId, portId, () => this.#guest.createMessagePort(portId, { vp, sint }));
    if (typeof made === 'string') return `no message port on guest VP ${vp} SINT ${sint}: ${made}`;
    this.#messageConnections.set(key, connectionId);
    return connectionId;
  }

  /** The host connection id that sets event flags on the guest's `vp`, or why there is none. */
  eventConnection(vp: number): number | string {
    const known = this.#eventConnections.get(vp);
    if (known !== undefined) return known;
    const portId = guestEventPortId(vp, VMBUS_SINT);
    const connectionId = hostEventConnectionId(this.#hostSint, vp);
    const made = this.#make(connectionId, portId, () =>
      this.#guest.createEventPort(portId, { vp, sint: VMBUS_SINT, baseFlagNumber: 0, flagCount: EVENT_FLAG_COUNT }),
    );
    if (typeof made === 'string') return `no event port on guest VP ${vp}: ${made}`;
    this.#eventConnections.set(vp, connectionId);
    return connectionId;
  }

  /** Ports and connections held. */
  get size(): number {
    return this.#messageConnections.size + this.#eventConnections.size;
  }

  /** Disconnects and deletes everything made here. */
  close(): void {
    for (const [key, connectionId] of this.#messageConnections) {
      this.#host.disconnect(connectionId);
      this.#guest.deletePort(guestMessagePortId(Math.floor(key / 16), key % 16));
    }
    for (const [vp, connectionId] of this.#eventConnections) {
      this.#host.disconnect(connectionId);
      this.#guest.deletePort(guestEventPortId(vp, VMBUS_SINT));
    }
    this.#messageConnections.clear();
    this.#eventConnections.clear();
  }

  #make(connectionId: number, portId: number, createPort: () => number): string | undefined {
    const created = createPort();
    if (created !== HV_STATUS.SUCCESS) return `HvCreatePort failed with ${hvStatusName(created)}`;
    const connected = this.#host.connect(connectionId, { partitionId: this.#guest.id, portId });
    if (connected === HV_STATUS.SUCCESS) return undefined;
    this.#guest.deletePort(portId);
    return `HvConnectPort failed with ${hvStatusName(connected)}`;
  }
}
