/**
 * The host's message ports, one per message connection id the guest may post
 * on (1, 4 and the server's own), and the guest's connections to them. One
 * port per id because the server must know which id a message came on
 * (hv-ids.ts `hostMessagePortId`).
 */
import { HV_STATUS, hvStatusName, type Partition } from '../hv/index.js';
import { NTSTATUS } from '../wire/ntstatus.js';
import { BusError } from './bus-error.js';

export class HostMessagePorts {
  readonly #host: Partition;
  readonly #guest: Partition;
  /** The guest's message connection id by the host port it arrives through. */
  readonly #connections = new Map<number, number>();

  constructor(host: Partition, guest: Partition) {
    this.#host = host;
    this.#guest = guest;
  }

  /**
   * Makes port `portId` on the host's `vp`/`sint` and connects the guest's
   * `connectionId` to it. With `adopt` (a restore), a port and connection a
   * servicing predecessor kept are taken over. Throws a BusError when another
   * bus owns them.
   */
  open(connectionId: number, portId: number, vp: number, sint: number, adopt: boolean): void {
    const created = this.#host.createMessagePort(portId, { vp, sint });
    const adopted = adopt && created === HV_STATUS.INVALID_PORT_ID;
    if (created !== HV_STATUS.SUCCESS && !adopted) throw setupError(`host message port ${portId}`, created);
    const connected = this.#guest.connect(connectionId, { partitionId: this.#host.id, portId });
    if (connected !== HV_STATUS.SUCCESS && !(adopted && connected === HV_STATUS.INVALID_CONNECTION_ID)) {
      if (!adopted) this.#host.deletePort(portId);
      throw setupError(`guest message connection ${connectionId}`, connected);
    }
    this.#connections.set(portId, connectionId);
  }

  /** The guest's connection id behind host port `portId`, if it is one of ours. */
  connectionOf(portId: number): number | undefined {
    return this.#connections.get(portId);
  }

  /** The guest's message connection ids, in the order they were opened. */
  connectionIds(): number[] {
    return [...this.#connections.values()];
  }

  get size(): number {
    return this.#connections.size;
  }

  /** Disconnects the guest and deletes every port. */
  close(): void {
    for (const [portId, connectionId] of this.#connections) {
      this.#guest.disconnect(connectionId);
      this.#host.deletePort(portId);
    }
    this.#connections.clear();
  }
}

/** A port or connection the bus needs is taken: a setup error, not peer input. */
function setupError(what: string, status: number): BusError {
  return new BusError(NTSTATUS.STATUS_INVALID_DEVICE_STATE, `${what}: ${hvStatusName(status)} (another bus owns it?)`);
}
