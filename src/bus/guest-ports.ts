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
    return this.#messageConnection(vp, sint, false);
  }

  /** The host connection id that sets event flags on the guest's `vp`, or why there is none. */
  eventConnection(vp: number): number | string {
    return this.#eventConnection(vp, false);
  }

  /** What was made, for a saved state: message ports by VP and SINT, event ports by VP. */
  held(): { readonly messagePorts: { vp: number; sint: number }[]; readonly eventPorts: number[] } {
    return {
      messagePorts: [...this.#messageConnections.keys()].map((key) => ({ vp: Math.floor(key / 16), sint: key % 16 })),
      eventPorts: [...this.#eventConnections.keys()],
    };
  }

  /**
   * Takes over the ports and connections a servicing predecessor made and
   * kept (any that are gone are made again); why not, if one cannot be had.
   */
  adopt(messagePorts: readonly { vp: number; sint: number }[], eventPorts: readonly number[]): string | undefined {
    for (const { vp, sint } of messagePorts) {
      const connectionId = this.#messageConnection(vp, sint, true);
      if (typeof connectionId === 'string') return connectionId;
    }
    for (const vp of eventPorts) {
      const connectionId = this.#eventConnection(vp, true);
      if (typeof connectionId === 'string') return connectionId;
    }
    return undefined;
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

  #messageConnection(vp: number, sint: number, adopt: boolean): number | string {
    const key = vp * 16 + sint;
    const known = this.#messageConnections.get(key);
    if (known !== undefined) return known;
    const portId = guestMessagePortId(vp, sint);
    const connectionId = hostMessageConnectionId(this.#hostSint, vp, sint);
    const made = this.#make(connectionId, portId, () => this.#guest.createMessagePort(portId, { vp, sint }), adopt);
    if (typeof made === 'string') return `no message port on guest VP ${vp} SINT ${sint}: ${made}`;
    this.#messageConnections.set(key, connectionId);
    return connectionId;
  }

  #eventConnection(vp: number, adopt: boolean): number | string {
    const known = this.#eventConnections.get(vp);
    if (known !== undefined) return known;
    const portId = guestEventPortId(vp, VMBUS_SINT);
    const connectionId = hostEventConnectionId(this.#hostSint, vp);
    const made = this.#make(
      connectionId,
      portId,
      () => this.#guest.createEventPort(portId, { vp, sint: VMBUS_SINT, baseFlagNumber: 0, flagCount: EVENT_FLAG_COUNT }),
      adopt,
    );
    if (typeof made === 'string') return `no event port on guest VP ${vp}: ${made}`;
    this.#eventConnections.set(vp, connectionId);
    return connectionId;
  }

  /** Makes the port and the host's connection to it; with `adopt`, ones that exist already are taken as they are. */
  #make(connectionId: number, portId: number, createPort: () => number, adopt: boolean): string | undefined {
    const created = createPort();
    const adopted = adopt && created === HV_STATUS.INVALID_PORT_ID;
    if (created !== HV_STATUS.SUCCESS && !adopted) return `HvCreatePort failed with ${hvStatusName(created)}`;
    const connected = this.#host.connect(connectionId, { partitionId: this.#guest.id, portId });
    if (connected === HV_STATUS.SUCCESS || (adopted && connected === HV_STATUS.INVALID_CONNECTION_ID)) return undefined;
    if (!adopted) this.#guest.deletePort(portId);
    return `HvConnectPort failed with ${hvStatusName(connected)}`;
  }
}
