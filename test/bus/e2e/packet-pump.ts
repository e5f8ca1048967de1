/**
 * Moves packets through one channel endpoint the way a VMBus driver does:
 * writes in batches and signals only when the ring says so (empty → non-empty),
 * waits on the pending send size when the ring is full, and drains on every
 * signal until `unmaskInterruptsIfEmpty` says the ring is empty with the mask
 * clear (linux-vmbus.md §A.1.3-A.1.4). Used by both ends of the e2e tests.
 */
import type { ChannelEndpoint } from '../../../src/bus/index.js';
import { PACKET_FLAG_COMPLETION_REQUESTED } from '../../../src/wire/packet-descriptor.js';
import { PACKET_TYPE } from '../../../src/wire/packet-types.js';

/** One packet as it arrived, copied out of the reader's buffer. */
export interface ReceivedPacket {
  readonly packetType: number;
  readonly transactionId: number;
  readonly completionRequested: boolean;
  readonly payload: Uint8Array;
}

interface Outgoing {
  readonly payload: Uint8Array;
  readonly transactionId: number;
  /** In-band with completion requested (6, flag 1), else a completion (0xB). */
  readonly request: boolean;
}

export class PacketPump {
  readonly #endpoint: ChannelEndpoint;
  readonly #onPacket: (packet: ReceivedPacket) => void;
  readonly #outgoing: Outgoing[] = [];
  readonly #stop: () => void;
  /** Times the writer had to wait for the reader to free space. */
  waits = 0;

  constructor(endpoint: ChannelEndpoint, onPacket: (packet: ReceivedPacket) => void) {
    this.#endpoint = endpoint;
    this.#onPacket = onPacket;
    this.#stop = endpoint.onSignal(() => this.service());
  }

  /** Queues an in-band packet that asks for a completion (VM_PKT_DATA_INBAND, flag 1). */
  request(payload: Uint8Array, transactionId: number): void {
    this.#outgoing.push({ payload, transactionId, request: true });
    this.#flush();
  }

  /** Queues a completion packet (VM_PKT_COMP) echoing `transactionId`. */
  complete(payload: Uint8Array, transactionId: number): void {
    this.#outgoing.push({ payload, transactionId, request: false });
    this.#flush();
  }

  /** Drains the incoming ring and retries waiting writes: what a signal means. */
  service(): void {
    this.#drain();
    this.#flush();
  }

  /** Packets not yet in the ring. */
  get backlog(): number {
    return this.#outgoing.length;
  }

  stop(): void {
    this.#stop();
  }

  #drain(): void {
    const { reader } = this.#endpoint;
    for (;;) {
      while (reader.tryRead()) {
        const packet = reader.packet;
        this.#onPacket({
          packetType: packet.packetType,
          transactionId: packet.transactionIdLo,
          completionRequested: packet.completionRequested,
          payload: packet.payload.slice(),
        });
      }
      if (reader.commit()) this.#endpoint.signalPeer();
      if (reader.unmaskInterruptsIfEmpty()) return;
    }
  }

  #flush(): void {
    const { writer } = this.#endpoint;
    while (this.#outgoing.length > 0) {
      const next = this.#outgoing[0]!;
      const written = next.request
        ? writer.tryWriteInBand(next.payload, next.transactionId, 0, PACKET_FLAG_COMPLETION_REQUESTED)
        : writer.tryWrite(PACKET_TYPE.VM_PKT_COMP, 0, next.transactionId, 0, new Uint8Array(0), next.payload);
      if (written) {
        this.#outgoing.shift();
        continue;
      }
      // Publish what is written before waiting, or the reader may never free the space we wait for.
      if (writer.commit()) this.#endpoint.signalPeer();
      this.waits++;
      if (!writer.requestSpace()) return;
    }
    if (writer.commit()) this.#endpoint.signalPeer();
  }
}
