/**
 * Golden bytes of the connection messages, types 14-29: contact and version
 * negotiation, unload, reserved channels, hvsocket, modify, pause/resume.
 * Layouts: OpenVMM vm/devices/vmbus/vmbus_core/src/protocol.rs (commit 1488a37b,
 * line numbers beside each vector), openvmm-vmbus.md §6.8-6.9, linux-vmbus.md §A.3.3.
 */
import { hex } from './hex.js';
import { HEARTBEAT_IC, HEARTBEAT_IC_WIRE, SHUTDOWN_IC, SHUTDOWN_IC_WIRE, toGuest, toHost, vector } from './vectors-channel.js';
import type { GoldenVector } from './vectors-channel.js';

// Versions (openvmm-vmbus.md §2.1) and feature bits (§2.1, protocol.rs:153-199).
const WIN7 = 0x0001_0001;
const WIN8_1 = 0x0003_0000;
const WIN10 = 0x0004_0000;
const WIN10_RS3_0 = 0x0004_0001;
const WIN10_RS5 = 0x0005_0002;
const IRON = 0x0005_0003;
const COPPER = 0x0006_0000;
const MODIFY_CONNECTION = 0x4;
const PAUSE_RESUME = 0x20;

// More IC class GUIDs (linux-vmbus.md §A.6) and their wire forms (uuid bytes_le).
const KVP_IC = 'a9a0f4e7-5a45-4d96-b827-8a841e8c03e6';
const KVP_IC_WIRE = 'e7f4a0a9 455a 964d b8278a841e8c03e6';
const VSS_IC = '35fa2e29-ea23-4236-96ae-3a6ebacba440';
const VSS_IC_WIRE = '292efa35 23ea 3642 96ae3a6ebacba440';

export const CONNECTION_VECTORS: readonly GoldenVector[] = [
  vector({
    kind: 'InitiateContact2',
    source: 'protocol.rs:278-295, 306-313; openvmm-vmbus.md §6.8 (56 bytes)',
    ctx: toHost(null),
    bytes: hex(`
      0e000000 00000000    # @0 type 14 INITIATE_CONTACT
      00000600             # @8 version_requested Copper 6.0
      00000000             # @12 target_message_vp 0
      02 00 0000 2f000000  # @16 TargetInfo: sint 2, vtl 0, reserved, feature_flags 0x2f
      0060341200000000     # @24 parent_to_child_monitor_page_gpa 0x12346000
      0070341200000000     # @32 child_to_parent_monitor_page_gpa 0x12347000
      ${KVP_IC_WIRE}       # @40 client_id
    `),
    message: {
      kind: 'InitiateContact2',
      versionRequested: COPPER,
      targetMessageVp: 0,
      interruptPageOrTargetInfo: 0x0000_002f_0000_0002n,
      parentToChildMonitorPageGpa: 0x1234_6000n,
      childToParentMonitorPageGpa: 0x1234_7000n,
      clientId: KVP_IC,
    },
  }),
  vector({
    kind: 'InitiateContact',
    source: 'protocol.rs:278-286; openvmm-vmbus.md §6.8 (40 bytes)',
    ctx: toHost(null),
    bytes: hex(`
      0e000000 00000000    # @0 type 14 INITIATE_CONTACT
      03000500             # @8 version_requested Iron 5.3
      01000000             # @12 target_message_vp 1
      02 00 0000 00000000  # @16 TargetInfo: sint 2, vtl 0, no features
      0060341200000000     # @24 parent_to_child_monitor_page_gpa
      0070341200000000     # @32 child_to_parent_monitor_page_gpa
    `),
    message: {
      kind: 'InitiateContact',
      versionRequested: IRON,
      targetMessageVp: 1,
      interruptPageOrTargetInfo: 2n,
      parentToChildMonitorPageGpa: 0x1234_6000n,
      childToParentMonitorPageGpa: 0x1234_7000n,
    },
  }),
  vector({
    kind: 'VersionResponse3',
    source: 'protocol.rs:365-375; openvmm-vmbus.md §6.8 (40 bytes)',
    ctx: toGuest(null),
    bytes: hex(`
      0f000000 00000000    # @0 type 15 VERSION_RESPONSE
      01                   # @8 version_supported
      00                   # @9 connection_state SUCCESSFUL
      0000                 # @10 padding
      04000000             # @12 selected_version_or_connection_id: connection id 4
      6f000000             # @16 supported_features 0x6f
      00000000             # @20 _padding
      0080341200000000     # @24 parent_to_child_monitor_page_gpa 0x12348000
      0090341200000000     # @32 child_to_parent_monitor_page_gpa 0x12349000
    `),
    message: {
      kind: 'VersionResponse3',
      versionSupported: 1,
      connectionState: 0,
      selectedVersionOrConnectionId: 4,
      supportedFeatures: 0x6f,
      parentToChildMonitorPageGpa: 0x1234_8000n,
      childToParentMonitorPageGpa: 0x1234_9000n,
    },
  }),
  vector({
    kind: 'VersionResponse2',
    source: 'protocol.rs:354-363; openvmm-vmbus.md §6.8 (20 bytes)',
    ctx: toGuest(null),
    bytes: hex('0f000000 00000000 01 00 0000 04000000 2f000000'),
    message: {
      kind: 'VersionResponse2',
      versionSupported: 1,
      connectionState: 0,
      selectedVersionOrConnectionId: 4,
      supportedFeatures: 0x2f,
    },
  }),
  vector({
    kind: 'VersionResponse',
    source: 'protocol.rs:345-352; openvmm-vmbus.md §6.8 (16 bytes)',
    ctx: toGuest(null),
    // Before 5.0 the last field echoes the version (channels.rs:2538-2543): Win8.1 3.0.
    bytes: hex('0f000000 00000000 01 00 0000 00000300'),
    message: { kind: 'VersionResponse', versionSupported: 1, connectionState: 0, selectedVersionOrConnectionId: WIN8_1 },
  }),
  vector({
    kind: 'Unload',
    // OpenVMM's own conformance vector: vmbus_core/src/lib.rs:250-255 (test_outgoing_message_empty).
    source: 'vmbus_core/src/lib.rs:254; protocol.rs:891-893 (header only)',
    ctx: toHost(WIN7),
    bytes: Uint8Array.from([0x10, 0, 0, 0, 0, 0, 0, 0]),
    message: { kind: 'Unload' },
  }),
  vector({
    kind: 'UnloadComplete',
    source: 'protocol.rs:895-897; openvmm-vmbus.md §2.2 (header only, from Win7)',
    ctx: toGuest(WIN7),
    bytes: hex('11000000 00000000'),
    message: { kind: 'UnloadComplete' },
  }),
  vector({
    kind: 'OpenReservedChannel',
    source: 'protocol.rs:802-810; openvmm-vmbus.md §6.9 (28 bytes)',
    ctx: toHost(WIN10),
    bytes: hex(`
      12000000 00000000    # @0 type 18 OPEN_RESERVED_CHANNEL
      12000000             # @8 channel_id
      01000000             # @12 target_vp 1
      07000000             # @16 target_sint 7
      111e0e00             # @20 ring_buffer_gpadl 0xE1E11
      02000000             # @24 downstream_page_offset 2
    `),
    message: {
      kind: 'OpenReservedChannel',
      channelId: 0x12,
      targetVp: 1,
      targetSint: 7,
      ringBufferGpadl: 0x000e_1e11,
      downstreamPageOffset: 2,
    },
  }),
  vector({
    kind: 'CloseReservedChannel',
    source: 'protocol.rs:812-818; openvmm-vmbus.md §6.9 (20 bytes)',
    ctx: toHost(null),
    bytes: hex('13000000 00000000 12000000 01000000 07000000'),
    message: { kind: 'CloseReservedChannel', channelId: 0x12, targetVp: 1, targetSint: 7 },
  }),
  vector({
    kind: 'CloseReservedChannelResponse',
    source: 'protocol.rs:820-824; openvmm-vmbus.md §6.9 (12 bytes)',
    ctx: toGuest(WIN10),
    bytes: hex('14000000 00000000 12000000'),
    message: { kind: 'CloseReservedChannelResponse', channelId: 0x12 },
  }),
  vector({
    kind: 'TlConnectRequest2',
    source: 'protocol.rs:833-838; openvmm-vmbus.md §6.9 (56 bytes)',
    ctx: toHost(WIN10_RS5),
    bytes: hex(`
      15000000 00000000    # @0 type 21 TL_CONNECT_REQUEST
      ${KVP_IC_WIRE}       # @8 endpoint_id
      ${VSS_IC_WIRE}       # @24 service_id
      ${HEARTBEAT_IC_WIRE} # @40 silo_id
    `),
    message: { kind: 'TlConnectRequest2', endpointId: KVP_IC, serviceId: VSS_IC, siloId: HEARTBEAT_IC },
  }),
  vector({
    kind: 'TlConnectRequest',
    source: 'protocol.rs:826-831; openvmm-vmbus.md §6.9 (40 bytes)',
    ctx: toHost(WIN10),
    bytes: hex(`15000000 00000000 ${KVP_IC_WIRE} ${VSS_IC_WIRE}`),
    message: { kind: 'TlConnectRequest', endpointId: KVP_IC, serviceId: VSS_IC },
  }),
  vector({
    kind: 'ModifyChannel',
    source: 'protocol.rs:857-862; openvmm-vmbus.md §6.9 (16 bytes)',
    ctx: toHost(WIN10_RS3_0),
    bytes: hex('16000000 00000000 12000000 02000000'),
    message: { kind: 'ModifyChannel', channelId: 0x12, targetVp: 2 },
  }),
  vector({
    kind: 'TlConnectResult',
    source: 'protocol.rs:849-855; openvmm-vmbus.md §6.9 (44 bytes)',
    ctx: toGuest(WIN10_RS3_0),
    // status STATUS_CONNECTION_REFUSED 0xC0000236 (protocol.rs:33).
    bytes: hex(`17000000 00000000 ${SHUTDOWN_IC_WIRE} ${VSS_IC_WIRE} 360200c0`),
    message: { kind: 'TlConnectResult', endpointId: SHUTDOWN_IC, serviceId: VSS_IC, status: 0xc000_0236 },
  }),
  vector({
    kind: 'ModifyChannelResponse',
    source: 'protocol.rs:864-869; openvmm-vmbus.md §6.9 (16 bytes)',
    ctx: toGuest(IRON),
    bytes: hex('18000000 00000000 12000000 00000000'),
    message: { kind: 'ModifyChannelResponse', channelId: 0x12, status: 0 },
  }),
  vector({
    kind: 'ModifyConnection',
    source: 'protocol.rs:871-876; openvmm-vmbus.md §6.9 (24 bytes)',
    ctx: toHost(COPPER, MODIFY_CONNECTION),
    bytes: hex('19000000 00000000 00a0341200000000 00b0341200000000'),
    message: { kind: 'ModifyConnection', parentToChildMonitorPageGpa: 0x1234_a000n, childToParentMonitorPageGpa: 0x1234_b000n },
  }),
  vector({
    kind: 'ModifyConnectionResponse',
    source: 'protocol.rs:878-882; openvmm-vmbus.md §6.9 (9 bytes)',
    ctx: toGuest(COPPER, MODIFY_CONNECTION),
    // connection_state FAILED_LOW_RESOURCES = 1 (protocol.rs:335-343).
    bytes: hex('1a000000 00000000 01'),
    message: { kind: 'ModifyConnectionResponse', connectionState: 1 },
  }),
  vector({
    kind: 'Pause',
    source: 'protocol.rs:903-905; openvmm-vmbus.md §6.9 (header only)',
    ctx: toHost(COPPER, PAUSE_RESUME),
    bytes: hex('1b000000 00000000'),
    message: { kind: 'Pause' },
  }),
  vector({
    kind: 'PauseResponse',
    source: 'protocol.rs:907-909; openvmm-vmbus.md §6.9 (header only)',
    ctx: toGuest(COPPER, PAUSE_RESUME),
    bytes: hex('1c000000 00000000'),
    message: { kind: 'PauseResponse' },
  }),
  vector({
    kind: 'Resume',
    source: 'protocol.rs:911-913; openvmm-vmbus.md §6.9 (header only)',
    ctx: toHost(COPPER, PAUSE_RESUME),
    bytes: hex('1d000000 00000000'),
    message: { kind: 'Resume' },
  }),
];
