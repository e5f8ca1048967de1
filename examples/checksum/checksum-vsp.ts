/**
 * The host side of the example: a small VSP on the host bus. It offers the
 * checksum device, answers the guest's requests over the channel's rings,
 * reads GPA-direct external data straight from guest memory, maps the GPADL
 * the guest shares, and greets the guest with a packet of its own. Everything
 * the guest sends is checked before use: the guest is not trusted.
 */
import type { ChannelEndpoint, HostBus, HostChannelHandlers, HostOpenRequest } from '../../src/bus/index.js';
import { MemoryError, PagedBuffer, gpaRangesFromWire, type GpadlMapping, type GuestMemory } from '../../src/memory/index.js';
import type { HostModule } from '../../src/vm/index.js';
import { NTSTATUS, type NtStatus } from '../../src/wire/ntstatus.js';
import { PACKET_FLAG_COMPLETION_REQUESTED } from '../../src/wire/packet-descriptor.js';
import { PACKET_TYPE } from '../../src/wire/packet-types.js';
import { WireError } from '../../src/wire/wire-error.js';
import {
  CHECKSUM_INSTANCE,
  CHECKSUM_INTERFACE,
  GREETING,
  MESSAGE_SIZE,
  OP,
  PROTOCOL_VERSION,
  RESULT,
  decodeMessage,
  encodeMessage,
  fnv1a,
  type Message,
} from './protocol.js';

/** What the host saw: the example's observable results on the host side. */
export interface VspRecord {
  versionsAsked: number[];
  /** ECHO payloads (padded to 8 bytes, as the ring carries them). */
  echoes: number[][];
  /** CHECKSUM requests: bytes read from the guest's pages and their FNV-1a. */
  checksums: { byteCount: number; checksum: number }[];
  /** GPADLs the guest created on the channel (its ring's among them). */
  gpadlsCreated: number[];
  /** SHARE requests: the GPADL mapped and the greeting bytes written into it. */
  shares: { gpadlId: number; written: number }[];
  /** The sequence numbers the guest echoed in its WELCOME completions. */
  welcomeAcks: number[];
  /** Packets refused as malformed. */
  refused: number;
  closed: number;
}

/** Sequence number of the WELCOME the host sends after VERSION. */
export const WELCOME_SEQUENCE = 42;
const WELCOME_TRANSACTION_ID = 1;
const NO_HEADER = new Uint8Array(0);

export class ChecksumVsp implements HostChannelHandlers {
  readonly record: VspRecord = {
    versionsAsked: [],
    echoes: [],
    checksums: [],
    gpadlsCreated: [],
    shares: [],
    welcomeAcks: [],
    refused: 0,
    closed: 0,
  };
  readonly #bus: HostBus;
  readonly #memory: GuestMemory;
  #endpoint: ChannelEndpoint | null = null;
  #channelId = 0;
  #stopSignals: (() => void) | null = null;
  /** Packets waiting for room in the guest's ring: type, flags, transaction id (low, high), payload. */
  readonly #outgoing: [number, number, number, number, Uint8Array][] = [];
  readonly #mappings = new Map<number, GpadlMapping>();

  constructor(bus: HostBus, guestMemory: GuestMemory) {
    this.#bus = bus;
    this.#memory = guestMemory;
  }

  open(request: HostOpenRequest): NtStatus {
    this.#endpoint = request.endpoint;
    this.#channelId = request.channelId;
    this.#stopSignals = request.endpoint.onSignal(() => this.#service());
    // The host's incoming ring starts masked: drain once, which unmasks it.
    this.#service();
    return NTSTATUS.STATUS_SUCCESS;
  }

  close(): void {
    this.#stopSignals?.();
    this.#endpoint = null;
    this.#outgoing.length = 0;
    for (const mapping of this.#mappings.values()) this.#bus.unmapGpadl(mapping);
    this.#mappings.clear();
    this.record.closed++;
  }

  gpadlCreated(_channelId: number, gpadlId: number): void {
    this.record.gpadlsCreated.push(gpadlId);
  }

  /** The guest tears a GPADL down while the channel is open: stop using it; GPADL_TORNDOWN goes back once it is unmapped. */
  gpadlTeardown(_channelId: number, gpadlId: number): void {
    const mapping = this.#mappings.get(gpadlId);
    this.#mappings.delete(gpadlId);
    if (mapping !== undefined) this.#bus.unmapGpadl(mapping);
  }

  /** Drains the incoming ring (until it is empty with the mask clear), then writes what waits. */
  #service(): void {
    const endpoint = this.#endpoint;
    if (endpoint === null) return;
    const reader = endpoint.reader;
    do {
      while (reader.tryRead()) this.#handle();
      if (reader.commit()) endpoint.signalPeer();
    } while (!reader.unmaskInterruptsIfEmpty());
    this.#flush();
  }

  #handle(): void {
    const packet = this.#endpoint!.reader.packet;
    const { packetType, transactionIdLo } = packet;
    if (packetType === PACKET_TYPE.VM_PKT_COMP) {
      const ack = decodeMessage(packet.payload);
      if (ack !== null && transactionIdLo === WELCOME_TRANSACTION_ID) this.record.welcomeAcks.push(ack[1]);
      return;
    }
    const message = decodeMessage(packet.payload);
    let answer: Uint8Array | null = null;
    if (message === null) answer = null;
    else if (packetType === PACKET_TYPE.VM_PKT_DATA_INBAND) answer = this.#inBand(message, packet.payload);
    else if (packetType === PACKET_TYPE.VM_PKT_DATA_USING_GPA_DIRECT && message[0] === OP.CHECKSUM) answer = this.#checksum(message[1]);
    if (answer === null) {
      this.record.refused++;
      answer = encodeMessage([RESULT.BAD_REQUEST, 0, 0, 0]);
    }
    if (packet.completionRequested) this.#queue(PACKET_TYPE.VM_PKT_COMP, 0, transactionIdLo, packet.transactionIdHi, answer);
  }

  /** The answer to an in-band request, or null when it is malformed. */
  #inBand([op, a, b]: Message, payload: Uint8Array): Uint8Array | null {
    switch (op) {
      case OP.VERSION: {
        this.record.versionsAsked.push(a);
        const accepted = a === PROTOCOL_VERSION;
        if (accepted) this.#queue(PACKET_TYPE.VM_PKT_DATA_INBAND, PACKET_FLAG_COMPLETION_REQUESTED, WELCOME_TRANSACTION_ID, 0, encodeMessage([OP.WELCOME, WELCOME_SEQUENCE, 0, 0]));
        return encodeMessage([accepted ? RESULT.OK : RESULT.BAD_REQUEST, PROTOCOL_VERSION, 0, 0]);
      }
      case OP.ECHO: {
        const bytes = payload.slice(MESSAGE_SIZE);
        this.record.echoes.push([...bytes]);
        return bytes;
      }
      case OP.SHARE:
        return this.#share(a, b);
      default:
        return null;
    }
  }

  /** Reads the GPA-direct ranges the guest sent, from guest memory, and checksums `byteCount` bytes of them. */
  #checksum(byteCount: number): Uint8Array | null {
    const decoded = this.#endpoint!.reader.packet.decode();
    if (decoded instanceof WireError || decoded.packetType !== PACKET_TYPE.VM_PKT_DATA_USING_GPA_DIRECT) return null;
    const buffer = PagedBuffer.fromRanges(this.#memory, gpaRangesFromWire(decoded.ranges));
    if (buffer instanceof MemoryError || byteCount > buffer.byteLength) return null;
    const bytes = new Uint8Array(byteCount);
    buffer.copyTo(0, bytes);
    const checksum = fnv1a(bytes);
    this.record.checksums.push({ byteCount, checksum });
    return encodeMessage([RESULT.OK, byteCount, checksum, 0]);
  }

  /** Maps the guest's GPADL (it stays mapped until the guest tears it down) and writes the greeting into it. */
  #share(gpadlId: number, byteCount: number): Uint8Array | null {
    const mapping = this.#mappings.get(gpadlId) ?? this.#bus.mapGpadl(this.#channelId, gpadlId, { writable: true });
    if (mapping instanceof MemoryError) return null;
    this.#mappings.set(gpadlId, mapping);
    const greeting = new TextEncoder().encode(GREETING).subarray(0, Math.min(byteCount, mapping.byteLength));
    if (mapping.write(0, greeting) !== undefined) return null;
    this.record.shares.push({ gpadlId, written: greeting.length });
    return encodeMessage([RESULT.OK, greeting.length, 0, 0]);
  }

  #queue(type: number, flags: number, lo: number, hi: number, payload: Uint8Array): void {
    this.#outgoing.push([type, flags, lo, hi, payload]);
  }

  /** Writes waiting packets until the ring is full (then waits for the guest to make room). */
  #flush(): void {
    const endpoint = this.#endpoint;
    if (endpoint === null) return;
    const writer = endpoint.writer;
    while (this.#outgoing.length > 0) {
      const [type, flags, lo, hi, payload] = this.#outgoing[0]!;
      if (writer.tryWrite(type, flags, lo, hi, NO_HEADER, payload)) {
        this.#outgoing.shift();
        continue;
      }
      if (writer.commit()) endpoint.signalPeer();
      if (!writer.requestSpace()) return;
    }
    if (writer.commit()) endpoint.signalPeer();
  }
}

/**
 * The host module (createVm): offers the checksum device to the guest and
 * keeps its VSP in `vsps` under the guest's name, for whoever runs the example.
 */
export function checksumHost(vsps: Map<string, ChecksumVsp>): HostModule {
  return (context) => {
    const vsp = new ChecksumVsp(context.bus, context.guestMemory);
    vsps.set(context.guestName, vsp);
    const offer = context.bus.offerChannel({ interfaceId: CHECKSUM_INTERFACE, instanceId: CHECKSUM_INSTANCE }, vsp);
    return () => offer.rescind();
  };
}
