import { HV_STATUS, type HvStatus } from './hv-status.js';
import { CONTROL, type HvMemory } from './hv-memory.js';
import { DELETED_PORT, HV_ID_LIMIT, HV_PORT_TYPE, PortTable, UNKNOWN_CONNECTION, type PortTarget } from './port-table.js';
import type { HvScheduler } from './scheduler.js';
import { SpinLock } from './spin-lock.js';
import { Synic } from './synic.js';
import {
  EVENT_FLAG_COUNT,
  FIRST_PORT_SINT,
  HV_MESSAGE_PAYLOAD_MAX,
  HV_MESSAGE_TYPE_HYPERVISOR_BIT,
  SINT_COUNT,
} from './synic-message.js';

/** Dispatches one raised SINT of a partition in the thread that receives for it. */
export type SintDispatcher = (vp: number, sint: number) => void;

/**
 * The hypercalls of the simulated hypervisor (HvCreatePort, HvDeletePort,
 * HvConnectPort, HvDisconnectPort, HvPostMessage, HvSignalEvent, and the EOM
 * register), as one thread performs them on the shared state. Partitions are
 * named by table index here; `Partition` is the public face.
 *
 * Results follow the TLFS pages of each call; checks that need no shared
 * state come first, then the lookup under the lock, then the raise after it,
 * so no partition code ever runs while the lock is held.
 */
export class Hypercalls {
  readonly ports: PortTable;
  readonly synic: Synic;
  private readonly lock: SpinLock;
  private readonly dispatchers: SintDispatcher[] = [];

  constructor(
    readonly memory: HvMemory,
    readonly scheduler: HvScheduler,
  ) {
    this.ports = new PortTable(memory);
    this.synic = new Synic(memory, this.ports);
    this.lock = new SpinLock(memory.control.i32, CONTROL.LOCK);
  }

  /** Who runs a raised SINT of `partition` when this thread's scheduler dispatches it. */
  setDispatcher(partition: number, dispatcher: SintDispatcher): void {
    this.dispatchers[partition] = dispatcher;
  }

  createPort(partition: number, portId: number, target: PortTarget): HvStatus {
    if (!isHvId(portId)) return HV_STATUS.INVALID_PORT_ID;
    if (!isIndex(target.vp, this.vpCount(partition))) return HV_STATUS.INVALID_VP_INDEX;
    if (!Number.isInteger(target.sint) || target.sint < FIRST_PORT_SINT || target.sint >= SINT_COUNT) {
      return HV_STATUS.INVALID_PARAMETER;
    }
    if (
      target.type === HV_PORT_TYPE.EVENT &&
      !(isIndex(target.baseFlagNumber, EVENT_FLAG_COUNT) && Number.isInteger(target.flagCount) &&
        target.flagCount >= 1 && target.baseFlagNumber + target.flagCount <= EVENT_FLAG_COUNT)
    ) {
      return HV_STATUS.INVALID_PARAMETER;
    }
    return this.lock.hold(() => this.ports.createPort(partition, portId, target));
  }

  deletePort(partition: number, portId: number): HvStatus {
    if (!isHvId(portId)) return HV_STATUS.INVALID_PORT_ID;
    return this.lock.hold(() => this.ports.deletePort(partition, portId));
  }

  connect(partition: number, connectionId: number, portPartitionId: number, portId: number): HvStatus {
    if (!isHvId(connectionId)) return HV_STATUS.INVALID_CONNECTION_ID;
    const portPartition = this.memory.indexOf(portPartitionId);
    if (portPartition < 0) return HV_STATUS.INVALID_PARTITION_ID;
    if (!isHvId(portId)) return HV_STATUS.INVALID_PORT_ID;
    return this.lock.hold(() => this.ports.connect(partition, connectionId, portPartition, portId));
  }

  disconnect(partition: number, connectionId: number): HvStatus {
    if (!isHvId(connectionId)) return HV_STATUS.INVALID_CONNECTION_ID;
    return this.lock.hold(() => this.ports.disconnect(partition, connectionId));
  }

  /** HvPostMessage from `partition` (TLFS HvCallPostMessage). */
  postMessage(partition: number, connectionId: number, messageType: number, payload: Uint8Array): HvStatus {
    if (!Number.isInteger(messageType) || messageType <= 0 || messageType >= HV_MESSAGE_TYPE_HYPERVISOR_BIT) {
      return HV_STATUS.INVALID_PARAMETER;
    }
    if (payload.length > HV_MESSAGE_PAYLOAD_MAX) return HV_STATUS.INVALID_PARAMETER;
    if (!isHvId(connectionId)) return HV_STATUS.INVALID_CONNECTION_ID;
    let target: PortTarget | undefined;
    let receiver = -1;
    const status = this.lock.hold((): HvStatus => {
      const slot = this.ports.resolve(partition, connectionId);
      if (slot === UNKNOWN_CONNECTION) return HV_STATUS.INVALID_CONNECTION_ID;
      if (slot === DELETED_PORT) return HV_STATUS.INVALID_PORT_ID;
      const port = this.ports.targetOf(slot);
      if (port.type !== HV_PORT_TYPE.MESSAGE) return HV_STATUS.INVALID_PORT_ID;
      receiver = this.ports.partitionOf(slot);
      const outcome = this.synic.post(receiver, port.vp, port.sint, slot, messageType, payload);
      if (outcome === 'no-buffers') return HV_STATUS.INSUFFICIENT_BUFFERS;
      if (outcome === 'slot') target = port;
      return HV_STATUS.SUCCESS;
    });
    if (target !== undefined) this.raise(receiver, target.vp, target.sint);
    return status;
  }

  /** HvSignalEvent from `partition` (TLFS HvCallSignalEvent); `flagNumber` is relative to the port's base flag. */
  signalEvent(partition: number, connectionId: number, flagNumber: number): HvStatus {
    if (!isHvId(connectionId)) return HV_STATUS.INVALID_CONNECTION_ID;
    if (!isIndex(flagNumber, 0x1_0000)) return HV_STATUS.INVALID_PARAMETER;
    let target: PortTarget | undefined;
    let receiver = -1;
    const status = this.lock.hold((): HvStatus => {
      const slot = this.ports.resolve(partition, connectionId);
      if (slot === UNKNOWN_CONNECTION) return HV_STATUS.INVALID_CONNECTION_ID;
      if (slot === DELETED_PORT) return HV_STATUS.INVALID_PORT_ID;
      const port = this.ports.targetOf(slot);
      if (port.type !== HV_PORT_TYPE.EVENT) return HV_STATUS.INVALID_PORT_ID;
      if (flagNumber >= port.flagCount) return HV_STATUS.INVALID_PARAMETER;
      receiver = this.ports.partitionOf(slot);
      target = port;
      return HV_STATUS.SUCCESS;
    });
    if (target === undefined) return status;
    // HvSignalEvent raises the SINT only when the flag goes from clear to set (TLFS "Event Flag Delivery").
    if (this.synic.setEventFlag(receiver, target.vp, target.sint, target.baseFlagNumber + flagNumber)) {
      this.raise(receiver, target.vp, target.sint);
    }
    return status;
  }

  /** End of message on the SINT's slot: the next queued message, if any, takes its place and raises the SINT. */
  endOfMessage(partition: number, vp: number, sint: number): void {
    if (this.lock.hold(() => this.synic.endOfMessage(partition, vp, sint))) this.raise(partition, vp, sint);
  }

  /** Asserts the SINT: if it was not already pending, the receiving thread is woken to dispatch it. */
  raise(partition: number, vp: number, sint: number): void {
    if (!this.synic.markPending(partition, vp, sint)) return;
    this.scheduler.wake(partition, () => this.dispatchers[partition]?.(vp, sint));
  }

  private vpCount(partition: number): number {
    return this.memory.partitions[partition]?.config.vpCount ?? 0;
  }
}

function isHvId(id: number): boolean {
  return isIndex(id, HV_ID_LIMIT);
}

function isIndex(value: number, limit: number): boolean {
  return Number.isInteger(value) && value >= 0 && value < limit;
}
