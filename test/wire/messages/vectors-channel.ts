/**
 * Golden bytes of the channel messages, types 1-13: offers, open/close, GPADLs.
 * Layouts: OpenVMM vm/devices/vmbus/vmbus_core/src/protocol.rs (commit 1488a37b,
 * line numbers beside each vector) and shared/reference/research/openvmm-vmbus.md
 * §6.5-6.7, which Linux include/linux/hyperv.h agrees with (linux-vmbus.md §A.3.3).
 * Integers are little-endian; GUIDs are mixed-endian (Data1-3 LE, Data4 as bytes).
 */
import type { DecodeContext, MessageKind, MessageOfKind } from '../../../src/wire/messages/index.js';
import { hex, zeros } from './hex.js';

/** One message: its bytes, its decoded form, and a receiver state that accepts it. */
export interface GoldenVector<K extends MessageKind = MessageKind> {
  readonly kind: K;
  /** Where the layout comes from. */
  readonly source: string;
  readonly ctx: DecodeContext;
  readonly bytes: Uint8Array;
  readonly message: MessageOfKind<K>;
}

/** Typed per kind, so a field name the table-derived type lacks does not compile. */
export function vector<K extends MessageKind>(v: GoldenVector<K>): GoldenVector {
  return v as unknown as GoldenVector;
}

// Versions (openvmm-vmbus.md §2.1): V1 0.13, Win10 4.0, Iron 5.3, Copper 6.0.
const V1 = 0x0000_000d;
const IRON = 0x0005_0003;
const COPPER = 0x0006_0000;

export const toHost = (version: number | null, features = 0): DecodeContext => ({ receiver: 'host', version, features });
export const toGuest = (version: number | null, features = 0): DecodeContext => ({ receiver: 'guest', version, features });

// Device class GUIDs from linux-vmbus.md §A.6 (OpenVMM protocol.rs:520-525), with
// their wire forms (Python uuid.UUID(...).bytes_le).
export const HEARTBEAT_IC = '57164f39-9115-4e78-ab55-382f3bd5422d';
export const HEARTBEAT_IC_WIRE = '394f1657 1591 784e ab55382f3bd5422d';
export const SHUTDOWN_IC = '0e0b6031-5213-4934-818b-38d90ced39db';
export const SHUTDOWN_IC_WIRE = '31600b0e 1352 3449 818b38d90ced39db';

// 120 bytes of user-defined data: a message-mode pipe (pipe_type 4 @0, flags bit 0
// gpa_direct @116; protocol.rs:570-640, openvmm-vmbus.md §6.6).
const PIPE_USER_DEFINED = new Uint8Array(120);
PIPE_USER_DEFINED.set([4, 0, 0, 0], 0);
PIPE_USER_DEFINED.set([1, 0, 0, 0], 116);
const PIPE_USER_DEFINED_WIRE = `04000000 ${zeros(112)} 01000000`;

const OPEN_USER_DATA = new Uint8Array(120);
OPEN_USER_DATA.set([0xde, 0xad, 0xbe, 0xef], 0);
const OPEN_USER_DATA_WIRE = `deadbeef ${zeros(116)}`;

// Linux's first GPADL handle (linux-vmbus.md §A.3.3: counter starts at 0xE1E10).
const GPADL = 0x000e_1e10;

export const CHANNEL_VECTORS: readonly GoldenVector[] = [
  vector({
    kind: 'OfferChannel',
    source: 'protocol.rs:489-509; openvmm-vmbus.md §6.6 (196 bytes)',
    ctx: toGuest(V1),
    bytes: hex(`
      01000000 00000000          # @0 type 1 OFFER_CHANNEL, header padding
      ${HEARTBEAT_IC_WIRE}       # @8 interface_id
      ${SHUTDOWN_IC_WIRE}        # @24 instance_id
      ${zeros(16)}               # @40 rsvd [u32; 4]
      1100                       # @56 flags: enumerate_device_interface | named_pipe_mode
      0201                       # @58 mmio_megabytes 0x0102
      ${PIPE_USER_DEFINED_WIRE}  # @60 user_defined [120]
      0300                       # @180 subchannel_index 3
      0504                       # @182 mmio_megabytes_optional 0x0405
      12000000                   # @184 channel_id 0x12
      ff                         # @188 monitor_id 0xff (unused)
      00                         # @189 monitor_allocated
      0100                       # @190 is_dedicated 1
      12200000                   # @192 connection_id 0x2012 = 0x2000 + channel id
    `),
    message: {
      kind: 'OfferChannel',
      interfaceId: HEARTBEAT_IC,
      instanceId: SHUTDOWN_IC,
      flags: 0x11,
      mmioMegabytes: 0x0102,
      userDefined: PIPE_USER_DEFINED,
      subchannelIndex: 3,
      mmioMegabytesOptional: 0x0405,
      channelId: 0x12,
      monitorId: 0xff,
      monitorAllocated: 0,
      isDedicated: 1,
      connectionId: 0x2012,
    },
  }),
  vector({
    kind: 'RescindChannelOffer',
    source: 'protocol.rs:675-679; openvmm-vmbus.md §6.9 (12 bytes)',
    ctx: toGuest(V1),
    bytes: hex('02000000 00000000 12000000'),
    message: { kind: 'RescindChannelOffer', channelId: 0x12 },
  }),
  vector({
    kind: 'RequestOffers',
    source: 'protocol.rs:887-889; openvmm-vmbus.md §6.9 (header only)',
    ctx: toHost(V1),
    bytes: hex('03000000 00000000'),
    message: { kind: 'RequestOffers' },
  }),
  vector({
    kind: 'AllOffersDelivered',
    source: 'protocol.rs:899-901; openvmm-vmbus.md §6.9 (header only)',
    ctx: toGuest(V1),
    bytes: hex('04000000 00000000'),
    message: { kind: 'AllOffersDelivered' },
  }),
  vector({
    kind: 'OpenChannel2',
    source: 'protocol.rs:745-758; openvmm-vmbus.md §6.7 (156 bytes)',
    ctx: toHost(COPPER, 0x1),
    bytes: hex(`
      05000000 00000000        # @0 type 5 OPEN_CHANNEL
      12000000                 # @8 channel_id
      34000000                 # @12 open_id
      12000080                 # @16 ring_buffer_gpadl_id 0x80000012
      03000000                 # @20 target_vp 3
      10000000                 # @24 downstream_ring_buffer_page_offset 16
      ${OPEN_USER_DATA_WIRE}   # @28 user_data [120]
      12300000                 # @148 connection_id 0x3012
      1200                     # @152 event_flag 0x12
      0100                     # @154 flags: redirect_interrupt
    `),
    message: {
      kind: 'OpenChannel2',
      channelId: 0x12,
      openId: 0x34,
      ringBufferGpadlId: 0x8000_0012,
      targetVp: 3,
      downstreamRingBufferPageOffset: 16,
      userData: OPEN_USER_DATA,
      connectionId: 0x3012,
      eventFlag: 0x12,
      flags: 1,
    },
  }),
  vector({
    kind: 'OpenChannel',
    source: 'protocol.rs:723-732; openvmm-vmbus.md §6.7 (148 bytes)',
    ctx: toHost(IRON),
    bytes: hex(`
      05000000 00000000        # @0 type 5 OPEN_CHANNEL
      12000000                 # @8 channel_id
      34000000                 # @12 open_id
      12000080                 # @16 ring_buffer_gpadl_id 0x80000012
      ffffffff                 # @20 target_vp: interrupts disabled (protocol.rs:716)
      10000000                 # @24 downstream_ring_buffer_page_offset 16
      ${OPEN_USER_DATA_WIRE}   # @28 user_data [120]
    `),
    message: {
      kind: 'OpenChannel',
      channelId: 0x12,
      openId: 0x34,
      ringBufferGpadlId: 0x8000_0012,
      targetVp: 0xffff_ffff,
      downstreamRingBufferPageOffset: 16,
      userData: OPEN_USER_DATA,
    },
  }),
  vector({
    kind: 'OpenResult',
    source: 'protocol.rs:769-775; openvmm-vmbus.md §6.7 (20 bytes)',
    ctx: toGuest(V1),
    // status 0x8000FFFF is VMBus's STATUS_UNSUCCESSFUL (protocol.rs:32).
    bytes: hex('06000000 00000000 12000000 34000000 ffff0080'),
    message: { kind: 'OpenResult', channelId: 0x12, openId: 0x34, status: 0x8000_ffff },
  }),
  vector({
    kind: 'CloseChannel',
    // OpenVMM's own conformance vector: vmbus_core/src/lib.rs:241-248 (test_outgoing_message).
    source: 'vmbus_core/src/lib.rs:247; protocol.rs:777-781 (12 bytes)',
    ctx: toHost(V1),
    bytes: Uint8Array.from([0x7, 0, 0, 0, 0, 0, 0, 0, 0x5, 0, 0, 0]),
    message: { kind: 'CloseChannel', channelId: 5 },
  }),
  vector({
    kind: 'GpadlHeader',
    source: 'protocol.rs:681-693; openvmm-vmbus.md §6.5 (20 bytes + u64 data)',
    ctx: toHost(V1),
    bytes: hex(`
      08000000 00000000     # @0 type 8 GPADL_HEADER
      12000000              # @8 channel_id
      101e0e00              # @12 gpadl_id 0xE1E10
      1800                  # @16 len: 24 bytes of range buffer in all
      0100                  # @18 count: 1 range
      00200000 00000000     # @20 range word: byte_count 0x2000, byte_offset 0
      34120000 00000000     # @28 PFN 0x1234
      35120000 00000000     # @36 PFN 0x1235
    `),
    message: {
      kind: 'GpadlHeader',
      channelId: 0x12,
      gpadlId: GPADL,
      len: 24,
      count: 1,
      range: [0x2000n, 0x1234n, 0x1235n],
    },
  }),
  vector({
    kind: 'GpadlBody',
    source: 'protocol.rs:695-705; openvmm-vmbus.md §6.5 (16 bytes + u64 data)',
    ctx: toHost(V1),
    bytes: hex(`
      09000000 00000000     # @0 type 9 GPADL_BODY
      00000000              # @8 rsvd (Linux msgnumber), zero
      101e0e00              # @12 gpadl_id 0xE1E10
      36120000 00000000     # @16 PFN 0x1236
      1032547698badcfe      # @24 0xFEDCBA9876543210
    `),
    message: { kind: 'GpadlBody', gpadlId: GPADL, range: [0x1236n, 0xfedc_ba98_7654_3210n] },
  }),
  vector({
    kind: 'GpadlCreated',
    source: 'protocol.rs:707-713; openvmm-vmbus.md §6.5 (20 bytes)',
    ctx: toGuest(V1),
    bytes: hex('0a000000 00000000 12000000 101e0e00 00000000'),
    message: { kind: 'GpadlCreated', channelId: 0x12, gpadlId: GPADL, status: 0 },
  }),
  vector({
    kind: 'GpadlTeardown',
    source: 'protocol.rs:789-794; openvmm-vmbus.md §6.5 (16 bytes)',
    ctx: toHost(V1),
    bytes: hex('0b000000 00000000 12000000 101e0e00'),
    message: { kind: 'GpadlTeardown', channelId: 0x12, gpadlId: GPADL },
  }),
  vector({
    kind: 'GpadlTorndown',
    source: 'protocol.rs:796-800; openvmm-vmbus.md §6.5 (12 bytes)',
    ctx: toGuest(V1),
    bytes: hex('0c000000 00000000 101e0e00'),
    message: { kind: 'GpadlTorndown', gpadlId: GPADL },
  }),
  vector({
    kind: 'RelIdReleased',
    source: 'protocol.rs:783-787; openvmm-vmbus.md §6.9 (12 bytes)',
    ctx: toHost(V1),
    bytes: hex('0d000000 00000000 12000000'),
    message: { kind: 'RelIdReleased', channelId: 0x12 },
  }),
];
