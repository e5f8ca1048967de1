/**
 * The host module of the VM tests: a trivial VSP that offers one channel per
 * guest and, through the channel's ChannelEndpoint, answers every in-band
 * packet that asks for a completion with a completion carrying the same
 * payload and the same 64-bit transaction id (the KMCL matches both halves).
 */
import type { ChannelEndpoint, HostChannelHandlers, HostOpenRequest } from '../../src/bus/index.js';
import { PACKET_TYPE } from '../../src/wire/packet-types.js';
import { NTSTATUS, type NtStatus } from '../../src/wire/ntstatus.js';
import type { HostContext, Teardown } from '../../src/vm/index.js';

/** The echo device class and instance (test GUIDs, no protocol behind them). */
export const ECHO_INTERFACE = '6f1e3c2a-7b4d-4e5f-9a0b-1c2d3e4f5a6b';
export const ECHO_INSTANCE = '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e';

interface Echo {
  readonly payload: Uint8Array;
  readonly transactionIdLo: number;
  readonly transactionIdHi: number;
}

/** One guest's echo device: what it opened, echoed and closed. */
export class EchoVsp implements HostChannelHandlers {
  readonly opened: number[] = [];
  readonly closed: number[] = [];
  echoed = 0;
  readonly #context: HostContext;
  readonly #stops = new Map<number, () => void>();

  constructor(context: HostContext) {
    this.#context = context;
  }

  open(request: HostOpenRequest): NtStatus {
    const { channelId, endpoint } = request;
    this.opened.push(channelId);
    const backlog: Echo[] = [];
    const service = (): void => this.#service(endpoint, backlog);
    this.#stops.set(channelId, endpoint.onSignal(service));
    // The host's incoming ring starts masked (src/bus/host-types.ts): drain once, which unmasks it.
    service();
    return NTSTATUS.STATUS_SUCCESS;
  }

  close(channelId: number): void {
    this.#stops.get(channelId)?.();
    this.#stops.delete(channelId);
    this.closed.push(channelId);
  }

  /** Drains the incoming ring until it is empty with the mask clear, echoing as it goes (linux-vmbus.md §A.1.3-A.1.4). */
  #service(endpoint: ChannelEndpoint, backlog: Echo[]): void {
    const { reader } = endpoint;
    for (;;) {
      while (reader.tryRead()) {
        const packet = reader.packet;
        // In-band data is type 6 (VM_PKT_DATA_INBAND, linux-vmbus.md §A.1.2).
        if (packet.packetType !== PACKET_TYPE.VM_PKT_DATA_INBAND || !packet.completionRequested) continue;
        backlog.push({ payload: packet.payload.slice(), transactionIdLo: packet.transactionIdLo, transactionIdHi: packet.transactionIdHi });
      }
      if (reader.commit()) endpoint.signalPeer();
      this.#flush(endpoint, backlog);
      if (reader.unmaskInterruptsIfEmpty()) return;
    }
  }

  /** Writes the echoes that fit; when the ring is full, asks to be signalled once the guest frees space. */
  #flush(endpoint: ChannelEndpoint, backlog: Echo[]): void {
    const { writer } = endpoint;
    while (backlog.length > 0) {
      const next = backlog[0]!;
      if (writer.tryWriteCompletion(next.payload, next.transactionIdLo, next.transactionIdHi)) {
        backlog.shift();
        this.echoed++;
        this.#context.trace.emit({ layer: 'device', source: 'echo-vsp', kind: 'device-echo', detail: { time: this.#context.scheduler.now() } });
        continue;
      }
      // Publish what is written before waiting, or the guest may never free the space we wait for.
      if (writer.commit()) endpoint.signalPeer();
      if (!writer.requestSpace()) return;
    }
    if (writer.commit()) endpoint.signalPeer();
  }
}

/** A host module that offers the echo channel and keeps each guest's device in `devices` (by guest name). */
export function echoVsp(devices: Map<string, EchoVsp>): (context: HostContext) => Teardown {
  return (context) => {
    const device = new EchoVsp(context);
    devices.set(context.guestName, device);
    const offer = context.bus.offerChannel({ interfaceId: ECHO_INTERFACE, instanceId: ECHO_INSTANCE }, device);
    // After the guest's unload the connection is gone, and the rescind completes at once.
    return () => offer.rescind();
  };
}
