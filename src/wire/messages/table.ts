/**
 * Every VMBus channel-management message, in one declarative table.
 *
 * Numbers, names, variants, gates and check_size flags follow OpenVMM's
 * `vmbus_messages!` table (vmbus_core/src/protocol.rs:58-108); struct layouts
 * follow protocol.rs:278-913 and openvmm-vmbus.md §6.5-6.9, which Linux's
 * include/linux/hyperv.h agrees with (linux-vmbus.md §A.3.3). Offsets include the
 * 8-byte header (`message_type u32 @0, padding u32 @4`). Field names are the
 * camelCase of OpenVMM's, with nested structs flattened (InitiateContact2 =
 * InitiateContact + clientId).
 *
 * Nothing else in this folder knows a message layout: the codec, the receive
 * gates, the sender's variant choice and the `ChannelMessage` types are derived
 * from this table.
 */
import type { MessageSpec } from './layout.js';
import { VMBUS_VERSION as V, FEATURE_FLAG as F } from './versions.js';

// protocol.rs:723-732 (OpenChannel): shared by OpenChannel2, which appends to it.
const OPEN_CHANNEL_FIELDS = [
  { name: 'channelId', offset: 8, kind: 'u32' },
  { name: 'openId', offset: 12, kind: 'u32' },
  { name: 'ringBufferGpadlId', offset: 16, kind: 'u32' },
  // 0xFFFFFFFF = interrupts disabled (VP_INDEX_DISABLE_INTERRUPT).
  { name: 'targetVp', offset: 20, kind: 'u32' },
  // In 4 KiB pages: where the host→guest ring starts in the ring GPADL.
  { name: 'downstreamRingBufferPageOffset', offset: 24, kind: 'u32' },
  { name: 'userData', offset: 28, kind: 'bytes', length: 120 },
] as const;

// protocol.rs:278-286 (InitiateContact).
const INITIATE_CONTACT_FIELDS = [
  { name: 'versionRequested', offset: 8, kind: 'u32' },
  { name: 'targetMessageVp', offset: 12, kind: 'u32' },
  // Interrupt page GPA before 5.0, TargetInfo (sint, vtl, feature flags) from 5.0 on.
  { name: 'interruptPageOrTargetInfo', offset: 16, kind: 'u64' },
  { name: 'parentToChildMonitorPageGpa', offset: 24, kind: 'u64' },
  { name: 'childToParentMonitorPageGpa', offset: 32, kind: 'u64' },
] as const;

// protocol.rs:345-352 (VersionResponse).
const VERSION_RESPONSE_FIELDS = [
  // Non-zero: the requested version is accepted.
  { name: 'versionSupported', offset: 8, kind: 'u8' },
  // CONNECTION_STATE.
  { name: 'connectionState', offset: 9, kind: 'u8' },
  { name: 'padding', offset: 10, kind: 'pad', length: 2 },
  // From 5.0 the message connection id the guest must use next; before, the version.
  { name: 'selectedVersionOrConnectionId', offset: 12, kind: 'u32' },
] as const;

// protocol.rs:360-363 (VersionResponse2 = VersionResponse + supported_features).
const VERSION_RESPONSE2_FIELDS = [
  ...VERSION_RESPONSE_FIELDS,
  { name: 'supportedFeatures', offset: 16, kind: 'u32' },
] as const;

// protocol.rs:826-831 (TlConnectRequest); TlConnectResult and TlConnectRequest2 start the same way.
const TL_CONNECT_FIELDS = [
  { name: 'endpointId', offset: 8, kind: 'guid' },
  { name: 'serviceId', offset: 24, kind: 'guid' },
] as const;

const CHANNEL_ID = { name: 'channelId', offset: 8, kind: 'u32' } as const;

/** The message table, by type number 1..29. Variants are listed newest first, as receivers try them. */
export const MESSAGE_TABLE = [
  {
    type: 1, name: 'OFFER_CHANNEL', direction: 'host-to-guest',
    variants: [{
      // protocol.rs:489-509; openvmm-vmbus.md §6.6.
      kind: 'OfferChannel', size: 196, minVersion: V.V1,
      fields: [
        { name: 'interfaceId', offset: 8, kind: 'guid' },
        { name: 'instanceId', offset: 24, kind: 'guid' },
        { name: 'rsvd', offset: 40, kind: 'pad', length: 16 },
        // OFFER_FLAG bits.
        { name: 'flags', offset: 56, kind: 'u16' },
        { name: 'mmioMegabytes', offset: 58, kind: 'u16' },
        { name: 'userDefined', offset: 60, kind: 'bytes', length: 120 },
        { name: 'subchannelIndex', offset: 180, kind: 'u16' },
        { name: 'mmioMegabytesOptional', offset: 182, kind: 'u16' },
        { name: 'channelId', offset: 184, kind: 'u32' },
        // 0xFF when the channel uses no monitor page.
        { name: 'monitorId', offset: 188, kind: 'u8' },
        { name: 'monitorAllocated', offset: 189, kind: 'u8' },
        { name: 'isDedicated', offset: 190, kind: 'u16' },
        // The guest→host event connection id, channelConnectionId().
        { name: 'connectionId', offset: 192, kind: 'u32' },
      ],
    }],
  },
  {
    type: 2, name: 'RESCIND_CHANNEL_OFFER', direction: 'host-to-guest',
    variants: [{ kind: 'RescindChannelOffer', size: 12, minVersion: V.V1, fields: [CHANNEL_ID] }], // protocol.rs:675-679
  },
  {
    type: 3, name: 'REQUEST_OFFERS', direction: 'guest-to-host',
    variants: [{ kind: 'RequestOffers', size: 8, minVersion: V.V1, fields: [] }], // protocol.rs:889
  },
  {
    type: 4, name: 'ALL_OFFERS_DELIVERED', direction: 'host-to-guest',
    variants: [{ kind: 'AllOffersDelivered', size: 8, minVersion: V.V1, fields: [] }], // protocol.rs:901
  },
  {
    type: 5, name: 'OPEN_CHANNEL', direction: 'guest-to-host',
    variants: [
      {
        // protocol.rs:745-758. Not check_size: once the features are negotiated a 148-byte open is an error.
        kind: 'OpenChannel2', size: 156, minVersion: V.Copper,
        features: F.GUEST_SPECIFIED_SIGNAL_PARAMETERS | F.CHANNEL_INTERRUPT_REDIRECTION,
        fields: [
          ...OPEN_CHANNEL_FIELDS,
          // Honoured only with guest_specified_signal_parameters.
          { name: 'connectionId', offset: 148, kind: 'u32' },
          { name: 'eventFlag', offset: 152, kind: 'u16' },
          // OPEN_CHANNEL_FLAG bits; honoured only with channel_interrupt_redirection.
          { name: 'flags', offset: 154, kind: 'u16' },
        ],
      },
      { kind: 'OpenChannel', size: 148, minVersion: V.V1, fields: OPEN_CHANNEL_FIELDS },
    ],
  },
  {
    type: 6, name: 'OPEN_CHANNEL_RESULT', direction: 'host-to-guest',
    variants: [{
      // protocol.rs:769-775
      kind: 'OpenResult', size: 20, minVersion: V.V1,
      fields: [CHANNEL_ID, { name: 'openId', offset: 12, kind: 'u32' }, { name: 'status', offset: 16, kind: 'u32' }],
    }],
  },
  {
    type: 7, name: 'CLOSE_CHANNEL', direction: 'guest-to-host',
    variants: [{ kind: 'CloseChannel', size: 12, minVersion: V.V1, fields: [CHANNEL_ID] }], // protocol.rs:777-781
  },
  {
    type: 8, name: 'GPADL_HEADER', direction: 'guest-to-host',
    variants: [{
      // protocol.rs:681-693; openvmm-vmbus.md §6.5.
      kind: 'GpadlHeader', size: 20, minVersion: V.V1,
      fields: [
        CHANNEL_ID,
        { name: 'gpadlId', offset: 12, kind: 'u32' },
        // Bytes of the whole range buffer, across this message and its bodies.
        { name: 'len', offset: 16, kind: 'u16' },
        // Number of GPA ranges in the buffer.
        { name: 'count', offset: 18, kind: 'u16' },
        // The first u64 values of the range buffer, unparsed (the bus assembles and parses them).
        { name: 'range', offset: 20, kind: 'u64-array' },
      ],
    }],
  },
  {
    type: 9, name: 'GPADL_BODY', direction: 'guest-to-host',
    variants: [{
      // protocol.rs:695-705. `rsvd` is Linux's msgnumber; OpenVMM ignores it.
      kind: 'GpadlBody', size: 16, minVersion: V.V1,
      fields: [
        { name: 'rsvd', offset: 8, kind: 'pad', length: 4 },
        { name: 'gpadlId', offset: 12, kind: 'u32' },
        // The next u64 values of the range buffer.
        { name: 'range', offset: 16, kind: 'u64-array' },
      ],
    }],
  },
  {
    type: 10, name: 'GPADL_CREATED', direction: 'host-to-guest',
    variants: [{
      // protocol.rs:707-713
      kind: 'GpadlCreated', size: 20, minVersion: V.V1,
      fields: [CHANNEL_ID, { name: 'gpadlId', offset: 12, kind: 'u32' }, { name: 'status', offset: 16, kind: 'u32' }],
    }],
  },
  {
    type: 11, name: 'GPADL_TEARDOWN', direction: 'guest-to-host',
    variants: [{
      // protocol.rs:789-794
      kind: 'GpadlTeardown', size: 16, minVersion: V.V1,
      fields: [CHANNEL_ID, { name: 'gpadlId', offset: 12, kind: 'u32' }],
    }],
  },
  {
    type: 12, name: 'GPADL_TORNDOWN', direction: 'host-to-guest',
    variants: [{
      // protocol.rs:796-800
      kind: 'GpadlTorndown', size: 12, minVersion: V.V1, fields: [{ name: 'gpadlId', offset: 8, kind: 'u32' }],
    }],
  },
  {
    type: 13, name: 'REL_ID_RELEASED', direction: 'guest-to-host',
    variants: [{ kind: 'RelIdReleased', size: 12, minVersion: V.V1, fields: [CHANNEL_ID] }], // protocol.rs:783-787
  },
  {
    type: 14, name: 'INITIATE_CONTACT', direction: 'guest-to-host',
    variants: [
      {
        // protocol.rs:288-295. Receivable at any time (no version yet), told apart by size.
        kind: 'InitiateContact2', size: 56, minVersion: 0, checkSize: true, sendWhen: { minVersion: V.Copper },
        fields: [...INITIATE_CONTACT_FIELDS, { name: 'clientId', offset: 40, kind: 'guid' }],
      },
      { kind: 'InitiateContact', size: 40, minVersion: 0, fields: INITIATE_CONTACT_FIELDS },
    ],
  },
  {
    type: 15, name: 'VERSION_RESPONSE', direction: 'host-to-guest',
    variants: [
      {
        // protocol.rs:365-375
        kind: 'VersionResponse3', size: 40, minVersion: 0, checkSize: true,
        sendWhen: { minVersion: V.Copper, features: F.SERVER_SPECIFIED_MONITOR_PAGES },
        fields: [
          ...VERSION_RESPONSE2_FIELDS,
          { name: '_padding', offset: 20, kind: 'pad', length: 4 },
          { name: 'parentToChildMonitorPageGpa', offset: 24, kind: 'u64' },
          { name: 'childToParentMonitorPageGpa', offset: 32, kind: 'u64' },
        ],
      },
      {
        kind: 'VersionResponse2', size: 20, minVersion: 0, checkSize: true, sendWhen: { minVersion: V.Copper },
        fields: VERSION_RESPONSE2_FIELDS,
      },
      { kind: 'VersionResponse', size: 16, minVersion: 0, fields: VERSION_RESPONSE_FIELDS },
    ],
  },
  {
    type: 16, name: 'UNLOAD', direction: 'guest-to-host',
    variants: [{ kind: 'Unload', size: 8, minVersion: V.V1, fields: [] }], // protocol.rs:893
  },
  {
    type: 17, name: 'UNLOAD_COMPLETE', direction: 'host-to-guest',
    variants: [{ kind: 'UnloadComplete', size: 8, minVersion: V.Win7, fields: [] }], // protocol.rs:897
  },
  {
    type: 18, name: 'OPEN_RESERVED_CHANNEL', direction: 'guest-to-host',
    variants: [{
      // protocol.rs:802-810
      kind: 'OpenReservedChannel', size: 28, minVersion: V.Win10,
      fields: [
        CHANNEL_ID,
        { name: 'targetVp', offset: 12, kind: 'u32' },
        { name: 'targetSint', offset: 16, kind: 'u32' },
        { name: 'ringBufferGpadl', offset: 20, kind: 'u32' },
        { name: 'downstreamPageOffset', offset: 24, kind: 'u32' },
      ],
    }],
  },
  {
    type: 19, name: 'CLOSE_RESERVED_CHANNEL', direction: 'guest-to-host',
    variants: [{
      // protocol.rs:812-818. Min version 0: reserved channels outlive the connection.
      kind: 'CloseReservedChannel', size: 20, minVersion: 0,
      fields: [CHANNEL_ID, { name: 'targetVp', offset: 12, kind: 'u32' }, { name: 'targetSint', offset: 16, kind: 'u32' }],
    }],
  },
  {
    type: 20, name: 'CLOSE_RESERVED_RESPONSE', direction: 'host-to-guest',
    variants: [{ kind: 'CloseReservedChannelResponse', size: 12, minVersion: V.Win10, fields: [CHANNEL_ID] }], // protocol.rs:820-824
  },
  {
    type: 21, name: 'TL_CONNECT_REQUEST', direction: 'guest-to-host',
    variants: [
      {
        // protocol.rs:833-838. check_size: some clients send the old form at newer versions.
        kind: 'TlConnectRequest2', size: 56, minVersion: V.Win10Rs5, checkSize: true,
        fields: [...TL_CONNECT_FIELDS, { name: 'siloId', offset: 40, kind: 'guid' }],
      },
      { kind: 'TlConnectRequest', size: 40, minVersion: V.Win10, fields: TL_CONNECT_FIELDS },
    ],
  },
  {
    type: 22, name: 'MODIFY_CHANNEL', direction: 'guest-to-host',
    variants: [{
      // protocol.rs:857-862
      kind: 'ModifyChannel', size: 16, minVersion: V.Win10Rs3_0,
      fields: [CHANNEL_ID, { name: 'targetVp', offset: 12, kind: 'u32' }],
    }],
  },
  {
    type: 23, name: 'TL_CONNECT_REQUEST_RESULT', direction: 'host-to-guest',
    variants: [{
      // protocol.rs:849-855
      kind: 'TlConnectResult', size: 44, minVersion: V.Win10Rs3_0,
      fields: [...TL_CONNECT_FIELDS, { name: 'status', offset: 40, kind: 'u32' }],
    }],
  },
  {
    type: 24, name: 'MODIFY_CHANNEL_RESPONSE', direction: 'host-to-guest',
    variants: [{
      // protocol.rs:864-869
      kind: 'ModifyChannelResponse', size: 16, minVersion: V.Iron,
      fields: [CHANNEL_ID, { name: 'status', offset: 12, kind: 'u32' }],
    }],
  },
  {
    type: 25, name: 'MODIFY_CONNECTION', direction: 'guest-to-host',
    variants: [{
      // protocol.rs:871-876
      kind: 'ModifyConnection', size: 24, minVersion: V.Copper, features: F.MODIFY_CONNECTION,
      fields: [
        { name: 'parentToChildMonitorPageGpa', offset: 8, kind: 'u64' },
        { name: 'childToParentMonitorPageGpa', offset: 16, kind: 'u64' },
      ],
    }],
  },
  {
    type: 26, name: 'MODIFY_CONNECTION_RESPONSE', direction: 'host-to-guest',
    variants: [{
      // protocol.rs:878-882
      kind: 'ModifyConnectionResponse', size: 9, minVersion: V.Copper, features: F.MODIFY_CONNECTION,
      fields: [{ name: 'connectionState', offset: 8, kind: 'u8' }],
    }],
  },
  {
    type: 27, name: 'PAUSE', direction: 'guest-to-host',
    variants: [{ kind: 'Pause', size: 8, minVersion: V.Copper, features: F.PAUSE_RESUME, fields: [] }], // protocol.rs:905
  },
  {
    type: 28, name: 'PAUSE_RESPONSE', direction: 'host-to-guest',
    variants: [{ kind: 'PauseResponse', size: 8, minVersion: V.Copper, features: F.PAUSE_RESUME, fields: [] }], // protocol.rs:909
  },
  {
    type: 29, name: 'RESUME', direction: 'guest-to-host',
    variants: [{ kind: 'Resume', size: 8, minVersion: V.Copper, features: F.PAUSE_RESUME, fields: [] }], // protocol.rs:913
  },
] as const satisfies readonly MessageSpec[];
