import { sharedBytes, type SharedBytes } from './shared-bytes.js';
import { EVENT_FLAGS_BYTES_PER_SINT, HV_MESSAGE_SIZE, SINT_COUNT, SYNIC_PAGE_SIZE } from './synic-message.js';
import { MONITOR_PAGE_SIZE } from './monitor-page.js';

/**
 * Where every piece of hypervisor state lives in shared memory, so that all
 * threads of a VM see one hypervisor: a control buffer (lock, doorbells, port
 * and connection tables) and one buffer per partition (its monitor page and,
 * per VP, the SIMP, the SIEFP, pending-SINT bits and the per-SINT queues).
 */

/** A partition of the simulated machine: its Hyper-V partition id and VP count. */
export interface PartitionConfig {
  readonly id: number;
  readonly vpCount: number;
}

/** Table sizes; every field has a default. */
export interface HvLimits {
  /** Ports the whole hypervisor can hold (default 1024). */
  readonly portCapacity: number;
  /** Connections the whole hypervisor can hold (default 2048; rounded up to a power of two). */
  readonly connectionCapacity: number;
  /**
   * Messages that may wait behind a busy slot, per VP and SINT (default 64).
   * Hyper-V bounds buffers per port; this bounds their sum on one SINT.
   */
  readonly sintQueueDepth: number;
  /**
   * Messages one port may have waiting (default 16: HV_PORT_MESSAGE_BUFFER_COUNT;
   * TLFS HvCreatePort "a set of sixteen message buffers").
   */
  readonly portMessageBuffers: number;
}

/** What a hypervisor is made of. */
export interface HypervisorConfig extends Partial<HvLimits> {
  readonly partitions: readonly PartitionConfig[];
}

/** Partitions are numbered 0..63 inside the tables (connection keys pack the index above a 24-bit id). */
export const MAX_PARTITIONS = 64;
/** VPs per partition. */
export const MAX_VPS = 64;

const DEFAULT_LIMITS: HvLimits = {
  portCapacity: 1024,
  connectionCapacity: 2048,
  sintQueueDepth: 64,
  portMessageBuffers: 16,
};

/** Word layout of the control buffer. */
export const CONTROL = {
  LOCK: 0,
  /** One doorbell word per partition index: bumped and notified when one of its SINTs is raised. */
  DOORBELLS: 16,
  PORTS: 16 + MAX_PARTITIONS,
  PORT_WORDS: 10,
  CONNECTION_WORDS: 4,
} as const;

const PAGE = SYNIC_PAGE_SIZE;

function roundUp(value: number, to: number): number {
  return Math.ceil(value / to) * to;
}

/**
 * One partition's buffer:
 *   page 0            monitor page written by this partition (HvMonitorPage)
 *   page 1            words 0..3: monitor-id allocation bitmap (128 bits)
 *   per VP, from page 2, `vpStride` bytes each:
 *     +0              SIMP: 16 message slots of 256 bytes
 *     +4096           SIEFP: 16 × 256 bytes of event flags
 *     +8192           word 0: pending-SINT bits; words 1+2s / 2+2s: queue head / count of SINT s
 *     +12288          queue entry tags: [port slot, port generation] per entry
 *     after the tags  queue entries: 256-byte HV_MESSAGEs, `depth` per SINT
 */
export class PartitionMemory {
  readonly bytes: SharedBytes;
  readonly vpStride: number;
  private readonly tagBytes: number;

  constructor(
    buffer: SharedArrayBuffer,
    readonly config: PartitionConfig,
    readonly queueDepth: number,
  ) {
    this.tagBytes = PartitionMemory.tagBytes(queueDepth);
    this.vpStride = PartitionMemory.vpStride(queueDepth);
    if (buffer.byteLength !== PartitionMemory.byteLength(config.vpCount, queueDepth)) {
      throw new RangeError(`partition ${config.id}: shared buffer has the wrong size`);
    }
    this.bytes = sharedBytes(buffer);
  }

  /** Size of the buffer for `vpCount` VPs with queues of `queueDepth`. */
  static byteLength(vpCount: number, queueDepth: number): number {
    return 2 * PAGE + vpCount * PartitionMemory.vpStride(queueDepth);
  }

  private static tagBytes(queueDepth: number): number {
    return roundUp(SINT_COUNT * queueDepth * 8, PAGE);
  }

  private static vpStride(queueDepth: number): number {
    return 3 * PAGE + PartitionMemory.tagBytes(queueDepth) + SINT_COUNT * queueDepth * HV_MESSAGE_SIZE;
  }

  readonly monitorPageOffset = 0;
  /** Word index of the 4-word monitor-id allocation bitmap. */
  readonly monitorAllocationIndex = MONITOR_PAGE_SIZE / 4;

  private vpBase(vp: number): number {
    return 2 * PAGE + vp * this.vpStride;
  }

  /** Byte offset of the SIMP slot of `sint`. */
  slotOffset(vp: number, sint: number): number {
    return this.vpBase(vp) + sint * HV_MESSAGE_SIZE;
  }

  /** Byte offset of the 256 event-flag bytes of `sint` in the SIEFP (4-aligned). */
  eventFlagsOffset(vp: number, sint: number): number {
    return this.vpBase(vp) + PAGE + sint * EVENT_FLAGS_BYTES_PER_SINT;
  }

  /** Word index of the VP's pending-SINT bits. */
  pendingIndex(vp: number): number {
    return (this.vpBase(vp) + 2 * PAGE) / 4;
  }

  /** Word index of the queue head of `sint`; the count is the next word. */
  queueHeadIndex(vp: number, sint: number): number {
    return this.pendingIndex(vp) + 1 + 2 * sint;
  }

  /** Word index of the tag (port slot, then port generation) of a queue entry. */
  queueTagIndex(vp: number, sint: number, entry: number): number {
    return (this.vpBase(vp) + 3 * PAGE) / 4 + (sint * this.queueDepth + entry) * 2;
  }

  /** Byte offset of a queue entry. */
  queueEntryOffset(vp: number, sint: number, entry: number): number {
    return this.vpBase(vp) + 3 * PAGE + this.tagBytes + (sint * this.queueDepth + entry) * HV_MESSAGE_SIZE;
  }
}

/** Everything a thread needs to reach a shared hypervisor; structured-clone-able (pass it in `workerData`). */
export interface SharedHypervisorDescriptor {
  readonly kind: 'kmcl-hv';
  readonly partitions: readonly PartitionConfig[];
  readonly limits: HvLimits;
  readonly control: SharedArrayBuffer;
  readonly partitionBuffers: readonly SharedArrayBuffer[];
}

/** The whole hypervisor state, as seen from one thread. */
export class HvMemory {
  readonly control: SharedBytes;
  readonly partitions: readonly PartitionMemory[];
  private readonly indexById: ReadonlyMap<number, number>;

  private constructor(
    readonly limits: HvLimits,
    control: SharedArrayBuffer,
    partitions: readonly PartitionConfig[],
    buffers: readonly SharedArrayBuffer[],
  ) {
    if (control.byteLength !== HvMemory.controlByteLength(limits)) {
      throw new RangeError('hypervisor control buffer has the wrong size');
    }
    this.control = sharedBytes(control);
    this.partitions = partitions.map((config, i) => {
      const buffer = buffers[i];
      if (buffer === undefined) throw new RangeError(`partition ${config.id}: no shared buffer`);
      return new PartitionMemory(buffer, config, limits.sintQueueDepth);
    });
    this.indexById = new Map(partitions.map((p, i) => [p.id, i]));
  }

  /** Allocates fresh shared memory for `config` (throws RangeError on an impossible config). */
  static allocate(config: HypervisorConfig): HvMemory {
    const limits = normalizeLimits(config);
    validatePartitions(config.partitions);
    return new HvMemory(
      limits,
      new SharedArrayBuffer(HvMemory.controlByteLength(limits)),
      config.partitions.map((p) => ({ id: p.id, vpCount: p.vpCount })),
      config.partitions.map((p) => new SharedArrayBuffer(PartitionMemory.byteLength(p.vpCount, limits.sintQueueDepth))),
    );
  }

  /** Views over memory another thread allocated. */
  static attach(descriptor: SharedHypervisorDescriptor): HvMemory {
    if (descriptor.kind !== 'kmcl-hv') throw new TypeError('not a kmcl hypervisor descriptor');
    validatePartitions(descriptor.partitions);
    // Re-derived, not trusted: the tables below index with these (the connection mask needs a power of two).
    const limits = normalizeLimits(descriptor.limits);
    return new HvMemory(limits, descriptor.control, descriptor.partitions, descriptor.partitionBuffers);
  }

  descriptor(): SharedHypervisorDescriptor {
    return {
      kind: 'kmcl-hv',
      partitions: this.partitions.map((p) => p.config),
      limits: this.limits,
      control: this.control.buffer,
      partitionBuffers: this.partitions.map((p) => p.bytes.buffer),
    };
  }

  /** Table index of partition `id`, or -1. */
  indexOf(id: number): number {
    return this.indexById.get(id) ?? -1;
  }

  get connectionsBase(): number {
    return CONTROL.PORTS + this.limits.portCapacity * CONTROL.PORT_WORDS;
  }

  private static controlByteLength(limits: HvLimits): number {
    const ports = limits.portCapacity * CONTROL.PORT_WORDS;
    return (CONTROL.PORTS + ports + limits.connectionCapacity * CONTROL.CONNECTION_WORDS) * 4;
  }
}

function normalizeLimits(config: Partial<HvLimits>): HvLimits {
  const pick = (name: keyof HvLimits, min: number, max: number): number => {
    const value = config[name] ?? DEFAULT_LIMITS[name];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${value}`);
    }
    return value;
  };
  const connections = pick('connectionCapacity', 2, 1 << 20);
  return {
    portCapacity: pick('portCapacity', 1, 1 << 20),
    connectionCapacity: 2 ** Math.ceil(Math.log2(connections)),
    sintQueueDepth: pick('sintQueueDepth', 1, 4096),
    portMessageBuffers: pick('portMessageBuffers', 1, 4096),
  };
}

function validatePartitions(partitions: readonly PartitionConfig[]): void {
  if (partitions.length === 0 || partitions.length > MAX_PARTITIONS) {
    throw new RangeError(`a hypervisor has 1..${MAX_PARTITIONS} partitions, got ${partitions.length}`);
  }
  const seen = new Set<number>();
  for (const { id, vpCount } of partitions) {
    if (!Number.isSafeInteger(id) || id < 0) throw new RangeError(`partition id must be a non-negative integer, got ${id}`);
    if (seen.has(id)) throw new RangeError(`partition id ${id} is used twice`);
    seen.add(id);
    if (!Number.isInteger(vpCount) || vpCount < 1 || vpCount > MAX_VPS) {
      throw new RangeError(`partition ${id}: vpCount must be 1..${MAX_VPS}, got ${vpCount}`);
    }
  }
}
