/**
 * A server under test: guest memory, a notifier that records every output in
 * order, a recording trace, and guest-side message builders.
 */
import assert from 'node:assert/strict';
import { GuestMemory } from '../../../src/memory/index.js';
import { RecordingTrace } from '../../../src/trace/index.js';
import { encodeMessage, type ChannelMessage, type MessageOfKind } from '../../../src/wire/messages/index.js';
import { WireError } from '../../../src/wire/wire-error.js';
import {
  VmbusServer,
  type MessageTarget,
  type ServerAction,
  type ServerNotifier,
  type ServerOptions,
} from '../../../src/bus/server/index.js';
import { versionResponseBytes } from './layouts.js';

/** Protocol versions, `major << 16 | minor` (openvmm-vmbus.md §2.1; protocol.rs:315-333). */
export const V = {
  V1: 0x0000_000d,
  Win7: 0x0001_0001,
  Win8: 0x0002_0004,
  Win8_1: 0x0003_0000,
  Win10: 0x0004_0000,
  Win10Rs3_0: 0x0004_0001,
  Win10Rs3_1: 0x0005_0000,
  Win10Rs4: 0x0005_0001,
  Win10Rs5: 0x0005_0002,
  Iron: 0x0005_0003,
  Copper: 0x0006_0000,
} as const;

/** Status codes on the bus (openvmm-vmbus.md §6.1; protocol.rs:31-33). */
export const STATUS_SUCCESS = 0;
export const STATUS_UNSUCCESSFUL = 0x8000_ffff;
export const STATUS_CONNECTION_REFUSED = 0xc000_0236;

/** Message connection ids: 1 standard, 4 multiclient (openvmm-vmbus.md §6.1; linux-vmbus.md §A.3.1). */
export const CONNECTION_ID = 1;
export const MULTICLIENT_CONNECTION_ID = 4;

/** Messages go to SINT 2 (vmbus_core/src/lib.rs:24). */
export const TO_VP0: MessageTarget = { vp: 0, sint: 2 };

export const PAGES = 64;
export const PAGE = 4096;

export type Output =
  | { readonly kind: 'message'; readonly bytes: Uint8Array; readonly target: MessageTarget }
  | { readonly kind: 'action'; readonly action: ServerAction };

export const sent = (bytes: Uint8Array, target: MessageTarget = TO_VP0): Output => ({ kind: 'message', bytes, target });
export const did = (action: ServerAction): Output => ({ kind: 'action', action });

/** Records every output in order; `onAction` lets a test act like a device inside the callback. */
export class RecordingNotifier implements ServerNotifier {
  readonly outputs: Output[] = [];
  onAction: ((action: ServerAction) => void) | undefined;

  sendMessage(bytes: Uint8Array, target: MessageTarget): void {
    this.outputs.push({ kind: 'message', bytes: bytes.slice(), target });
  }

  action(action: ServerAction): void {
    this.outputs.push({ kind: 'action', action });
    this.onAction?.(action);
  }

  /** Everything since the last take, in order. */
  take(): Output[] {
    return this.outputs.splice(0);
  }

  /** Only the message bytes since the last take (actions are discarded). */
  takeMessages(): Uint8Array[] {
    return this.take().flatMap((o) => (o.kind === 'message' ? [o.bytes] : []));
  }

  /** Only the actions since the last take (messages are discarded). */
  takeActions(): ServerAction[] {
    return this.take().flatMap((o) => (o.kind === 'action' ? [o.action] : []));
  }
}

export interface Env {
  readonly server: VmbusServer;
  readonly notifier: RecordingNotifier;
  readonly trace: RecordingTrace;
  readonly memory: GuestMemory;
  /** Sends guest bytes (or a message, encoded) on `connectionId`. */
  send(message: ChannelMessage | Uint8Array, connectionId?: number): void;
}

export function setup(options: Partial<Omit<ServerOptions, 'memory' | 'notifier' | 'trace'>> = {}): Env {
  const memory = new GuestMemory(PAGES);
  const notifier = new RecordingNotifier();
  const trace = new RecordingTrace();
  const server = new VmbusServer({ memory, notifier, trace, ...options });
  return {
    server,
    notifier,
    trace,
    memory,
    send: (message, connectionId) => server.receiveMessage(message instanceof Uint8Array ? message : guest(message), connectionId),
  };
}

/** A guest message's bytes, through the wire encoder (inputs only; expectations are built by hand). */
export function guest(message: ChannelMessage): Uint8Array {
  const bytes = encodeMessage(message);
  if (bytes instanceof WireError) throw bytes;
  return bytes;
}

/** InitiateContact's u64 @16 as TargetInfo: sint u8 @16, vtl u8 @17, feature_flags u32 @20 (protocol.rs:306-313). */
export function targetInfo(sint: number, vtl: number, features: number): bigint {
  return BigInt(sint) | (BigInt(vtl) << 8n) | (BigInt(features >>> 0) << 32n);
}

export interface ContactOptions {
  targetMessageVp?: number;
  interruptPageOrTargetInfo?: bigint;
  parentToChild?: bigint;
  childToParent?: bigint;
  clientId?: string;
}

/** INITIATE_CONTACT (40 bytes), or InitiateContact2 (56) when a client id is given (openvmm-vmbus.md §6.8). */
export function contact(version: number, o: ContactOptions = {}): ChannelMessage {
  const base = {
    versionRequested: version,
    targetMessageVp: o.targetMessageVp ?? 0,
    interruptPageOrTargetInfo: o.interruptPageOrTargetInfo ?? (version >= V.Win10Rs3_1 ? targetInfo(2, 0, 0) : 0n),
    parentToChildMonitorPageGpa: o.parentToChild ?? 0n,
    childToParentMonitorPageGpa: o.childToParent ?? 0n,
  };
  return o.clientId === undefined ? { kind: 'InitiateContact', ...base } : { kind: 'InitiateContact2', ...base, clientId: o.clientId };
}

/** Negotiates `version` (with Copper `features`) and checks it was accepted; clears the outputs. */
export function connect(env: Env, version: number, features = 0, o: ContactOptions = {}): void {
  const info = version >= V.Win10Rs3_1 ? targetInfo(2, 0, features) : 0n;
  env.send(contact(version, { interruptPageOrTargetInfo: info, ...o }));
  const messages = env.notifier.takeMessages();
  assert.equal(messages.length, 1);
  assert.equal(messages[0]![8], 1, 'version_supported'); // VersionResponse version_supported @8
  assert.equal(env.server.snapshot().connection, 'connected');
}

/** Connects and asks for offers; clears the outputs. */
export function connectWithOffers(env: Env, version: number, features = 0): void {
  connect(env, version, features);
  env.send({ kind: 'RequestOffers' });
  env.notifier.take();
}

/** One GPADL range as the u64 values of a range buffer: `{byte_count u32, byte_offset u32}`, then the PFNs (gparange.rs:13-18). */
export function rangeValues(byteOffset: number, byteCount: number, pfns: readonly number[]): bigint[] {
  return [BigInt(byteCount) | (BigInt(byteOffset) << 32n), ...pfns.map(BigInt)];
}

/**
 * GPADL_HEADER carrying up to 26 range values, then GPADL_BODY messages with
 * up to 28 each (linux-vmbus.md §A.3.3), `len` = all values × 8 bytes.
 */
export function gpadlMessages(channelId: number, gpadlId: number, values: readonly bigint[], count = 1): ChannelMessage[] {
  const out: ChannelMessage[] = [
    { kind: 'GpadlHeader', channelId, gpadlId, len: values.length * 8, count, range: values.slice(0, 26) },
  ];
  for (let at = 26; at < values.length; at += 28) out.push({ kind: 'GpadlBody', gpadlId, range: values.slice(at, at + 28) });
  return out;
}

/** Creates a GPADL of whole pages `pfns` on a channel and checks it succeeded; clears the outputs. */
export function createGpadl(env: Env, channelId: number, gpadlId: number, pfns: readonly number[]): void {
  for (const m of gpadlMessages(channelId, gpadlId, rangeValues(0, pfns.length * PAGE, pfns))) env.send(m);
  const messages = env.notifier.takeMessages();
  assert.equal(messages.length, 1);
  assert.equal(new DataView(messages[0]!.buffer).getUint32(16, true), STATUS_SUCCESS, 'GPADL_CREATED status');
}

export interface OpenOptions {
  openId?: number;
  gpadlId: number;
  split?: number;
  targetVp?: number;
  userData?: Uint8Array;
}

/** OPEN_CHANNEL, 148 bytes (openvmm-vmbus.md §6.7). */
export function openMessage(channelId: number, o: OpenOptions): MessageOfKind<'OpenChannel'> {
  return {
    kind: 'OpenChannel',
    channelId,
    openId: o.openId ?? channelId,
    ringBufferGpadlId: o.gpadlId,
    targetVp: o.targetVp ?? 0,
    downstreamRingBufferPageOffset: o.split ?? 2,
    userData: o.userData ?? new Uint8Array(120),
  };
}

/** The refusing VERSION_RESPONSE: 16 bytes, all zero but the type (channels.rs:2515-2572). */
export const REFUSED = versionResponseBytes({ supported: 0, selected: 0 });

/** The trace events of the server, as [kind, reason]. */
export function traced(env: Env): [string, string][] {
  return env.trace.events.map((e) => [e.kind, e.reason ?? '']);
}
