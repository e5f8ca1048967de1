import { HV_STATUS, type HvStatus } from './hv-status.js';
import { CONTROL, type HvMemory } from './hv-memory.js';

/**
 * The hypervisor's ports and connections, in the shared control buffer.
 *
 * A port belongs to the partition that receives through it and names where
 * deliveries land (VP, SINT, event flags). A connection belongs to the
 * partition that sends through it and names a port. Ids are 24-bit and scoped
 * by their partition, as on Hyper-V (TLFS HvCreatePort / HvConnectPort:
 * "unique among all ... identifiers for the partition").
 *
 * Not thread-safe by itself: every method runs under the hypervisor lock.
 */

/** HV_PORT_TYPE values (TLFS HV_PORT_TYPE: Message 1, Event 2, Monitor 3). */
export const HV_PORT_TYPE = { MESSAGE: 1, EVENT: 2 } as const;
export type HvPortType = (typeof HV_PORT_TYPE)[keyof typeof HV_PORT_TYPE];

/** HV_PORT_ID and HV_CONNECTION_ID carry a 24-bit id (Linux hvgdk_mini.h `union hv_port_id { u32 id:24 }`). */
export const HV_ID_LIMIT = 1 << 24;

/** Where a port delivers. */
export interface PortTarget {
  readonly type: HvPortType;
  readonly vp: number;
  readonly sint: number;
  /** Event ports: first SIEF flag of the port and how many it owns (HV_PORT_INFO EventPortInfo). */
  readonly baseFlagNumber: number;
  readonly flagCount: number;
}

/** Port record words. */
const PORT = {
  STATE: 0,
  /** Bumped on delete, so a connection made to an older port at this slot no longer resolves. */
  GENERATION: 1,
  PARTITION: 2,
  PORT_ID: 3,
  TYPE: 4,
  VP: 5,
  SINT: 6,
  BASE_FLAG: 7,
  FLAG_COUNT: 8,
  /** Messages from this port waiting in a SINT queue. */
  BUFFERED: 9,
} as const;

/** Connection record words (an open-addressing hash table keyed by partition index and id). */
const CONNECTION = { STATE: 0, KEY: 1, PORT_SLOT: 2, PORT_GENERATION: 3 } as const;

const FREE = 0;
const USED = 1;
/** A deleted connection that a probe sequence must walk past. */
const TOMBSTONE = 2;

/** `resolve` results that are not a port slot. */
export const UNKNOWN_CONNECTION = -1;
export const DELETED_PORT = -2;

export class PortTable {
  private readonly words: Int32Array;
  private readonly portCapacity: number;
  private readonly connectionsBase: number;
  private readonly connectionMask: number;
  private readonly hashShift: number;

  constructor(memory: HvMemory) {
    this.words = memory.control.i32;
    this.portCapacity = memory.limits.portCapacity;
    this.connectionsBase = memory.connectionsBase;
    this.connectionMask = memory.limits.connectionCapacity - 1;
    this.hashShift = 32 - Math.log2(memory.limits.connectionCapacity);
  }

  createPort(partition: number, portId: number, target: PortTarget): HvStatus {
    if (this.findPort(partition, portId) >= 0) return HV_STATUS.INVALID_PORT_ID;
    for (let slot = 0; slot < this.portCapacity; slot++) {
      const at = this.portAt(slot);
      if (this.words[at + PORT.STATE] !== FREE) continue;
      const w = this.words;
      w[at + PORT.PARTITION] = partition;
      w[at + PORT.PORT_ID] = portId;
      w[at + PORT.TYPE] = target.type;
      w[at + PORT.VP] = target.vp;
      w[at + PORT.SINT] = target.sint;
      w[at + PORT.BASE_FLAG] = target.baseFlagNumber;
      w[at + PORT.FLAG_COUNT] = target.flagCount;
      w[at + PORT.BUFFERED] = 0;
      w[at + PORT.STATE] = USED;
      return HV_STATUS.SUCCESS;
    }
    return HV_STATUS.INSUFFICIENT_MEMORY;
  }

  /** Frees the port; connections to it stay but fail with INVALID_PORT_ID (TLFS HvDeletePort remarks). */
  deletePort(partition: number, portId: number): HvStatus {
    const slot = this.findPort(partition, portId);
    if (slot < 0) return HV_STATUS.INVALID_PORT_ID;
    const at = this.portAt(slot);
    this.words[at + PORT.STATE] = FREE;
    this.words[at + PORT.GENERATION] = (this.words[at + PORT.GENERATION]! + 1) | 0;
    return HV_STATUS.SUCCESS;
  }

  connect(partition: number, connectionId: number, portPartition: number, portId: number): HvStatus {
    const slot = this.findPort(portPartition, portId);
    if (slot < 0) return HV_STATUS.INVALID_PORT_ID;
    const key = connectionKey(partition, connectionId);
    let reuse = -1;
    let index = this.home(key);
    for (let probes = 0; probes <= this.connectionMask; probes++, index = (index + 1) & this.connectionMask) {
      const at = this.connectionAt(index);
      const state = this.words[at + CONNECTION.STATE];
      if (state === USED && this.words[at + CONNECTION.KEY] === key) return HV_STATUS.INVALID_CONNECTION_ID;
      if (state === TOMBSTONE && reuse < 0) reuse = index;
      if (state === FREE) {
        if (reuse < 0) reuse = index;
        break;
      }
    }
    if (reuse < 0) return HV_STATUS.INSUFFICIENT_MEMORY;
    const at = this.connectionAt(reuse);
    this.words[at + CONNECTION.KEY] = key;
    this.words[at + CONNECTION.PORT_SLOT] = slot;
    this.words[at + CONNECTION.PORT_GENERATION] = this.words[this.portAt(slot) + PORT.GENERATION]!;
    this.words[at + CONNECTION.STATE] = USED;
    return HV_STATUS.SUCCESS;
  }

  disconnect(partition: number, connectionId: number): HvStatus {
    let index = this.findConnection(connectionKey(partition, connectionId));
    if (index < 0) return HV_STATUS.INVALID_CONNECTION_ID;
    this.setConnectionState(index, TOMBSTONE);
    // A tombstone right before a free entry ends no probe early: free it, and the run of tombstones before it.
    if (this.connectionState((index + 1) & this.connectionMask) === FREE) {
      while (this.connectionState(index) === TOMBSTONE) {
        this.setConnectionState(index, FREE);
        index = (index - 1) & this.connectionMask;
      }
    }
    return HV_STATUS.SUCCESS;
  }

  /** The port slot a connection reaches, or UNKNOWN_CONNECTION / DELETED_PORT. */
  resolve(partition: number, connectionId: number): number {
    const index = this.findConnection(connectionKey(partition, connectionId));
    if (index < 0) return UNKNOWN_CONNECTION;
    const at = this.connectionAt(index);
    const slot = this.words[at + CONNECTION.PORT_SLOT]!;
    return this.isLive(slot, this.words[at + CONNECTION.PORT_GENERATION]!) ? slot : DELETED_PORT;
  }

  /** True if `slot` still holds the port it held at `generation`. */
  isLive(slot: number, generation: number): boolean {
    const at = this.portAt(slot);
    return this.words[at + PORT.STATE] === USED && this.words[at + PORT.GENERATION] === generation;
  }

  generation(slot: number): number {
    return this.words[this.portAt(slot) + PORT.GENERATION]!;
  }

  partitionOf(slot: number): number {
    return this.words[this.portAt(slot) + PORT.PARTITION]!;
  }

  portIdOf(slot: number): number {
    return this.words[this.portAt(slot) + PORT.PORT_ID]!;
  }

  /** The delivery target of a live port. */
  targetOf(slot: number): PortTarget {
    const at = this.portAt(slot);
    const w = this.words;
    return {
      type: w[at + PORT.TYPE] as HvPortType,
      vp: w[at + PORT.VP]!,
      sint: w[at + PORT.SINT]!,
      baseFlagNumber: w[at + PORT.BASE_FLAG]!,
      flagCount: w[at + PORT.FLAG_COUNT]!,
    };
  }

  buffered(slot: number): number {
    return this.words[this.portAt(slot) + PORT.BUFFERED]!;
  }

  addBuffered(slot: number, delta: number): void {
    this.words[this.portAt(slot) + PORT.BUFFERED]! += delta;
  }

  private findPort(partition: number, portId: number): number {
    for (let slot = 0; slot < this.portCapacity; slot++) {
      const at = this.portAt(slot);
      if (
        this.words[at + PORT.STATE] === USED &&
        this.words[at + PORT.PARTITION] === partition &&
        this.words[at + PORT.PORT_ID] === portId
      ) {
        return slot;
      }
    }
    return -1;
  }

  private findConnection(key: number): number {
    let index = this.home(key);
    for (let probes = 0; probes <= this.connectionMask; probes++, index = (index + 1) & this.connectionMask) {
      const at = this.connectionAt(index);
      const state = this.words[at + CONNECTION.STATE];
      if (state === FREE) return -1;
      if (state === USED && this.words[at + CONNECTION.KEY] === key) return index;
    }
    return -1;
  }

  private home(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> this.hashShift;
  }

  private connectionState(index: number): number {
    return this.words[this.connectionAt(index) + CONNECTION.STATE]!;
  }

  private setConnectionState(index: number, state: number): void {
    this.words[this.connectionAt(index) + CONNECTION.STATE] = state;
  }

  private portAt(slot: number): number {
    return CONTROL.PORTS + slot * CONTROL.PORT_WORDS;
  }

  private connectionAt(index: number): number {
    return this.connectionsBase + index * CONTROL.CONNECTION_WORDS;
  }
}

function connectionKey(partition: number, connectionId: number): number {
  return partition * HV_ID_LIMIT + connectionId;
}
