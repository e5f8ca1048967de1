/**
 * Test support for the client: a recording notifier, little-endian hex pieces
 * for hand-built golden bytes, and a client driven to a connected state.
 */
import assert from 'node:assert/strict';
import { VmbusClient } from '../../../src/bus/client/index.js';
import type { ClientEvent, ClientNotifier } from '../../../src/bus/client/index.js';
import { RecordingTrace } from '../../../src/trace/index.js';
import type { TraceEvent } from '../../../src/trace/index.js';
import { hex } from '../../wire/messages/hex.js';

export { hex, zeros } from '../../wire/messages/hex.js';

/** One posted message, as hex, with its connection id. */
export interface Sent {
  readonly connectionId: number;
  readonly hex: string;
}

export class RecordingNotifier implements ClientNotifier {
  sent: Sent[] = [];
  events: ClientEvent[] = [];
  sendMessage(bytes: Uint8Array, connectionId: number): void {
    this.sent.push({ connectionId, hex: Buffer.from(bytes).toString('hex') });
  }
  event(e: ClientEvent): void {
    this.events.push(e);
  }
  /** Returns what was recorded since the last call and starts afresh. */
  take(): { sent: Sent[]; events: ClientEvent[] } {
    const taken = { sent: this.sent, events: this.events };
    this.sent = [];
    this.events = [];
    return taken;
  }
}

export interface Rig {
  readonly client: VmbusClient;
  readonly notifier: RecordingNotifier;
  readonly trace: RecordingTrace;
}

export function newRig(): Rig {
  const notifier = new RecordingNotifier();
  const trace = new RecordingTrace();
  return { client: new VmbusClient({ notifier, trace }), notifier, trace };
}

/** Little-endian hex of an unsigned integer of `bytes` bytes. */
function le(value: number | bigint, bytes: number): string {
  let v = BigInt(value);
  let out = '';
  for (let i = 0; i < bytes; i++) {
    out += (v & 0xffn).toString(16).padStart(2, '0');
    v >>= 8n;
  }
  return out;
}
export const u8 = (v: number): string => le(v, 1);
export const u16 = (v: number): string => le(v, 2);
export const u32 = (v: number): string => le(v, 4);
export const u64 = (v: number | bigint): string => le(v, 8);

/** A normalized expectation: `hex` comments and spaces stripped, as the notifier records it. */
export function wire(text: string): string {
  return Buffer.from(hex(text)).toString('hex');
}

/** The expected posting of a message on a connection. */
export function sentOn(connectionId: number, text: string): Sent {
  return { connectionId, hex: wire(text) };
}

/** Hands the client a host message written as commented hex. */
export function fromHost(rig: Rig, text: string): void {
  rig.client.receive(hex(text));
}

/** The drop traces recorded since the trace was last cleared. */
export function drops(rig: Rig): TraceEvent[] {
  return rig.trace.ofKind('message-dropped');
}

/** Asserts that the client's state rules hold. */
export function assertSound(rig: Rig): void {
  assert.deepEqual(rig.client.checkInvariants(), []);
}

// Versions (openvmm-vmbus.md §2.1; protocol.rs:315-333).
export const V1 = 0x0000_000d;
export const WIN7 = 0x0001_0001;
export const WIN8 = 0x0002_0004;
export const WIN8_1 = 0x0003_0000;
export const WIN10 = 0x0004_0000;
export const WIN10_RS3_0 = 0x0004_0001;
export const WIN10_RS3_1 = 0x0005_0000;
export const WIN10_RS4 = 0x0005_0001;
export const WIN10_RS5 = 0x0005_0002;
export const IRON = 0x0005_0003;
export const COPPER = 0x0006_0000;

// Copper feature flags (openvmm-vmbus.md §2.1; protocol.rs:153-199).
export const GUEST_SPECIFIED_SIGNAL_PARAMETERS = 0x1;
export const CHANNEL_INTERRUPT_REDIRECTION = 0x2;
export const MODIFY_CONNECTION = 0x4;
export const CLIENT_ID = 0x8;
export const PAUSE_RESUME = 0x20;
export const SERVER_SPECIFIED_MONITOR_PAGES = 0x40;

/** The server-chosen message connection id the connected rigs use (any 24-bit id, openvmm-vmbus.md §6.1). */
export const HOST_CONNECTION_ID = 0x1234;

/**
 * VERSION_RESPONSE (15): version_supported u8 @8, connection_state u8 @9, padding
 * u16 @10, selected_version_or_connection_id u32 @12 (openvmm-vmbus.md §6.8).
 */
export function versionResponse(supported: number, state: number, selected: number): string {
  return `0f000000 00000000 ${u8(supported)} ${u8(state)} 0000 ${u32(selected)}`;
}

/** VersionResponse2 appends supported_features u32 @16 (openvmm-vmbus.md §6.8). */
export function versionResponse2(connectionId: number, features: number): string {
  return `${versionResponse(1, 0, connectionId)} ${u32(features)}`;
}

/**
 * A client connected at `version`: for 5.0 and later the host names
 * HOST_CONNECTION_ID; at 6.0 it reports `hostFeatures` (VersionResponse2).
 * Offers are requested. The recordings and traces are cleared.
 */
export function connectedRig(version: number, hostFeatures = 0): Rig {
  const rig = newRig();
  assert.equal(rig.client.connect({ targetMessageVp: 0, versions: [version] }), undefined);
  const response =
    version >= COPPER
      ? versionResponse2(HOST_CONNECTION_ID, hostFeatures)
      : versionResponse(1, 0, version >= WIN10_RS3_1 ? HOST_CONNECTION_ID : version);
  fromHost(rig, response);
  assert.equal(rig.client.phase, 'connected');
  assert.equal(rig.client.requestOffers(), undefined);
  rig.notifier.take();
  rig.trace.clear();
  return rig;
}

/** Where a connected rig posts: 1 before 5.0, the host's id from 5.0 (linux-vmbus.md §A.3.1). */
export function postsTo(version: number): number {
  return version >= WIN10_RS3_1 ? HOST_CONNECTION_ID : 1;
}

// Device GUIDs (linux-vmbus.md §A.6) and their mixed-endian wire forms (Data1-3 little-endian).
export const HEARTBEAT_IC = '57164f39-9115-4e78-ab55-382f3bd5422d';
export const HEARTBEAT_IC_WIRE = '394f1657 1591 784e ab55382f3bd5422d';
export const SHUTDOWN_IC = '0e0b6031-5213-4934-818b-38d90ced39db';
export const SHUTDOWN_IC_WIRE = '31600b0e 1352 3449 818b38d90ced39db';
export const KVP_IC = 'a9a0f4e7-5a45-4d96-b827-8a841e8c03e6';
export const KVP_IC_WIRE = 'e7f4a0a9 455a 964d b8278a841e8c03e6';

export interface OfferFields {
  readonly channelId: number;
  readonly interfaceWire?: string;
  readonly instanceWire?: string;
  readonly flags?: number;
  readonly subchannelIndex?: number;
  readonly monitorId?: number;
  readonly monitorAllocated?: number;
  readonly connectionId?: number;
  /** 120 bytes as hex; default zeros. */
  readonly userDefined?: string;
}

/**
 * OFFER_CHANNEL (1), 196 bytes (openvmm-vmbus.md §6.6): interface_id @8,
 * instance_id @24, rsvd @40, flags u16 @56, mmio_megabytes u16 @58,
 * user_defined[120] @60, subchannel_index u16 @180, mmio_megabytes_optional u16
 * @182, channel_id u32 @184, monitor_id u8 @188, monitor_allocated u8 @189,
 * is_dedicated u16 @190, connection_id u32 @192.
 */
export function offer(f: OfferFields): string {
  return `
    01000000 00000000
    ${f.interfaceWire ?? HEARTBEAT_IC_WIRE}
    ${f.instanceWire ?? SHUTDOWN_IC_WIRE}
    ${'00'.repeat(16)}
    ${u16(f.flags ?? 0)} 0000
    ${f.userDefined ?? '00'.repeat(120)}
    ${u16(f.subchannelIndex ?? 0)} 0000
    ${u32(f.channelId)}
    ${u8(f.monitorId ?? 0xff)} ${u8(f.monitorAllocated ?? 0)} 0100
    ${u32(f.connectionId ?? 0x2000 + f.channelId)}
  `;
}

/** RESCIND_CHANNEL_OFFER (2): channel_id @8, 12 bytes (openvmm-vmbus.md §6.9). */
export const rescind = (channelId: number): string => `02000000 00000000 ${u32(channelId)}`;
/** ALL_OFFERS_DELIVERED (4): header only (openvmm-vmbus.md §6.9). */
export const ALL_OFFERS_DELIVERED = '04000000 00000000';
/** OPEN_CHANNEL_RESULT (6): channel_id @8, open_id @12, status @16 (openvmm-vmbus.md §6.7). */
export const openResult = (channelId: number, openId: number, status: number): string =>
  `06000000 00000000 ${u32(channelId)} ${u32(openId)} ${u32(status)}`;
/** GPADL_CREATED (10): channel_id @8, gpadl_id @12, status @16 (openvmm-vmbus.md §6.5). */
export const gpadlCreated = (channelId: number, gpadlId: number, status: number): string =>
  `0a000000 00000000 ${u32(channelId)} ${u32(gpadlId)} ${u32(status)}`;
/** GPADL_TORNDOWN (12): gpadl_id @8 (openvmm-vmbus.md §6.5). */
export const gpadlTorndown = (gpadlId: number): string => `0c000000 00000000 ${u32(gpadlId)}`;
/** UNLOAD_COMPLETE (17): header only. */
export const UNLOAD_COMPLETE = '11000000 00000000';
/** PAUSE_RESPONSE (28): header only. */
export const PAUSE_RESPONSE = '1c000000 00000000';
/** MODIFY_CHANNEL_RESPONSE (24): channel_id @8, status @12 (openvmm-vmbus.md §6.9). */
export const modifyChannelResponse = (channelId: number, status: number): string =>
  `18000000 00000000 ${u32(channelId)} ${u32(status)}`;

/** A page-aligned single-range GPADL of `pages` pages starting at `firstPfn`, ring-shaped. */
export function pagesRange(firstPfn: number, pages: number): { byteOffset: number; byteCount: number; pfns: number[] } {
  return { byteOffset: 0, byteCount: pages * 4096, pfns: Array.from({ length: pages }, (_, i) => firstPfn + i) };
}

/**
 * Offers channel `channelId` (as subchannel `channelId - 1` of one device, so ids
 * never collide as the same device), creates a ring GPADL of `pages` pages on it,
 * and accepts it; returns the GPADL id.
 */
export function channelWithRing(rig: Rig, channelId: number, pages = 4): number {
  fromHost(rig, offer({ channelId, subchannelIndex: channelId - 1 }));
  const gpadlId = rig.client.createGpadl(channelId, [pagesRange(0x100, pages)]);
  assert.equal(typeof gpadlId, 'number');
  fromHost(rig, gpadlCreated(channelId, gpadlId as number, 0));
  rig.notifier.take();
  return gpadlId as number;
}
