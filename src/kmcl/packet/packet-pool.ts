/**
 * A channel's packet objects: the lookaside list VmbPacketAllocate takes from,
 * and the slot table that turns a transaction id back into its packet.
 *
 * A transaction id is two u32 halves: the packet's slot (low) and that slot's
 * generation (high), bumped on every send and on every cancellation. A
 * completion from the peer is accepted only for a packet waiting for one,
 * with the generation of its current send: a forged, stale or repeated id
 * matches nothing and is dropped (and counted by the caller).
 *
 * A transaction restored from a saved channel (VmbPacketRestore) keeps the id
 * it was sent under before the save; the pool finds it by that id, and makes
 * sure no new send of this pool can take the same id.
 */
import { KmclPacket, PACKET_AWAITING_COMPLETION, PACKET_IDLE, EMPTY_BYTES, type RestoredTransactionId } from './packet.js';
import type { KmclChannel } from '../channel/channel.js';

export class PacketPool {
  /** Pooled packets handed out and not freed (what VmbChannelInitSetMaximumPacketCount bounds). */
  liveCount = 0;
  private readonly slots: (KmclPacket | undefined)[] = [];
  private generations = new Uint32Array(16);
  private readonly freeSlots: number[] = [];
  private readonly lookaside: KmclPacket[] = [];
  /** Restored transactions waiting for their completion, by `lo:hi`. */
  private readonly restored = new Map<string, KmclPacket>();

  constructor(private readonly channel: KmclChannel) {}

  /** Packet objects ever made for this channel (pooled or in caller storage). */
  get createdCount(): number {
    return this.slots.length - this.freeSlots.length;
  }

  /** A packet from the lookaside list, or a new one; null at the maximum packet count. */
  allocate(): KmclPacket | null {
    const maximum = this.channel.config.maximumPacketCount;
    if (maximum !== 0 && this.liveCount >= maximum) return null;
    let packet = this.lookaside.pop();
    if (packet === undefined) {
      packet = new KmclPacket(this.channel, this.takeSlot(), null, new Uint8Array(this.channel.config.inlinePacketContextSize));
      this.slots[packet.slot] = packet;
    }
    packet.live = true;
    this.liveCount++;
    return packet;
  }

  /** A packet object laid out in the caller's storage (VmbPacketInitialize). */
  initializeIn(storage: Uint8Array, inlineContext: Uint8Array): KmclPacket {
    const packet = new KmclPacket(this.channel, this.takeSlot(), storage, inlineContext);
    this.slots[packet.slot] = packet;
    return packet;
  }

  /** Returns a pooled packet to the lookaside list; its handle is invalid until handed out again. */
  free(packet: KmclPacket): void {
    resetPacket(packet);
    packet.live = false;
    this.liveCount--;
    this.lookaside.push(packet);
  }

  /** Forgets a packet in caller storage (the storage is being reinitialized or the channel cleaned up). */
  release(packet: KmclPacket): void {
    packet.live = false;
    this.slots[packet.slot] = undefined;
    this.freeSlots.push(packet.slot);
  }

  /** Starts a send: bumps the slot's generation and returns it (never 0). */
  nextGeneration(slot: number): number {
    const next = (this.generations[slot]! + 1) >>> 0 || 1;
    this.generations[slot] = next;
    return next;
  }

  /** The generation of the slot's current send. */
  generation(slot: number): number {
    return this.generations[slot]!;
  }

  /** The packet waiting for the completion with this id, or null (unknown, stale or repeated id). */
  awaiting(transactionIdLo: number, transactionIdHi: number): KmclPacket | null {
    const packet = this.slots[transactionIdLo];
    if (packet !== undefined && packet.state === PACKET_AWAITING_COMPLETION && this.generations[transactionIdLo] === transactionIdHi) {
      return packet;
    }
    return this.restored.size === 0 ? null : this.takeRestored(transactionIdLo, transactionIdHi);
  }

  /** The id the peer completes `packet`'s transaction with: the restored one, or its slot and generation. */
  transactionIdOf(packet: KmclPacket): RestoredTransactionId {
    return packet.restoredId ?? { lo: packet.slot, hi: this.generations[packet.slot]! };
  }

  /**
   * Makes `packet` wait for the completion of a transaction sent before a
   * save under `id`. False when a restored transaction already has that id.
   * The id's slot generation is moved past it, so no later send repeats it.
   */
  restoreAwaiting(packet: KmclPacket, id: RestoredTransactionId): boolean {
    const key = restoredKey(id.lo, id.hi);
    const holder = this.restored.get(key);
    if (holder !== undefined && waitsFor(holder, id.lo, id.hi)) return false;
    this.growGenerations(id.lo + 1);
    if (this.generations[id.lo]! < id.hi) this.generations[id.lo] = id.hi;
    packet.restoredId = { lo: id.lo, hi: id.hi };
    packet.state = PACKET_AWAITING_COMPLETION;
    this.restored.set(key, packet);
    return true;
  }

  /** Drops the restored ids (their transactions were all cancelled). */
  forgetRestored(): void {
    this.restored.clear();
  }

  /** Every packet object made for the channel and not released. */
  *packets(): IterableIterator<KmclPacket> {
    for (const packet of this.slots) if (packet !== undefined) yield packet;
  }

  /** Invalidates every handle (channel cleanup). */
  dispose(): void {
    for (const packet of this.packets()) packet.live = false;
    this.lookaside.length = 0;
  }

  private takeSlot(): number {
    const reused = this.freeSlots.pop();
    if (reused !== undefined) return reused;
    const slot = this.slots.length;
    this.slots.push(undefined);
    this.growGenerations(slot + 1);
    return slot;
  }

  /** Room for `count` slot generations (existing ones kept). */
  private growGenerations(count: number): void {
    if (count <= this.generations.length) return;
    const grown = new Uint32Array(Math.max(this.generations.length * 2, count));
    grown.set(this.generations);
    this.generations = grown;
  }

  /** A restored transaction's packet, taken out of the table, if it still waits for this completion. */
  private takeRestored(lo: number, hi: number): KmclPacket | null {
    const key = restoredKey(lo, hi);
    const packet = this.restored.get(key);
    if (packet === undefined) return null;
    this.restored.delete(key);
    return waitsFor(packet, lo, hi) ? packet : null;
  }
}

function restoredKey(lo: number, hi: number): string {
  return `${lo}:${hi}`;
}

/** True while `packet` waits for the completion of the restored transaction `lo`/`hi` (an entry may outlive it). */
function waitsFor(packet: KmclPacket, lo: number, hi: number): boolean {
  const id = packet.restoredId;
  return packet.state === PACKET_AWAITING_COMPLETION && id !== null && id.lo === lo && id.hi === hi;
}

function resetPacket(packet: KmclPacket): void {
  packet.state = PACKET_IDLE;
  packet.pointer = null;
  packet.autoFree = true;
  packet.routine = null;
  packet.routineEx = null;
  packet.routineContext = undefined;
  packet.internalCompletion = null;
  packet.restoredId = null;
  packet.header = EMPTY_BYTES;
  packet.payload = EMPTY_BYTES;
  // `fill` is a runtime call even on an empty array, and most channels have no inline context.
  if (packet.inlineContext.length > 0) packet.inlineContext.fill(0);
}
