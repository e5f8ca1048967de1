/**
 * VMBus channel-management messages: one declarative table (table.ts) and
 * everything derived from it: codec, receive gates, sender variant choice,
 * TypeScript types. Plus protocol versions, feature flags and transport constants.
 */
export { MESSAGE_TABLE } from './table.js';
export type { Direction, FieldKind, FieldSpec, FieldValueByKind, Gate, MessageSpec, ScalarKind, VariantSpec } from './layout.js';
export type { ChannelMessage, KindOfType, MessageKind, MessageOfKind, MessageTypeName, MessageTypeNumbers } from './types.js';
export { MESSAGE_TYPE, messageSpecOfName, messageSpecOfType, messageTypeOf, variantOfKind } from './catalog.js';
export { decodeMessage, type DecodeContext } from './decode.js';
export { encodeMessage } from './encode.js';
export {
  gateAllows,
  initiateContactKind,
  messageAllowed,
  openChannelKind,
  senderKind,
  tlConnectRequestKind,
  versionResponseKind,
} from './gates.js';
export {
  CONNECTION_STATE,
  OFFER_FLAG,
  OPEN_CHANNEL_FLAG,
  VP_INDEX_DISABLE_INTERRUPT,
  decodeTargetInfo,
  encodeTargetInfo,
  type TargetInfo,
} from './field-values.js';
export {
  MAX_MESSAGE_SIZE,
  MESSAGE_HEADER_SIZE,
  VMBUS_EVENT_CONNECTION_ID,
  VMBUS_MESSAGE_CONNECTION_ID,
  VMBUS_MESSAGE_CONNECTION_ID_MULTICLIENT,
  VMBUS_MESSAGE_REDIRECT_CONNECTION_ID,
  VMBUS_MESSAGE_TYPE,
  VMBUS_SINT,
  channelConnectionId,
} from './transport.js';
export {
  ALL_FEATURE_FLAGS,
  FEATURE_FLAG,
  VMBUS_VERSION,
  VMBUS_VERSIONS,
  formatVersion,
  isKnownVersion,
  makeVersion,
  parseVersion,
  versionName,
  type FeatureFlagName,
  type VmbusVersion,
  type VmbusVersionName,
} from './versions.js';
