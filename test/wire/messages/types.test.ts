import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage } from '../../../src/wire/messages/index.js';
import type { ChannelMessage, KindOfType, MessageKind, MessageOfKind } from '../../../src/wire/messages/index.js';

// Compile-time checks: these aliases fail to compile if the table-derived types drift.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

// OpenChannel2 = OpenChannel + connection_id, event_flag, flags (protocol.rs:723-758).
export type OpenChannel2Shape = Expect<
  Equal<
    MessageOfKind<'OpenChannel2'>,
    {
      kind: 'OpenChannel2';
      channelId: number;
      openId: number;
      ringBufferGpadlId: number;
      targetVp: number;
      downstreamRingBufferPageOffset: number;
      userData: Uint8Array;
      connectionId: number;
      eventFlag: number;
      flags: number;
    }
  >
>;
// VersionResponse2 = VersionResponse + supported_features; padding is not a field (protocol.rs:345-363).
export type VersionResponse2Shape = Expect<
  Equal<
    MessageOfKind<'VersionResponse2'>,
    { kind: 'VersionResponse2'; versionSupported: number; connectionState: number; selectedVersionOrConnectionId: number; supportedFeatures: number }
  >
>;
// InitiateContact2 = InitiateContact + client_id GUID (protocol.rs:278-295).
export type InitiateContact2Shape = Expect<
  Equal<
    MessageOfKind<'InitiateContact2'>,
    {
      kind: 'InitiateContact2';
      versionRequested: number;
      targetMessageVp: number;
      interruptPageOrTargetInfo: bigint;
      parentToChildMonitorPageGpa: bigint;
      childToParentMonitorPageGpa: bigint;
      clientId: string;
    }
  >
>;
// GPADL data stays raw u64 values (protocol.rs:681-705).
export type GpadlBodyShape = Expect<Equal<MessageOfKind<'GpadlBody'>, { kind: 'GpadlBody'; gpadlId: number; range: bigint[] }>>;
export type EmptyShape = Expect<Equal<MessageOfKind<'Pause'>, { kind: 'Pause' }>>;
export type VersionResponseKinds = Expect<Equal<KindOfType<'VERSION_RESPONSE'>, 'VersionResponse3' | 'VersionResponse2' | 'VersionResponse'>>;
export type KindCount = Expect<Equal<MessageOfKind<MessageKind>, ChannelMessage>>;

test('ChannelMessage narrows by kind to the fields of that variant', () => {
  // CLOSE_CHANNEL, channel 5: OpenVMM vmbus_core/src/lib.rs:247.
  const m = decodeMessage(Uint8Array.from([7, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0]));
  const describe = (msg: ChannelMessage): string => {
    switch (msg.kind) {
      case 'CloseChannel':
        return `close ${msg.channelId}`;
      case 'GpadlBody':
        return `body ${msg.range.length}`;
      default:
        return msg.kind;
    }
  };
  assert.ok(!(m instanceof Error));
  assert.equal(describe(m), 'close 5');
});
