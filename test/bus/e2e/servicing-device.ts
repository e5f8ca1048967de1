/**
 * A host echo device that survives servicing: it echoes every request that
 * asks for a completion, with the same payload and transaction id, and its
 * `save` handler writes down the completions it has not yet put in the ring
 * (the ring itself is guest memory and survives on its own). A new instance
 * takes the channel back from those bytes in `restore`.
 *
 * Saved bytes: `count u32`, then per completion `transaction_id u32, length u32, payload`.
 */
import type { ChannelEndpoint, HostChannelHandlers, HostOpenRequest, HostRestoreRequest } from '../../../src/bus/index.js';
import { NTSTATUS, type NtStatus } from '../../../src/wire/ntstatus.js';
import { PACKET_TYPE } from '../../../src/wire/packet-types.js';

interface Completion {
  readonly transactionId: number;
  readonly payload: Uint8Array;
}

export interface ServicingDeviceOptions {
  /** When given, an open is answered only after this schedules its callback (a device that takes its time). */
  readonly delayOpen?: (answer: () => void) => void;
}

export class ServicingEchoDevice implements HostChannelHandlers {
  /** Requests echoed by this instance (a completion queued for each). */
  echoed = 0;
  readonly opened: number[] = [];
  readonly restored: number[] = [];
  readonly closed: number[] = [];
  readonly #channels = new Map<number, EchoChannel>();
  readonly #options: ServicingDeviceOptions;
  #stopped = false;

  constructor(options: ServicingDeviceOptions = {}) {
    this.#options = options;
  }

  open(request: HostOpenRequest): NtStatus | Promise<NtStatus> {
    const accept = (): NtStatus => {
      // A stopped instance is a host process that is gone: it answers nothing and touches no ring.
      if (this.#stopped) return NTSTATUS.STATUS_UNSUCCESSFUL;
      this.opened.push(request.channelId);
      this.#start(request.channelId, request.endpoint, []);
      return NTSTATUS.STATUS_SUCCESS;
    };
    const { delayOpen } = this.#options;
    if (delayOpen === undefined) return accept();
    return new Promise((resolve) => delayOpen(() => resolve(accept())));
  }

  restore(request: HostRestoreRequest): NtStatus {
    const backlog = decodeBacklog(request.savedState);
    if (backlog === null) return NTSTATUS.STATUS_INVALID_PARAMETER;
    this.restored.push(request.channelId);
    this.#start(request.channelId, request.endpoint, backlog);
    return NTSTATUS.STATUS_SUCCESS;
  }

  save(channelId: number): Uint8Array {
    return encodeBacklog(this.#channels.get(channelId)?.backlog ?? []);
  }

  close(channelId: number): void {
    this.#channels.get(channelId)?.stop();
    this.#channels.delete(channelId);
    this.closed.push(channelId);
  }

  /** The old host is gone: stop every channel, answer nothing more. */
  stop(): void {
    this.#stopped = true;
    for (const channel of this.#channels.values()) channel.stop();
    this.#channels.clear();
  }

  #start(channelId: number, endpoint: ChannelEndpoint, backlog: Completion[]): void {
    const channel = new EchoChannel(endpoint, backlog, () => this.echoed++);
    this.#channels.set(channelId, channel);
    // The host's incoming ring starts masked: drain once, which also unmasks it.
    channel.service();
  }
}

/** One channel's echo loop: drain requests into the backlog, write the backlog while it fits. */
class EchoChannel {
  readonly backlog: Completion[];
  readonly #endpoint: ChannelEndpoint;
  readonly #onEcho: () => void;
  readonly #unsubscribe: () => void;

  constructor(endpoint: ChannelEndpoint, backlog: Completion[], onEcho: () => void) {
    this.#endpoint = endpoint;
    this.backlog = backlog;
    this.#onEcho = onEcho;
    this.#unsubscribe = endpoint.onSignal(() => this.service());
  }

  service(): void {
    const { reader } = this.#endpoint;
    for (;;) {
      while (reader.tryRead()) {
        const packet = reader.packet;
        if (!packet.completionRequested) continue;
        this.backlog.push({ transactionId: packet.transactionIdLo, payload: packet.payload.slice() });
        this.#onEcho();
      }
      if (reader.commit()) this.#endpoint.signalPeer();
      if (reader.unmaskInterruptsIfEmpty()) break;
    }
    this.#flush();
  }

  stop(): void {
    this.#unsubscribe();
  }

  #flush(): void {
    const { writer } = this.#endpoint;
    while (this.backlog.length > 0) {
      const next = this.backlog[0]!;
      if (writer.tryWrite(PACKET_TYPE.VM_PKT_COMP, 0, next.transactionId, 0, new Uint8Array(0), next.payload)) {
        this.backlog.shift();
        continue;
      }
      // Publish what is written before waiting, or the guest may never free the space we wait for.
      if (writer.commit()) this.#endpoint.signalPeer();
      if (!writer.requestSpace()) return;
    }
    if (writer.commit()) this.#endpoint.signalPeer();
  }
}

function encodeBacklog(backlog: readonly Completion[]): Uint8Array {
  const size = 4 + backlog.reduce((sum, c) => sum + 8 + c.payload.length, 0);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, backlog.length, true);
  let at = 4;
  for (const { transactionId, payload } of backlog) {
    view.setUint32(at, transactionId, true);
    view.setUint32(at + 4, payload.length, true);
    bytes.set(payload, at + 8);
    at += 8 + payload.length;
  }
  return bytes;
}

/** The saved backlog, or null when the bytes do not hold one (a device checks what it is handed). */
function decodeBacklog(bytes: Uint8Array | null): Completion[] | null {
  if (bytes === null || bytes.length < 4) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const backlog: Completion[] = [];
  let at = 4;
  for (let n = view.getUint32(0, true); n > 0; n--) {
    if (bytes.length - at < 8) return null;
    const length = view.getUint32(at + 4, true);
    if (bytes.length - at - 8 < length) return null;
    backlog.push({ transactionId: view.getUint32(at, true), payload: bytes.slice(at + 8, at + 8 + length) });
    at += 8 + length;
  }
  return at === bytes.length ? backlog : null;
}
