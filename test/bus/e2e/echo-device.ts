/**
 * A host device for the e2e tests: it accepts opens (or refuses, or answers
 * only when a gate opens) and echoes every request back as a completion with
 * the same payload and transaction id.
 */
import type { ChannelEndpoint, HostChannelHandlers, HostOpenRequest } from '../../../src/bus/index.js';
import type { TraceSink } from '../../../src/trace/index.js';
import { NTSTATUS, type NtStatus } from '../../../src/wire/ntstatus.js';
import { PacketPump } from './packet-pump.js';

export interface EchoDeviceOptions {
  /** The open answer (default STATUS_SUCCESS). */
  readonly openStatus?: NtStatus;
  /** When given, the open is answered only once this settles (a device that takes its time). */
  readonly openGate?: Promise<void>;
  /** Where the device records what it did (kind 'device-*'), with the time from `now`. */
  readonly trace?: TraceSink;
  readonly now?: () => number;
}

export class EchoDevice implements HostChannelHandlers {
  readonly opened: HostOpenRequest[] = [];
  readonly closed: number[] = [];
  /** Endpoints by channel id, kept after close for their stats. */
  readonly endpoints = new Map<number, ChannelEndpoint>();
  echoed = 0;
  readonly #pumps = new Map<number, PacketPump>();
  readonly #options: EchoDeviceOptions;

  constructor(options: EchoDeviceOptions = {}) {
    this.#options = options;
  }

  open(request: HostOpenRequest): NtStatus | Promise<NtStatus> {
    this.opened.push(request);
    const status = this.#options.openStatus ?? NTSTATUS.STATUS_SUCCESS;
    const accept = (): NtStatus => {
      if (status === NTSTATUS.STATUS_SUCCESS) this.#start(request);
      return status;
    };
    return this.#options.openGate === undefined ? accept() : this.#options.openGate.then(accept);
  }

  close(channelId: number): void {
    this.#pumps.get(channelId)?.stop();
    this.#pumps.delete(channelId);
    this.closed.push(channelId);
    this.#record('device-closed', channelId);
  }

  #start(request: HostOpenRequest): void {
    const { channelId, endpoint } = request;
    this.endpoints.set(channelId, endpoint);
    const pump = new PacketPump(endpoint, (packet) => {
      if (!packet.completionRequested) return;
      this.echoed++;
      this.#record('device-echo', channelId, packet.transactionId);
      pump.complete(packet.payload, packet.transactionId);
    });
    this.#pumps.set(channelId, pump);
    // The host's incoming ring starts masked: drain once, which also unmasks it.
    pump.service();
    this.#record('device-opened', channelId);
  }

  #record(kind: string, channelId: number, transactionId?: number): void {
    const { trace, now } = this.#options;
    trace?.emit({
      layer: 'device',
      source: 'echo',
      kind,
      detail: { channelId, time: now?.() ?? null, ...(transactionId === undefined ? {} : { transactionId }) },
    });
  }
}
